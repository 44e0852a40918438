"""`make run`'s main loop on the sample: real plan, real runner, real commands, a scored gate."""

from __future__ import annotations

import os
import subprocess

import psycopg
import pytest

from cogo_pipelines_tests.deploy.helpers import REPO_ROOT, VENV_BIN


@pytest.mark.slow
def test_sample_loop_runs_the_quality_plan_and_scores_the_gate(database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for name in ("EXECUTOR_ID", "LIVE_INCLUDE_TYPES", "NOTIFY_WEBHOOK_URL"):
        env.pop(name, None)
    done = subprocess.run(["make", "--no-print-directory", "-o", "setup", "sample-loop", f"BIN={VENV_BIN}",
                           f"COGO_HOME={tmp_path / 'home'}"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with psycopg.connect(database_url) as conn:
        builds = dict(conn.execute(
            "SELECT payload->>'command', status FROM jobs WHERE type = 'code.build.test'").fetchall())
        score, passed = conn.execute(
            "SELECT score, passed FROM quality_runs ORDER BY id DESC LIMIT 1").fetchone()
        points = conn.execute("SELECT count(*) FROM quality_runs").fetchone()[0]
        fixes = conn.execute("SELECT count(*) FROM gate_fixes").fetchone()[0]
    # the three commands of examples/sample-quality-plan.json really ran on Node
    assert builds == {"npm run --silent smoke": "succeeded",
                      "node --test smoke/lease.test.mjs": "succeeded",
                      "node --test smoke/retry.test.mjs": "failed"}
    assert round(score, 3) == 0.667 and passed is False
    # the queue's quality.q1 job scored the run; q1_gate_job showed that run: one point in the trend
    assert points == 1
    assert fixes >= 1, "the failed gate wrote no gate_fix"
    assert "FAIL: Q1 0.667" in done.stdout
