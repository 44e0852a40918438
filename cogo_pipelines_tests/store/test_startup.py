"""Many ``cogo`` processes starting at once on one embedded store (issue 18, item 6).

Real processes on a real embedded PostgreSQL under a fresh ``COGO_HOME`` (no ``DATABASE_URL``):
before the start-up lock, two commands on a fresh store both ran ``pg_ctl restart`` and one of
them failed (6 processes: 3 of 3 trials had 1-5 failures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cogo_pipelines.store import db

from ..conftest import REPO_ROOT

PROCESSES = 6


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["COGO_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


def _all_at_once(home: Path, cwd: Path) -> list[subprocess.CompletedProcess]:
    """``cogo jobs list --json`` in PROCESSES processes started together (cwd without a .env)."""
    procs = [subprocess.Popen([sys.executable, "-m", "cogo_pipelines.cli", "jobs", "list", "--json"], cwd=cwd,
                              env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(PROCESSES)]
    done = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def _stop(pg_dir: Path) -> None:
    import pgserver
    from pgserver._commands import pg_ctl

    server = pgserver.get_server(pg_dir, cleanup_mode=None)
    pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user)


@pytest.fixture
def home(tmp_path: Path):
    home = tmp_path / "home"
    yield home
    if (home / "pg" / "postmaster.pid").exists():
        _stop(home / "pg")


def test_concurrent_commands_on_a_fresh_then_a_stopped_store_all_succeed(home: Path, tmp_path: Path):
    for phase in ("fresh", "stopped"):
        results = _all_at_once(home, tmp_path)
        failed = [(r.returncode, r.stderr.strip()[-300:]) for r in results if r.returncode != 0]
        assert not failed, f"{phase} store: {len(failed)}/{PROCESSES} failed: {failed}"
        assert all(r.stdout.strip() == "[]" for r in results)
        assert not any(r.stderr.strip() for r in results), [r.stderr for r in results]
        uri = db.embedded_uri(home / "pg")
        with psycopg.connect(uri) as conn:
            settings = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in db.EMBEDDED_SETTINGS}
        assert settings == db.EMBEDDED_SETTINGS, phase
        db._embedded_uris.clear()
        _stop(home / "pg")
    assert (home / "pg.lock").exists()


def test_settings_are_applied_once(tmp_path: Path):
    """A second start-up in the same folder changes nothing and restarts nothing."""
    pg = tmp_path / "pg"
    uri = db.embedded_uri(pg)
    try:
        with psycopg.connect(uri) as conn:
            started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]
        db._embedded_uris.clear()
        assert db.embedded_uri(pg) == uri
        with psycopg.connect(uri) as conn:
            assert conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0] == started
    finally:
        db._embedded_uris.clear()
        _stop(pg)
