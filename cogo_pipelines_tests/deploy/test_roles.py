"""The commands the compose files give each role, run for real against the test database.

Each runner role is started exactly as its compose `command:` says (plus ``--once``), with the
role's environment from the compose file, so a renamed flag or a role that cannot handle its job
types fails here rather than on the server.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from cogo_pipelines.queue import jobs
from cogo_pipelines.settings import Settings
from cogo_pipelines_tests.deploy.helpers import (
    DEVPC_COMPOSE,
    ENV_EXAMPLE,
    REPO_ROOT,
    SERVER_COMPOSE,
    VENV_BIN,
    environment,
    load_compose,
)


def _role_env(service: dict, database_url: str, cogo_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "VAULT_", "LOG_"))}
    for key, value in environment(service).items():
        if "${" not in value and not key.startswith("LOG_") and key not in ("COGO_HOME", "RUNNER_WORK_DIR"):
            env[key] = value
    env.update(DATABASE_URL=database_url, COGO_HOME=str(cogo_home), PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    return env


def _run_role(compose_file: Path, name: str, database_url: str, tmp_path: Path, **extra_env: str):
    service = load_compose(compose_file)["services"][name]
    env = _role_env(service, database_url, tmp_path / "cogo_home")
    env.update(extra_env)
    command = [*service["command"], "--once"]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, check=False, capture_output=True, text=True, timeout=120)


def _job(database_url: str, job_id: int) -> dict:
    """Read through a new connection: what the runner process committed, nothing cached."""
    with psycopg.connect(database_url, row_factory=dict_row) as fresh:
        return jobs.get_job(fresh, job_id)


def test_env_example_copied_as_is_is_a_valid_configuration(monkeypatch, tmp_path):
    """`cp .env.example .env` must not break a role: blank values mean unset."""
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)
    assert settings.log_file is None
    assert settings.runner_work_dir is None
    assert settings.traces_dir == settings.cogo_home / "traces"
    assert settings.q1_threshold == 0.70


def test_plan_runner_role_plans_a_quality_run(conn, database_url, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    plan_id = jobs.enqueue(conn, "plan.quality", {"targets": [str(target)], "command": "true"})
    conn.commit()
    done = _run_role(SERVER_COMPOSE, "plan-runner", database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    plan = _job(database_url, plan_id)
    assert plan["status"] == "succeeded", (plan, done.stderr)
    planned = plan["result"]
    builds = [_job(database_url, i) for i in planned["build_job_ids"]]
    assert [b["executor_id"] for b in builds] == ["cogo-work"]
    assert _job(database_url, planned["q1_job_id"])["type"] == "quality.q1"


def test_devpc_work_runner_role_runs_a_build(conn, database_url, tmp_path):
    target = tmp_path / "tree"
    target.mkdir()
    (target / "package.json").write_text(json.dumps({"name": "t"}))
    build_id = jobs.enqueue(conn, "code.build.test", {"command": "echo '5 passed in 0.01s'", "cwd": str(target)})
    conn.commit()
    done = _run_role(DEVPC_COMPOSE, "work-runner", database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    build = _job(database_url, build_id)
    assert build["status"] == "succeeded", build
    assert build["executor_id"] == "cogo-work"


@pytest.mark.parametrize("job_type", ["code.build.test", "plan.quality"])
def test_quality_runner_role_never_takes_other_work(conn, database_url, tmp_path, job_type):
    job_id = jobs.enqueue(conn, job_type, {"command": "true", "targets": ["x"]}, executor_id="cogo-work"
                          if job_type.startswith("code.") else None)
    conn.commit()
    done = _run_role(SERVER_COMPOSE, "quality-runner", database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert _job(database_url, job_id)["status"] == "queued"


def test_quality_runner_role_aggregates_the_gate(conn, database_url, tmp_path):
    job_id = jobs.enqueue(conn, "quality.q1", {"allow_empty": True}, executor_id="cogo-work")
    conn.commit()
    done = _run_role(SERVER_COMPOSE, "quality-runner", database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    job = _job(database_url, job_id)
    assert job["status"] == "succeeded", job
