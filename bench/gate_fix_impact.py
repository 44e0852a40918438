"""Test impact on the gate_fix cases: how many targets a change lets plan.quality skip, and proof
that none of the skipped ones would have failed.

    .venv/bin/python bench/gate_fix_impact.py --node-modules DIR

Per case the change is the case's bug as a unified diff. The sample is split into four targets
— the vitest file, the jest file, the node:test file, and ``tsc`` (no tests: always runs) —
and ``quality.impact.select_targets`` picks those whose tests reach the changed symbols. Each
skipped target's real runner is then run on the bugged workspace: it must pass. The peer is the
full set (what plan.quality runs without a change).
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gate_fix_eval import _store
from gate_fix_workspace import RUNNERS, SAMPLE, load_cases, make_workspace

TESTS = {"vitest": ["tests/quality.vitest.test.ts"], "jest": ["tests/lease.jest.test.ts"],
         "node": ["tests/gate.node.test.ts"], "tsc": ["no-tests/*"]}


def _diff(case: dict) -> str:
    path = case["bug"]["path"]
    before = (SAMPLE / path).read_text(encoding="utf-8")
    after = before.replace(case["bug"]["old"], case["bug"]["new"])
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, required=True)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gate_fix_impact_"))
    os.chmod(tmp, 0o755)
    url = _store(tmp)
    os.environ.update(DATABASE_URL=url, COGO_HOME=str(tmp / "home"), HF_HUB_OFFLINE="1")
    from cogo_pipelines import settings
    from cogo_pipelines.pipeline.index_run import run_index
    from cogo_pipelines.quality import impact
    from cogo_pipelines.store import db

    settings.reload_settings()
    conn = db.connect(url)
    run_index(conn, SAMPLE, embed=False)
    conn.commit()
    total_skipped = total = wrong = 0
    print(f"{'case':28} {'runs':22} {'skipped':22} skipped-pass")
    for case in load_cases():
        work = make_workspace(case, tmp / "work", args.node_modules)
        targets = [{"cwd": str(work), "repo": "cogo-sample", "runner": name, "tests": TESTS[name]} for name in RUNNERS]
        run, skipped, _ = impact.select_targets(conn, targets, impact.Change.from_diff(_diff(case)),
                                                lambda t: t["repo"])
        verdicts = []
        for target in skipped:  # would it have failed? run it for real on the bugged tree
            done = subprocess.run(["/bin/sh", "-c", RUNNERS[target["runner"]]], cwd=work, capture_output=True, check=False,
                                  timeout=300)
            verdicts.append(done.returncode == 0)
        missed = case["runner"] not in {t["runner"] for t in run}
        wrong += missed + verdicts.count(False)
        total_skipped += len(skipped)
        total += len(targets)
        print(f"{case['id']:28} {','.join(t['runner'] for t in run):22} "
              f"{','.join(t['runner'] for t in skipped) or '-':22} "
              f"{'all pass' if all(verdicts) else 'A SKIPPED TARGET FAILS'}{' MISSED' if missed else ''}")
    conn.close()
    print(f"skipped {total_skipped} of {total} target runs ({total_skipped / total:.0%}); full set: 0 skipped; "
          f"skipped targets that would have failed or failing targets skipped: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
