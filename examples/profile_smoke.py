#!/usr/bin/env python3
"""Record a real V8 CPU profile of the cogo-sample smoke (``src/scripts/smoke.ts``).

Node 20 cannot run TypeScript (no ``--experimental-strip-types``), and the profile must point
at the real ``src/**/*.ts`` lines so that ``indexing/runtime.py`` can map frames to symbols.
So the smoke's import closure is type-stripped with ``ts-blank-space`` (types become
whitespace: every line and column stays put) into a temporary tree of ``.js`` files, relative
``.ts`` specifiers are rewritten to ``.js`` (same length: nothing moves), and that tree runs
under ``node --cpu-prof``. The profile keeps its real ``file://`` urls of the temporary tree;
the runtime merge maps them back to repo paths by their longest matching suffix.

    python examples/profile_smoke.py [--repo examples/cogo-sample] [--out FILE]
                                     [--interval-us 50] [--runs 20] [--trim] [--tools-dir DIR]

``ts-blank-space`` is installed once with npm into ``--tools-dir`` (a cache outside the repo).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TS_BLANK_SPACE = "ts-blank-space@0.9.0"
HERE = Path(__file__).resolve().parent

# Blanks the entry and every relative import it reaches (after blanking, so type-only imports,
# which ts-blank-space erases, are not followed) into OUT, keeping repo-relative layout.
BLANKER = r"""
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const [, , blankerModule, repo, entry, out] = process.argv;
const { default: blank } = await import(pathToFileURL(blankerModule).href);
const SPEC = /(from\s*|import\s*\(\s*|import\s+)(['"])(\.{1,2}\/[^'"]+?)\.(ts|js)\2/g;
const queue = [resolve(repo, entry)];
const done = new Set();
while (queue.length) {
  const file = queue.shift();
  if (done.has(file)) continue;
  done.add(file);
  let code = blank(readFileSync(file, 'utf8'), (node) => {
    throw new Error(`${relative(repo, file)}: cannot blank ${node.kind}`);
  });
  code = code.replace(SPEC, (m, lead, q, spec, ext) => {
    const target = resolve(dirname(file), spec + '.ts');
    if (existsSync(target)) queue.push(target);
    return `${lead}${q}${spec}.js${q}`;
  });
  const dest = join(out, relative(repo, file)).replace(/\.ts$/, '.js');
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, code);
  console.log(relative(repo, file));
}
"""


def trim(profile: dict, keep_url_prefix: str) -> dict:
    """Drop the subtrees that never reach the smoke's own files (Node's loader, GC, idle).

    Samples that hit a dropped node are re-pointed at the root, so sample counts and time
    deltas stay aligned and the result is still a valid ``.cpuprofile``.
    """
    nodes = {n["id"]: n for n in profile["nodes"]}
    keep: dict[int, bool] = {}

    def reaches(node_id: int) -> bool:
        if node_id not in keep:
            node = nodes[node_id]
            own = node["callFrame"].get("url", "").startswith(keep_url_prefix)
            # every child must be visited (no short-circuit): each one needs its own verdict
            children = [reaches(c) for c in node.get("children", [])]
            keep[node_id] = own or any(children)
        return keep[node_id]

    root = profile["nodes"][0]["id"]
    reaches(root)
    keep[root] = True
    kept = []
    for node in profile["nodes"]:
        if keep.get(node["id"]):
            node = dict(node, children=[c for c in node.get("children", []) if keep.get(c)])
            kept.append(node)
    samples = [s if keep.get(s) else root for s in profile.get("samples", [])]
    dropped_hits = sum(n.get("hitCount", 0) for n in profile["nodes"] if not keep.get(n["id"]))
    kept[0]["hitCount"] = kept[0].get("hitCount", 0) + dropped_hits
    return dict(profile, nodes=kept, samples=samples)


def ensure_blanker(tools_dir: Path) -> Path:
    module = tools_dir / "node_modules" / "ts-blank-space" / "out" / "index.js"
    if not module.exists():
        tools_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(tools_dir), TS_BLANK_SPACE],
            check=True,
            stdout=sys.stderr,  # stdout carries only the JSON summary
        )
    return module


def record(
    repo: Path, out: Path, *, entry: str, interval_us: int, runs: int, tools_dir: Path, trimmed: bool = False
) -> dict:
    if shutil.which("node") is None:
        raise SystemExit("node is not on PATH")
    blanker = ensure_blanker(tools_dir)
    with tempfile.TemporaryDirectory(prefix="cogo-smoke-") as tmp:
        tree, prof_dir = Path(tmp) / "tree", Path(tmp) / "prof"
        tree.mkdir()
        (tree / "package.json").write_text(json.dumps({"type": "module"}))
        (Path(tmp) / "blank.mjs").write_text(BLANKER)
        blanked = subprocess.run(
            ["node", str(Path(tmp) / "blank.mjs"), str(blanker), str(repo.resolve()), entry, str(tree)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        script = entry[: -len(".ts")] + ".js"
        # The smoke runs at import time; a fresh query string makes each import a fresh module
        # instance (the leaf modules stay shared and get hot), so short smokes still get sampled.
        (tree / "driver.mjs").write_text(
            f"for (let run = 0; run < {runs}; run++) await import('./{script}?run=' + run);\n"
        )
        run = subprocess.run(
            [
                "node",
                "--cpu-prof",
                f"--cpu-prof-dir={prof_dir}",
                f"--cpu-prof-interval={interval_us}",
                str(tree / "driver.mjs"),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        profiles = sorted(prof_dir.glob("*.cpuprofile"))
        if not profiles:
            raise SystemExit("node wrote no .cpuprofile")
        profile = json.loads(profiles[0].read_text())
        if trimmed:
            profile = trim(profile, tree.as_uri() + "/")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(profile, separators=(",", ":")))
    return {
        "profile": str(out),
        "blanked": blanked,
        "nodes": len(profile.get("nodes", [])),
        "samples": len(profile.get("samples", [])),
        "smoke_output": run.stdout.strip().splitlines()[-1:],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=HERE / "cogo-sample")
    parser.add_argument("--entry", default="src/scripts/smoke.ts")
    cogo_home = Path(os.environ.get("COGO_HOME", ".cogo"))
    traces = Path(os.environ.get("RUNTIME_TRACE_DIR") or cogo_home / "traces")
    parser.add_argument("--out", type=Path, default=traces / "cogo-sample-smoke.cpuprofile")
    parser.add_argument("--interval-us", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20, help="smoke runs in one profiled process")
    parser.add_argument(
        "--trim", action="store_true", help="drop subtrees that never reach the smoke's files"
    )
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    parser.add_argument("--tools-dir", type=Path, default=cache / "cogo-profile-tools")
    args = parser.parse_args(argv)
    summary = record(
        args.repo,
        args.out,
        entry=args.entry,
        interval_us=args.interval_us,
        runs=args.runs,
        tools_dir=args.tools_dir,
        trimmed=args.trim,
    )
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
