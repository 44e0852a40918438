"""Precision and recall of cogo's ``calls`` / ``renders`` edges against the TypeScript checker.

    .venv/bin/python bench/callgraph_vs_checker.py REPO [--include GLOB ...] [--show N]

cogo's graph is the one ``cogo graph`` builds (same policy, ``static_graph.analyze``). The
reference is ``callgraph_vs_checker.mjs``: every call, ``new`` and JSX element in the same files,
its callee resolved by ``checker.getSymbolAtLocation`` (aliases followed) to a declaration.
Both sides are reduced to (caller symbol, callee symbol) pairs over cogo's own nodes: the
caller is the innermost symbol around the site (module-level code: the file), the callee the
symbol declared at the checker's declaration; callees with no node (a parameter, a property
signature, a local, a package's code) are counted apart and not scored, as are recursive
calls (the graph keeps no self-edges). Precision is over cogo's ``certain`` edges, recall over
the checker's pairs, per syntactic kind of the first call site of each pair (``ident`` ``f()``,
``x.m`` ``a.m()``, ``this.m``, ``this.f.m``, ``super()``, ``super.m``, ``f().m``, ``expr.m``,
``new``, ``tag`` (a tagged template: ``sql`now()```, a call of ``sql``), ``jsx``). Installs ``typescript`` into ``bench/node_modules`` with npm on first use.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cogo_pipelines.indexing import graph as graph_module
from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.ids import file_id
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.static_graph import TYPESCRIPT, extract_many
from cogo_pipelines.pipeline.policy import policy_for

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "callgraph_vs_checker.mjs"
EDGE_KINDS = ("calls", "renders")


def ensure_typescript() -> None:
    if not (HERE / "node_modules" / "typescript").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is needed to install typescript")
        subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=HERE, check=True, stdout=subprocess.DEVNULL)


def checker_sites(root: Path, files: list[str]) -> list[dict]:
    ensure_typescript()
    with tempfile.NamedTemporaryFile("w", suffix=".json") as listing:
        json.dump(files, listing)
        listing.flush()
        done = subprocess.run(["node", "--max-old-space-size=4096", str(SCRIPT), str(root), listing.name],
                              check=True, capture_output=True, text=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


CHECKER_READS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


class Locator:
    """Byte offsets from TypeScript's (line, UTF-16 column) and the innermost symbol there."""

    def __init__(self, root: Path, extractions: dict) -> None:
        self.root, self.extractions = root, extractions
        self._lines: dict[str, list[bytes]] = {}

    def byte(self, path: str, line: int, col: int) -> int:
        lines = self._lines.get(path)
        if lines is None:
            lines = self._lines[path] = (self.root / path).read_bytes().split(b"\n")
        before = sum(len(x) + 1 for x in lines[: line - 1])
        text = lines[line - 1].decode("utf-8", "replace")
        prefix = text.encode("utf-16-le")[: 2 * col].decode("utf-16-le", "replace")
        return before + len(prefix.encode("utf-8"))

    def enclosing(self, path: str, byte: int):
        extraction = self.extractions[path]
        best, start = None, -1
        for s in extraction.symbols:
            if s.start_byte <= byte < s.end_byte and s.start_byte >= start:
                best, start = s, s.start_byte
        for first, end, qualified in extraction.apart:  # a later body of a symbol declared twice
            if first <= byte < end and first >= start:
                best, start = next(s for s in extraction.symbols if s.qualified_name == qualified), first
        return best

    def declared(self, path: str, name: str, line: int, decl_kind: str):
        """cogo's node for a declaration: the innermost symbol of that name around its line, of
        the matching kind (a class and its merged interface share a name)."""
        kinds = _KINDS.get(decl_kind)
        best = None
        extraction = self.extractions[path]
        for s in extraction.symbols:
            if s.start_line <= line <= s.end_line and (s.name == name or name == "default") \
                    and (kinds is None or s.kind in kinds) and (best is None or s.start_byte >= best.start_byte):
                best = s
        if extraction.apart:  # the later body of a symbol declared twice: that symbol's node
            source = (self.root / path).read_bytes()
            for first, end, qualified in extraction.apart:
                lines = (source.count(b"\n", 0, first) + 1, source.count(b"\n", 0, end) + 1)
                if lines[0] <= line <= lines[1] and qualified.rpartition(".")[2] == name:
                    return next(s for s in extraction.symbols if s.qualified_name == qualified)
        return best


