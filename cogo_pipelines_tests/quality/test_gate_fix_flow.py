"""The whole flow as the team runs it: a plan runner and a work runner (real ``cogo runner``
processes), failing builds whose command prints what a real test runner printed, an
infrastructure failure, the ``quality.q1`` job, its gate_fix, and alerts into a real local
webhook receiver — once per failure, and never from a ``cogo gate q1`` reproduction."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cogo_pipelines import settings
from cogo_pipelines.quality.notify import notify_gate_failure
from cogo_pipelines.queue import jobs

REPO_ROOT = Path(__file__).resolve().parents[2]
CASES = REPO_ROOT / "bench" / "gate_fix_cases"
COGO = [sys.executable, "-m", "cogo_pipelines.cli"]


def _cogo(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([*COGO, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def _tree(tmp_path: Path, case: str) -> Path:
    """A working tree with the case's recorded runner output (the runner replays it, exit 1)."""
    tree = tmp_path / "trees" / case
    shutil.copytree(REPO_ROOT / "examples" / "cogo-sample", tree, ignore=shutil.ignore_patterns("node_modules"))
    (tree / "tests").mkdir()
    for test in (CASES / "tests").glob("*.ts"):
        shutil.copy(test, tree / "tests" / test.name)
    shutil.copy(CASES / f"{case}.log", tree / "build.log")
    return tree


def _drain(executor: str) -> None:
    done = _cogo("runner", "--executor-id", executor, "--exit-when-idle")
    assert done.returncode == 0, done.stderr[-2000:]


def _plan(conn, tmp_path, cases: list[str], extra: list[dict] | None = None) -> dict:
    targets = [{"cwd": str(_tree(tmp_path, c)), "target": c, "command": "cat build.log; exit 1"} for c in cases]
    plan = jobs.enqueue(conn, "plan.quality", {"targets": targets + (extra or []), "commit": "abc1234"})
    conn.commit()
    _drain("cogo-plan")  # plans: builds + the gate job
    _drain("cogo-work")  # builds
    _drain("cogo-plan")  # the gate, once its builds have finished
    return jobs.get_job(conn, plan)["result"]


def test_queue_gate_fails_writes_gate_fix_and_alerts_once(conn, database_url, tmp_path, receiver, monkeypatch):
    from cogo_pipelines.pipeline.index_run import run_index

    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", receiver.url)
    settings.reload_settings()
    run_index(conn, REPO_ROOT / "examples" / "cogo-sample", embed=False)
    conn.commit()

    planned = _plan(conn, tmp_path, ["02-vitest-glob-star"],
                    extra=[{"cwd": str(tmp_path / "not-on-this-runner"), "target": "gone"}])
    gate_job = jobs.get_job(conn, planned["q1_job_id"])
    assert gate_job["status"] == "failed", gate_job  # a failed gate is a failed job, not a green one
    result = gate_job["result"]
    assert result["passed"] is False and result["failed"] == 1 and result["infra_failed"] == 1
    assert "infrastructure failure" in gate_job["error"]

    row = conn.execute("SELECT content, quality_run_id FROM gate_fixes WHERE id = %s",
                       (result["gate_fix_id"],)).fetchone()
    content = row["content"]
    assert row["quality_run_id"] == result["run_id"]
    (job,) = content["failing_jobs"]
    assert job["target"] == "02-vitest-glob-star" and job["commit"] == "abc1234"
    assert job["log_url"].endswith(f"/api/jobs/{job['id']}/log") and job["log_path"].endswith(f"{job['id']}.log")
    assert job["failing_tests"] == ["router › a single star matches one segment only"]
    assert "expected true to be false" in job["failures"][0]["message"]
    top3 = [(loc["path"], loc["symbol"]) for loc in job["locations"][:3]]
    assert ("src/core/router.ts", "globToRegExp") in top3 and all(loc["why"] for loc in job["locations"])
    (infra,) = content["infra_jobs"]
    assert infra["reason"] == "missing working tree" and infra["target"] == "gone"

    # reproducing the gate by hand writes the same kind of gate_fix and alerts nobody
    again = _cogo("gate", "q1", "--json")
    assert again.returncode == 1, again.stderr
    out = json.loads(again.stdout)
    assert out["infra_failed"] == 1 and out["notification"] is None
    assert receiver.requests == []

    conn.commit()
    first = notify_gate_failure(conn, result["run_id"])  # what the sensor's job does
    assert first["status"] == "sent" and len(receiver.requests) == 1
    alert = receiver.requests[0]["json"]
    assert "router › a single star matches one segment only" in json.dumps(alert, ensure_ascii=False)
    assert f"/api/gate-fix/{result['gate_fix_id']}?format=html" in json.dumps(alert, ensure_ascii=False)

    # the same failure seen by later gate runs (queue or --notify) is not alerted again
    assert notify_gate_failure(conn, result["run_id"])["status"] == "duplicate"
    conn.commit()
    repeat = _cogo("gate", "q1", "--notify", "--json")
    assert json.loads(repeat.stdout)["notification"]["status"] == "duplicate"
    assert len(receiver.requests) == 1

    # a new breakage is a new alert
    _plan(conn, tmp_path, ["11-tsc-q1-passed"])
    new = _cogo("gate", "q1", "--notify", "--json")
    assert json.loads(new.stdout)["notification"]["status"] == "sent"
    assert len(receiver.requests) == 2 and "TS2322" in json.dumps(receiver.requests[1]["json"])


def test_gate_on_the_server_explains_a_build_whose_log_stayed_on_the_dev_pc(conn, tmp_path):
    """The build ran on a dev PC: its log file is not on the machine that runs the gate. The
    gate_fix names the failing test from the log tail the runner kept in the job's result."""
    from cogo_pipelines.pipeline.index_run import run_index

    run_index(conn, REPO_ROOT / "examples" / "cogo-sample", embed=False)
    targets = [{"cwd": str(_tree(tmp_path, "02-vitest-glob-star")), "target": "glob",
                "command": "cat build.log; exit 1"}]
    plan = jobs.enqueue(conn, "plan.quality", {"targets": targets, "commit": "def5678"})
    conn.commit()
    _drain("cogo-plan")
    _drain("cogo-work")
    logs = list((Path(os.environ["COGO_HOME"]) / "artifacts" / "jobs").glob("*.log"))
    assert logs, "the work runner wrote no log"
    for log in logs:  # what a server that is not the dev PC sees
        log.unlink()
    _drain("cogo-plan")
    result = jobs.get_job(conn, jobs.get_job(conn, plan)["result"]["q1_job_id"])["result"]
    content = conn.execute("SELECT content FROM gate_fixes WHERE id = %s", (result["gate_fix_id"],)).fetchone()["content"]
    (job,) = content["failing_jobs"]
    assert job["failing_tests"] == ["router › a single star matches one segment only"]
    assert "expected true to be false" in job["failures"][0]["message"]
