"""A flaky build end to end: a real ``cogo runner`` runs a test command that fails the first time
and passes the second (a marker file), with ``reruns``; then a real ``cogo gate q1``. The job
succeeded and counts so, but the gate names it flaky, with both runs, in its message and in a
gate_fix it writes although it passed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cogo_pipelines.queue import jobs

REPO_ROOT = Path(__file__).resolve().parents[2]
COGO = [sys.executable, "-m", "cogo_pipelines.cli"]
FLAKY_RUNNER = """\
if [ -e .ran-once ]; then
  echo ' ✓ tests/cart.test.ts (3 tests) 4ms'
  echo ' Test Files  1 passed (1)'
  echo '      Tests  3 passed (3)'
  exit 0
fi
touch .ran-once
echo ' FAIL  tests/cart.test.ts > cart > applies the discount once'
echo 'AssertionError: expected 90 to be 81'
echo ' ❯ tests/cart.test.ts:14:22'
echo ' Test Files  1 failed (1)'
echo '      Tests  1 failed | 2 passed (3)'
exit 1
"""


def _cogo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COGO, *args], capture_output=True, text=True, timeout=180, check=False, cwd=REPO_ROOT,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def test_a_build_that_fails_then_passes_on_a_rerun_is_reported_flaky(conn, tmp_path):
    tree = tmp_path / "cart"
    tree.mkdir()
    (tree / "run-tests.sh").write_text(FLAKY_RUNNER)
    flaky = jobs.enqueue(conn, "code.build.test", {"command": "sh run-tests.sh", "cwd": str(tree), "target": "cart",
                                                   "reruns": 1}, executor_id="cogo-work")
    broken = jobs.enqueue(conn, "code.build.test", {"command": "echo 'Error: no such table'; exit 3", "cwd": str(tree),
                                                    "target": "broken", "reruns": 2}, executor_id="cogo-work")
    conn.commit()
    drained = _cogo("runner", "--executor-id", "cogo-work", "--exit-when-idle")
    assert drained.returncode == 0, drained.stderr[-2000:]

    job = jobs.get_job(conn, flaky)
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert result["flaky"] is True and result["exit_code"] == 0
    (first,) = result["attempts"]
    assert first["attempt"] == 1 and first["exit_code"] == 1
    assert first["summary"]["failed"] == 1 and "applies the discount once" in first["log_tail"]
    assert Path(first["log"]).name == f"{flaky}.run1.log" and "FAIL" in Path(first["log"]).read_text()
    assert "3 passed" in Path(result["log"]).read_text()  # <id>.log is the run that decided

    failed = jobs.get_job(conn, broken)  # failing every time is a plain failure, not flaky
    assert failed["status"] == "failed" and "exited with code 3 on each of 3 runs" in failed["error"]
    assert failed["result"]["flaky"] is False and len(failed["result"]["attempts"]) == 2

    gate = _cogo("gate", "q1", "--target", "cart", "--json")
    assert gate.returncode == 0, gate.stderr
    verdict = json.loads(gate.stdout)
    assert (verdict["passed"], verdict["succeeded"], verdict["failed"], verdict["flaky"]) == (True, 1, 0, 1)
    assert verdict["message"].endswith("; 1 flaky (failed, then passed on a rerun; counted as succeeded)")
    assert verdict["gate_fix"] is not None, "a pass with a flaky build writes the artifact that names it"
    content = json.loads(Path(verdict["gate_fix"]["json_path"]).read_text())
    (entry,) = content["flaky_jobs"]
    assert entry["id"] == flaky and entry["target"] == "cart"
    assert entry["tests"] == ["cart › applies the discount once"]
    assert [(r["attempt"], r["outcome"], r["exit_code"]) for r in entry["runs"]] == [(1, "failed", 1), (2, "passed", 0)]
    assert entry["runs"][0]["failed_tests"] == ["cart › applies the discount once"]
    assert (entry["runs"][1]["summary"]["passed"], entry["runs"][1]["summary"]["failed"]) == (3, 0)
    markdown = Path(verdict["gate_fix"]["markdown_path"]).read_text()
    assert "## Flaky: failed, then passed on a rerun (counted as succeeded)" in markdown
    assert "**cart › applies the discount once**" in markdown
    assert "  - run 1: failed (exit 1): 1 failed, 2 passed: cart › applies the discount once" in markdown
    assert "  - run 2: passed (exit 0): 0 failed, 3 passed" in markdown
