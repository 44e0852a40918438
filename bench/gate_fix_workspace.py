"""Scratch workspaces for the gate_fix bench: examples/cogo-sample + the bench's tests + one bug.

``python bench/gate_fix_workspace.py --node-modules DIR [--out DIR]`` builds one workspace per
case under ``--out``, runs the case's real runner there (vitest, jest, node --test, tsc) and
saves what it printed as ``bench/gate_fix_cases/<id>.log`` — the logs the bench replays when no
``node_modules`` is at hand. DIR needs vitest, jest, ts-jest, tsx and typescript installed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "cogo-sample"
CASES_DIR = ROOT / "bench" / "gate_fix_cases"
RUNNERS = {
    "vitest": "node_modules/.bin/vitest run tests/quality.vitest.test.ts",
    "jest": "node_modules/.bin/jest -c jest.config.cjs",
    "node": "node --import tsx --test tests/gate.node.test.ts",
    "tsc": "node_modules/.bin/tsc -p .",
}


def load_cases() -> list[dict]:
    return json.loads((CASES_DIR / "cases.json").read_text(encoding="utf-8"))


def make_workspace(case: dict, out: Path, node_modules: Path) -> Path:
    """A copy of the sample with the case's bug in it; raises when the bug's text is not found."""
    work = out / case["id"]
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(SAMPLE, work, ignore=shutil.ignore_patterns("node_modules"))
    (work / "node_modules").symlink_to(node_modules.resolve())
    tests = work / "tests"
    tests.mkdir()
    for src in (CASES_DIR / "tests").iterdir():
        shutil.copy(src, (work if src.name == "jest.config.cjs" else tests) / src.name)
    bug = case["bug"]
    target = work / bug["path"]
    text = target.read_text(encoding="utf-8")
    if text.count(bug["old"]) != 1:
        raise SystemExit(f"{case['id']}: the bug's old text must occur once in {bug['path']}")
    target.write_text(text.replace(bug["old"], bug["new"]), encoding="utf-8")
    return work


def command(case: dict) -> str:
    return RUNNERS[case["runner"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/gate_fix_workspaces"))
    args = parser.parse_args()
    for case in load_cases():
        work = make_workspace(case, args.out, args.node_modules)
        proc = subprocess.run(["/bin/sh", "-c", command(case)], cwd=work, capture_output=True, text=True, timeout=300,
                              check=False)
        log = proc.stdout + proc.stderr
        (CASES_DIR / f"{case['id']}.log").write_text(log, encoding="utf-8")
        print(f"{case['id']}: exit {proc.returncode}, {len(log)} chars", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
