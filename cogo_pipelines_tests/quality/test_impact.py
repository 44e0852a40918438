"""Test impact: plan.quality with a change enqueues only the targets whose tests reach it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cogo_pipelines.quality.impact import Change
from cogo_pipelines.queue import jobs

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS = REPO_ROOT / "bench" / "gate_fix_cases" / "tests"
DIFF = """\
diff --git a/src/core/quality.ts b/src/core/quality.ts
--- a/src/core/quality.ts
+++ b/src/core/quality.ts
@@ -31,3 +31,3 @@ const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
 export function lintComponent(lintErrors: number): number {
-  return Math.exp(-lintErrors / 10);
+  return Math.exp(-lintErrors / 100);
 }
"""


def test_diff_lines_and_file_lists():
    change = Change.from_diff(DIFF)
    assert change.lines == {"src/core/quality.ts": {32}}
    assert Change.from_files(["src/a.ts", "./b.ts"]).lines == {"src/a.ts": None, "b.ts": None}
    Change.from_diff("garbage\n@@ nonsense\n+++\n-\n")  # hostile input never raises


def _tree(tmp_path: Path, name: str, test: str) -> str:
    tree = tmp_path / name
    shutil.copytree(REPO_ROOT / "examples" / "cogo-sample", tree, ignore=shutil.ignore_patterns("node_modules"))
    (tree / "tests").mkdir()
    shutil.copy(TESTS / test, tree / "tests" / test)
    return str(tree)


def test_plan_quality_skips_targets_the_change_cannot_reach(conn, database_url, tmp_path):
    from cogo_pipelines.pipeline.index_run import run_index

    run_index(conn, REPO_ROOT / "examples" / "cogo-sample", embed=False)
    vitest = _tree(tmp_path, "vitest", "quality.vitest.test.ts")  # imports quality.ts: reached
    jest = _tree(tmp_path, "jest", "lease.jest.test.ts")  # lease/planner/retry: not reached
    targets = [{"cwd": vitest, "repo": "cogo-sample"}, {"cwd": jest, "repo": "cogo-sample"}]
    changed = jobs.enqueue(conn, "plan.quality", {"targets": targets, "command": "true", "change": {"diff": DIFF}})
    full = jobs.enqueue(conn, "plan.quality", {"targets": targets, "command": "true", "change": {"diff": DIFF},
                                               "full": True})
    conn.commit()
    done = subprocess.run([sys.executable, "-m", "cogo_pipelines.cli", "runner", "--executor-id", "cogo-plan",
                           "--include-types", "plan.quality", "--exit-when-idle"], capture_output=True, text=True, check=False,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    result = jobs.get_job(conn, changed)["result"]
    assert result["skipped_targets"] == 1 and result["skipped"] == [jest]
    builds = [jobs.get_job(conn, i)["payload"]["cwd"] for i in result["build_job_ids"]]
    assert builds == [vitest]
    assert "src/core/quality.ts::lintComponent" in result["impact"]["changed_symbols"]
    assert len(jobs.get_job(conn, full)["result"]["build_job_ids"]) == 2  # the nightly/weekly full set
