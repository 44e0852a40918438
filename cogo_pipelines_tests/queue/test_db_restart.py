"""The database goes away under running runners (``kill -9`` of the postmaster, as a crash or
an OOM kill would) and comes back: runners, the sidecar and the Dagster sensor ride it out.

These tests run their own embedded server (``own_pg``), so stopping it does not disturb the
session's shared one."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from cogo_pipelines import settings as settings_module
from cogo_pipelines.queue import jobs
from cogo_pipelines.store import db

from .conftest import start_runner, wait_for

JOBS = 100


class OwnPostgres:
    def __init__(self, server) -> None:
        self.server = server
        self.pgdata = Path(server.pgdata)

    def postmaster_pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().split()[0])

    def kill(self) -> None:
        """``kill -9`` the postmaster (its backends notice and exit on their own)."""
        pid = self.postmaster_pid()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), timeout=30, every=0.05)

    def start(self) -> None:
        """Start it again, as an operator or a supervisor would; retried while the old
        backends still hold the shared memory."""
        deadline = time.monotonic() + 60
        while True:
            self._drop_stale_pid_file()
            try:
                with self.server._lock:
                    self.server.ensure_postgres_running()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


    def _drop_stale_pid_file(self) -> None:
        """A killed postmaster stays a zombie until its parent reaps it; where PID 1 reaps
        lazily (some CI containers), pgserver and postgres both take the zombie's pid for a
        live server and skip starting or refuse to. Lock files (``postmaster.pid`` and the
        socket's ``.s.PGSQL.*.lock``) naming a dead or zombie process are stale: remove them,
        as an operator would."""
        for lock in [self.pgdata / "postmaster.pid", *self.pgdata.glob(".s.PGSQL.*.lock")]:
            try:
                pid = int(lock.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                lock.unlink(missing_ok=True)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


@pytest.fixture
def own_pg(tmp_path, monkeypatch):
    import pgserver

    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE cogo_restart")
    url = server.get_uri("cogo_restart")
    with psycopg.connect(url, row_factory=dict_row) as conn:
        db.migrate(conn)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("COGO_HOME", str(tmp_path / "cogo_home"))
    settings_module.reload_settings()
    pg = OwnPostgres(server)
    pg.url = url
    yield pg
    settings_module.reload_settings()
    try:
        pg.start()
    finally:
        server.cleanup()


def _count(url: str, where: str) -> int:
    with psycopg.connect(url) as c:
        return c.execute(f"SELECT count(*) FROM jobs WHERE {where}").fetchone()[0]


def _try_count(url: str, where: str) -> int | None:
    try:
        return _count(url, where)
    except psycopg.Error:
        return None


@pytest.mark.slow
def test_runners_ride_out_a_database_restart_and_every_job_ends_once(own_pg, tmp_path):
    url = own_pg.url
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as c, c.transaction():
        every = [jobs.enqueue(c, "noop", {"sleep_s": 0.1}, max_attempts=5) for _ in range(JOBS)]
    logs = [tmp_path / f"runner{i}.log" for i in range(3)]
    procs = [start_runner("--executor-id", "cogo-work", "--poll-seconds", "0.5", "--log-file", str(log),
                          env={"LEASE_SECONDS": "6"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for log in logs]
    try:
        # every runner is up (under load one may still be starting when the others have done 15
        # jobs: a runner that cannot reach its database at start-up exits 2, by design) ...
        wait_for(lambda: all(log.exists() and "runner started" in log.read_text() for log in logs),
                 timeout=120, every=0.1)
        # ... and working
        wait_for(lambda: (_try_count(url, "status = 'succeeded'") or 0) >= 15, timeout=60, every=0.05)
        own_pg.kill()
        time.sleep(2.0)  # the database stays away for a while; the runners keep their jobs
        exited = [(p.returncode, p.stderr.read()[-3000:]) for p in procs if p.poll() is not None]
        assert not exited, f"a runner exited when its database went away: {exited}"
        own_pg.start()
        wait_for(lambda: _try_count(url, "status IN ('queued', 'running')") == 0, timeout=90, every=0.2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        exits = [p.wait(30) for p in procs]
        errs = [p.stderr.read() for p in procs]
    assert exits == [0, 0, 0], errs

    with psycopg.connect(url, row_factory=dict_row) as c:
        rows = {r["id"]: r for r in c.execute("SELECT * FROM jobs").fetchall()}
        terminal = c.execute("SELECT job_id, count(*) AS n FROM job_events"
                             " WHERE event IN ('succeeded', 'failed', 'dead') GROUP BY job_id").fetchall()
    assert sorted(rows) == sorted(every)
    assert {r["status"] for r in rows.values()} == {"succeeded"}
    assert len(terminal) == JOBS and all(t["n"] == 1 for t in terminal), "a job ended twice"
    text = "".join(log.read_text() for log in logs)
    assert "lost the database connection" in text and "reconnected to the database" in text


def test_sidecar_serves_again_as_soon_as_the_database_is_back(own_pg):
    import httpx

    from cogo_pipelines.server import create_app
    from cogo_pipelines_tests.server.conftest import start_server, stop_server

    server, thread, base = start_server(create_app(settings_module.get_settings()))
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(4):  # the pool opens several connections
                assert client.get("/api/jobs").status_code == 200
            own_pg.kill()
            down = client.get("/api/jobs")
            assert down.status_code == 503 and down.headers["content-type"].startswith("application/json")
            own_pg.start()
            codes = [client.get("/api/jobs").status_code for _ in range(12)]
    finally:
        stop_server(server, thread)
    assert codes == [200] * 12, codes


def test_dagster_sensor_waits_out_a_short_outage(own_pg):
    import dagster as dg

    from cogo_pipelines.defs.quality.sensors import q1_gate_failure_sensor
    from cogo_pipelines.defs.shared.resources import PostgresResource

    own_pg.kill()
    restart = threading.Timer(1.5, own_pg.start)
    restart.start()
    try:
        with dg.build_sensor_context(resources={"postgres": PostgresResource(database_url=own_pg.url)}) as context:
            result = q1_gate_failure_sensor(context)
    finally:
        restart.join()
    assert isinstance(result, dg.SkipReason)


@pytest.mark.slow
def test_cogo_index_says_in_one_line_that_the_store_went_away_and_a_rerun_completes(own_pg, tmp_path):
    """``cogo index`` with the store killed under it (after its graph stage committed) ends with
    one line on stderr, not a traceback; run again once the store is back, it completes the
    index, as a run that was never interrupted would."""
    from .conftest import COGO

    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    for i in range(150):  # enough chunks that the run is still going when the store dies
        body = "\n".join(f"export function f{i}_{j}(x: number): number {{\n  return x * {j} + {i};\n}}\n"
                         for j in range(40))
        (repo / "src" / f"m{i}.ts").write_text(body)
    run = subprocess.Popen([*COGO, "index", str(repo), "--name", "r"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        wait_for(lambda: (_try_rows(own_pg.url, "ast_nodes") or 0) > 0 or run.poll() is not None,
                 timeout=120, every=0.05)
        assert run.poll() is None, "the run ended before the store could be killed under it"
        own_pg.kill()
        _out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    lines = [line for line in err.splitlines() if line.startswith("cogo: ")]
    assert run.returncode == 2 and "Traceback" not in err, err[-3000:]
    assert lines == [lines[0]] and lines[0].startswith("cogo: error: lost the connection to the store: ")
    own_pg.start()
    again = subprocess.run([*COGO, "index", str(repo), "--name", "r", "--json"], capture_output=True, text=True,
                           timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    with psycopg.connect(own_pg.url, row_factory=dict_row) as c:
        counts = c.execute("SELECT (SELECT count(*) FROM files WHERE repo = 'r') AS files,"
                           " (SELECT count(*) FROM ast_nodes WHERE repo = 'r' AND kind = 'function') AS functions,"
                           " (SELECT count(*) FROM code_chunks WHERE repo = 'r' AND embedding IS NULL) AS unembedded,"
                           " (SELECT count(DISTINCT path) FROM code_chunks WHERE repo = 'r') AS chunked").fetchone()
    assert counts == {"files": 150, "functions": 150 * 40, "unembedded": 0, "chunked": 150}


def _try_rows(url: str, table: str) -> int | None:
    try:
        with psycopg.connect(url) as c:
            return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except psycopg.Error:
        return None
