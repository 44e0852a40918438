"""`make run`'s loop records one gate point: the queue's ``quality.q1`` job of a plan scores the
gate, and Dagster's ``q1_gate_job`` run with that plan's run key shows the same run (its verdict,
its gate_fix) instead of recording a second point in the Q1 trend. Real runner processes, the
Dagster job as Makefile runs it (``dagster job execute -c``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from cogo_pipelines.queue import jobs
from cogo_pipelines.store import queries

REPO_ROOT = Path(__file__).resolve().parents[3]
COGO = [sys.executable, "-m", "cogo_pipelines.cli"]
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def _drain(*args: str) -> None:
    done = subprocess.run([*COGO, "runner", *args, "--exit-when-idle"], capture_output=True, text=True,
                          timeout=180, check=False, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_queue_gate_and_the_dagster_gate_of_one_plan_are_one_point(conn, database_url, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    plan = jobs.enqueue(conn, "plan.quality", {
        "targets": [{"cwd": str(tree), "command": c} for c in ("true", "exit 0", "echo broken >&2; exit 1")],
        "threshold": 0.7}, executor_id="cogo-plan")
    conn.commit()
    _drain("--executor-id", "cogo-plan", "--include-types", "plan.quality")
    _drain("--executor-id", "cogo-work")
    _drain("--executor-id", "cogo-plan", "--include-types", "quality.q1")
    planned = jobs.get_job(conn, plan)["result"]
    gate_job = jobs.get_job(conn, planned["q1_job_id"])
    assert gate_job["status"] == "failed" and gate_job["result"]["run_key"] == f"plan:{plan}"
    queue_run, queue_fix = gate_job["result"]["run_id"], gate_job["result"]["gate_fix_id"]

    config = tmp_path / "q1_gate_job.yaml"  # what make run writes
    config.write_text(json.dumps({"ops": {"q1_gate": {"config": {"run_key": f"plan:{plan}"}}}}))
    (tmp_path / "dagster").mkdir()
    shown = subprocess.run([DAGSTER, "job", "execute", "-m", "cogo_pipelines.definitions", "-j", "q1_gate_job",
                            "-c", str(config)], capture_output=True, text=True, timeout=300, check=False,
                           cwd=REPO_ROOT, env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")})
    output = shown.stdout + shown.stderr
    assert shown.returncode != 0 and "RUN_FAILURE" in output, output[-3000:]
    assert "FAIL: Q1 0.667 < threshold 0.70 (2 succeeded, 1 failed)" in output
    assert f"reported gate run {queue_run}" in output

    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster"))  # the run as the Dagster UI shows it
    (run,) = instance.get_runs()
    (failure,) = [e for e in instance.all_logs(run.run_id) if e.dagster_event_type == dg.DagsterEventType.STEP_FAILURE]
    shown_meta = failure.dagster_event.step_failure_data.user_failure_data.metadata
    assert shown_meta["quality_run_id"].value == queue_run and shown_meta["gate_fix_id"].value == queue_fix
    assert shown_meta["reported"].value is True and shown_meta["run_key"].value == f"plan:{plan}"

    points = queries.gate_history(conn)
    assert [p["id"] for p in points] == [queue_run]  # one run, one point of the trend
    assert conn.execute("SELECT count(*) AS n FROM gate_fixes").fetchone()["n"] == 1
