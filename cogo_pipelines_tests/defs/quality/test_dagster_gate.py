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


def _ci_gate(database_url, tmp_path, config=None):
    """CI's gate step (.github/workflows): `.ci/gate-verdict` around `dagster job execute`."""
    env = {**os.environ, "DATABASE_URL": database_url, "DAGSTER_HOME": str(tmp_path / "dagster"),
           "COGO_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    (tmp_path / "dagster").mkdir(exist_ok=True)
    args = ["bash", str(REPO_ROOT / ".ci" / "gate-verdict"), DAGSTER, "job", "execute", "-m",
            "cogo_pipelines.definitions", "-j", "q1_gate_job"]
    if config:
        path = tmp_path / "run_config.json"
        path.write_text(json.dumps(config))
        args += ["-c", str(path)]
    return subprocess.run(args, check=False, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


def _annotation(done) -> str:
    return next((line for line in done.stdout.splitlines() if line.startswith("::error")), "")


@pytest.mark.slow
def test_ci_exit_code_tells_a_failed_gate_from_one_not_evaluated(database_url, tmp_path):
    """`dagster job execute` exits 1 for any failed run; CI exits as `cogo gate q1` does: 1 for the
    gate's verdict (naming score, threshold and gate_fix), 2 for a gate that was not evaluated."""
    seed_jobs(database_url, succeeded=1, failed=9)
    failed = _ci_gate(database_url, tmp_path)
    assert failed.returncode == 1, failed.stdout[-3000:]
    verdict = _annotation(failed)
    assert verdict.startswith("::error title=Q1 gate failed::Q1 gate failed: FAIL: Q1 0.100 < threshold 0.70")
    assert "what to fix: gate_fix 1 at " in verdict and "gate_fix/1.md" in verdict

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE jobs RENAME TO jobs_moved")  # a broken input: the job history is gone
    broken = _ci_gate(database_url, tmp_path)
    assert broken.returncode == 2, broken.stdout[-3000:]
    assert _annotation(broken) == ("::error title=Q1 gate not evaluated::Q1 gate not evaluated: database error while "
                                   'evaluating the gate: UndefinedTable: relation "jobs" does not exist')

    bad_config = _ci_gate(database_url, tmp_path, config={"ops": {"q1_gate": {"config": {"threshold": "high"}}}})
    assert bad_config.returncode == 2 and "before the gate gave a verdict" in _annotation(bad_config)
    assert _runs(database_url) == [(False, 1, 9)]  # only the verdict is a point of the Q1 trend
