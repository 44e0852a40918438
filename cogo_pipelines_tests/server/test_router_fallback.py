"""Runbook §3: during a key rotation router-select answers 401; an enqueue warns and routes locally."""

from __future__ import annotations

import os
import subprocess
import sys

ROUTER = "/functions/v1/router-select"


def test_enqueue_with_stale_edge_keys_warns_and_routes_with_local_rules(sidecar, conn):
    env = {**os.environ, "ROUTER_SELECT_URL": sidecar.url + ROUTER,
           "SUPABASE_ANON_KEY": "rotated-away-anon", "SUPABASE_PUBLISHABLE_KEY": "rotated-away-publishable"}
    done = subprocess.run([sys.executable, "-m", "cogo_pipelines.cli", "jobs", "enqueue", "quality.q1"],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "401" in done.stderr, f"no warning about the refused router-select call: {done.stderr!r}"
    assert "Traceback" not in done.stderr
    row = conn.execute("SELECT executor_id FROM jobs WHERE type = 'quality.q1'").fetchone()
    assert row["executor_id"] == "cogo-plan"  # the local rules' answer
