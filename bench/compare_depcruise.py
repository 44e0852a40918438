"""Module-edge precision/recall of cogo's static graph against dependency-cruiser.

    .venv/bin/python bench/compare_depcruise.py REPO [--folder src]

Installs dependency-cruiser@17 + typescript@5 into bench/.cache/depcruise on first use (npm),
runs ``depcruise --no-config --ts-pre-compilation-deps [--ts-config tsconfig.json|jsconfig.json]
--output-type json src`` from REPO, and compares the sets of internal ``(from, to)`` file
pairs. Edges whose source file is outside cogo's include policy (e.g. ``.js`` files) are
reported apart and not scored.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.graph import UNRESOLVED
from cogo_pipelines.indexing.static_graph import analyze
from cogo_pipelines.pipeline.policy import ANYWHERE, policy_for

CACHE = Path(__file__).resolve().parent / ".cache" / "depcruise"
EXTERNAL_TYPES = {"core", "npm", "npm-dev", "npm-optional", "npm-peer", "npm-bundled", "npm-no-pkg", "npm-unknown",
                  "unknown", "undetermined"}


def depcruise_bin() -> Path:
    binary = CACHE / "node_modules" / ".bin" / "depcruise"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        if not (CACHE / "package.json").exists():
            (CACHE / "package.json").write_text('{"private": true}\n')
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is needed to install dependency-cruiser")
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "dependency-cruiser@17", "typescript@5"],
                       cwd=CACHE, check=True, stdout=subprocess.DEVNULL)
    return binary


def run_depcruise(repo: Path, folders: list[str]) -> tuple[dict, float]:
    cmd = [str(depcruise_bin()), "--no-config", "--ts-pre-compilation-deps"]
    config = next((name for name in tsconfig.CONFIG_NAMES if (repo / name).is_file()), None)
    if config is not None:  # tsconfig.json, else a JavaScript app's jsconfig.json (its baseUrl, paths)
        cmd += ["--ts-config", config]
    cmd += ["--output-type", "json", *folders]
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    if done.returncode not in (0,) and not done.stdout.strip():
        sys.exit(f"depcruise failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout), seconds


def depcruise_pairs(result: dict, repo: Path) -> set[tuple[str, str]]:
    pairs = set()
    for module in result.get("modules", []):
        for dep in module.get("dependencies", []):
            resolved = dep.get("resolved", "")
            if dep.get("couldNotResolve") or set(dep.get("dependencyTypes", [])) & EXTERNAL_TYPES:
                continue
            if "node_modules/" in resolved or not (repo / resolved).is_file():
                continue
            pairs.add((module["source"], resolved))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--folder", action="append",
                        help="folders depcruise cruises (default: src; '.' = the whole repo under cogo's default policy)")
    args = parser.parse_args()
    repo = args.repo.resolve()
    folders = args.folder or ["src"]
    result, dc_seconds = run_depcruise(repo, folders)
    theirs_all = depcruise_pairs(result, repo)
    whole = folders == ["."]
    policy = policy_for(repo, None) if folders == ["src"] or whole else sources.Policy.from_patterns(
        include=[f"{f.rstrip('/')}/{glob}" for f in folders for glob in ANYWHERE])
    static, seconds = analyze(repo, policy=policy)
    ours = {(e.src, e.dst) for e in static.module_edges
            if e.kind != "maybe" and e.dst != UNRESOLVED and (whole or any(e.src.startswith(f.rstrip("/") + "/") for f in folders))}
    theirs = {p for p in theirs_all if policy.admits(p[0])}
    skipped = theirs_all - theirs
    both = ours & theirs
    precision = len(both) / len(ours) if ours else 1.0
    recall = len(both) / len(theirs) if theirs else 1.0
    print(f"repo {repo.name}: cogo {len(ours)} edges, dependency-cruiser {len(theirs)} edges, common {len(both)}")
    print(f"precision {precision:.4f}  recall {recall:.4f}")
    print(f"times: cogo {sum(seconds.values()):.2f}s (no store), dependency-cruiser {dc_seconds:.2f}s")
    if skipped:
        print(f"not scored: {len(skipped)} dependency-cruiser edges from files outside the include policy")
    for label, diff in (("only cogo", ours - theirs), ("only dependency-cruiser", theirs - ours)):
        for src, dst in sorted(diff):
            print(f"{label}\t{src}\t{dst}")
    maybe = sum(1 for e in static.module_edges if e.kind == "maybe")
    print(f"cogo also has {maybe} maybe edges and {len(static.unresolved)} unresolved imports", file=sys.stderr)
    for path, spec, reason in static.unresolved[:20]:
        print(f"unresolved\t{path}\t{spec}\t{reason}", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