_KINDS = {
    "VariableDeclaration": ("function", "const"), "ClassDeclaration": ("class",), "ClassExpression": ("class",),
    "InterfaceDeclaration": ("interface",), "FunctionDeclaration": ("function",),
    "MethodDeclaration": ("method",), "MethodSignature": ("method",), "PropertyDeclaration": ("method",),
    "GetAccessor": ("method",), "SetAccessor": ("method",), "EnumDeclaration": ("enum",),
    "ModuleDeclaration": ("namespace",), "TypeAliasDeclaration": ("type",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--include", action="append")
    parser.add_argument("--show", type=int, default=4, help="examples of misses shown per kind")
    args = parser.parse_args()
    root = args.repo.resolve()
    found = [f for f in sources.discover(root, policy_for(root, args.include)) if f.language in TYPESCRIPT]
    extractions = extract_many(root, found)
    repo = "bench"
    static = graph_module.build(repo, extractions, Resolver(root, tsconfig.find(root)))
    ids = static.symbol_ids
    loc = Locator(root, extractions)

    def node(path: str, sym) -> str:
        return ids[(path, sym.qualified_name, sym.kind)] if sym is not None else file_id(repo, path)

    def label(nid: str) -> str:
        d = static.nodes.get(nid, {})
        return f"{d.get('path')}#{d.get('qualified_name')}" if d.get("kind") not in (None, "file") else d.get("path", nid)

    sites = checker_sites(root, sorted(extractions))
    wanted: dict[tuple[str, str, str], dict] = {}  # (src, dst, edge kind) -> first site
    skipped = Counter()
    for site in sites:
        target = site["target"]
        if target is None:
            skipped[site["why"] or "unresolved"] += 1
            continue
        if target["file"] is None or target["file"] not in extractions:
            skipped["outside the repo"] += 1
            continue
        dst_sym = loc.declared(target["file"], target["name"], target["line"], target["declKind"])
        if dst_sym is None:
            skipped[f"no node ({target['declKind']})"] += 1
            continue
        src = node(site["file"], loc.enclosing(site["file"], loc.byte(site["file"], site["line"], site["col"])))
        dst = node(target["file"], dst_sym)
        if src == dst:
            skipped["recursive"] += 1
            continue
        kind = "renders" if site["kind"] == "jsx" else "calls"
        wanted.setdefault((src, dst, kind), site)

    ours: dict[tuple[str, str, str], str] = {}
    maybe = Counter()
    unread = 0  # edges out of single-file components: the checker's program cannot read them
    for (src, dst, _key), d in static.edges.items():
        if d["kind"] in EDGE_KINDS:
            if not static.nodes.get(src, {}).get("path", "").endswith(CHECKER_READS):
                unread += 1
                continue
            if d["confidence"] == "certain":
                ours[(src, dst, d["kind"])] = d["kind"]
            else:
                maybe[d["kind"]] += 1
    pairs_wanted = {(s, d) for s, d, _ in wanted}
    print(f"{root}: {len(extractions)} files, {len(sites)} checker sites, {len(wanted)} scored pairs; "
          f"not scored: {dict(skipped.most_common())}")
    if unread:
        print(f"not scored: {unread} call and render edges of ours out of files the checker cannot read "
              f"(.vue, .svelte, .astro)")
    for kind in EDGE_KINDS:
        mine = {(s, d) for s, d, k in ours if k == kind}
        theirs = {(s, d) for s, d, k in wanted if k == kind}
        good = mine & (pairs_wanted if kind == "calls" else theirs)
        precision = len(good) / len(mine) if mine else 1.0
        recall = len(mine & theirs) / len(theirs) if theirs else 1.0
        print(f"{kind:8s} certain precision {precision:.3f} ({len(good)}/{len(mine)})  "
              f"recall {recall:.3f} ({len(mine & theirs)}/{len(theirs)})  maybe edges {maybe[kind]}")
        wrong = sorted(mine - (pairs_wanted if kind == "calls" else theirs))
        for s, d in wrong[: args.show * 3]:
            print(f"    not in checker: {label(s)} -> {label(d)}")
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[str, list[str]] = defaultdict(list)
    destructured = [0, 0]
    for (src, dst, kind), site in wanted.items():
        hit = (src, dst, kind) in ours
        row = by_kind[site["kind"]]
        row[0] += 1
        row[1] += hit
        if site.get("destructured"):
            destructured[0] += 1
            destructured[1] += hit
        if not hit:
            misses[site["kind"]].append(f"{site['file']}:{site['line']} {site['text']} -> {label(dst)}")
    print("recall per kind of call site (pairs, found, recall):")
    for k, (n, hit) in sorted(by_kind.items(), key=lambda kv: -(kv[1][0] - kv[1][1])):
        print(f"  {k:9s} {n:6d} {hit:6d} {hit / n:.3f}  missed {n - hit}")
        for example in misses[k][: args.show]:
            print(f"      {example}")
    if destructured[0]:
        print(f"  through destructured bindings: {destructured[1]}/{destructured[0]} = {destructured[1] / destructured[0]:.3f}")
    all_calls = {(s, d) for s, d, k in wanted if k == "calls"}
    print(f"calls recall without destructured bindings: "
          f"{len({(s, d) for s, d, k in ours if k == 'calls'} & {(s, d) for (s, d, k), st in wanted.items() if k == 'calls' and not st.get('destructured')}) / max(1, sum(1 for (s, d, k), st in wanted.items() if k == 'calls' and not st.get('destructured'))):.3f}"
          f" (all calls pairs {len(all_calls)})")


if __name__ == "__main__":
    main()
