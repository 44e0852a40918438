"""The CI contract: ``dagster job execute -m cogo_pipelines.definitions -j q1_gate_job`` exits
non-zero when the gate fails, zero when it passes (real subprocesses, real store)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cogo_pipelines_tests.quality.helpers import seed_jobs

REPO_ROOT = Path(__file__).resolve().parents[3]
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def _execute(database_url, tmp_path, job="q1_gate_job", config=None):
    env = {**os.environ, "DATABASE_URL": database_url, "DAGSTER_HOME": str(tmp_path / "dagster"),
           "COGO_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    (tmp_path / "dagster").mkdir(exist_ok=True)
    args = [DAGSTER, "job", "execute", "-m", "cogo_pipelines.definitions", "-j", job]
    if config:
        path = tmp_path / "run_config.json"
        path.write_text(json.dumps(config))
        args += ["-c", str(path)]
    return subprocess.run(args, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


def _runs(database_url):
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT passed, succeeded, failed FROM quality_runs ORDER BY id").fetchall()


@pytest.mark.slow
def test_dagster_job_execute_pass_and_fail(database_url, tmp_path):
    seed_jobs(database_url, succeeded=9, failed=1)
    passed = _execute(database_url, tmp_path)
    assert passed.returncode == 0, passed.stderr[-3000:]
    assert "RUN_SUCCESS" in passed.stderr + passed.stdout

    seed_jobs(database_url, failed=9)  # now 9/19 < 0.70
    failed = _execute(database_url, tmp_path)
    assert failed.returncode != 0
    output = failed.stderr + failed.stdout
    assert "RUN_FAILURE" in output and "FAIL: Q1 0.474 < threshold 0.70" in output
    assert _runs(database_url) == [(True, 9, 1), (False, 9, 10)]
    with psycopg.connect(database_url) as conn:
        fix = conn.execute("SELECT json_path, content FROM gate_fixes").fetchone()
    assert fix is not None and Path(fix[0]).is_file() and len(fix[1]["failing_jobs"]) == 10

    lenient = _execute(database_url, tmp_path, config={"ops": {"q1_gate": {"config": {"threshold": 0.4}}}})
    assert lenient.returncode == 0, lenient.stderr[-3000:]


@pytest.mark.slow
def test_dagster_gate_empty_history(database_url, tmp_path):
    empty = _execute(database_url, tmp_path)
    assert empty.returncode != 0 and "no quality jobs finished" in empty.stderr + empty.stdout
    allowed = _execute(database_url, tmp_path, config={"ops": {"q1_gate": {"config": {"allow_empty": True}}}})
    assert allowed.returncode == 0, allowed.stderr[-3000:]
