"""Module graph and symbol graph of a repository, from per-file extractions.

The module graph resolves every import record (``resolve.Resolver``); the symbol graph
(networkx) links symbols through ``contains``/``imports``/``calls``/``references``/
``extends``/``implements``. Names are resolved through import bindings and re-export chains
to the defining symbol; what cannot be resolved is kept with ``confidence='maybe'`` and a
placeholder target, never dropped. Entry weights come from the import distance to the
entries over the condensed (cycle-free) module graph.
"""

from __future__ import annotations

import os
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from cogo_pipelines.indexing.ids import file_id, node_id
from cogo_pipelines.indexing.linking import Linker
from cogo_pipelines.indexing.model import FileExtraction
from cogo_pipelines.indexing.resolve import JS_TO_TS, Resolver, is_relative, package_name

UNRESOLVED = "<unresolved>"
_CONCAT_PREFIX = re.compile(r"""^\s*(['"])((?:(?!\1).)*)\1\s*\+""")
_CONCAT_SUFFIX = re.compile(r"""\+\s*(['"])((?:(?!\1).)*)\1\s*$""")


@dataclass(frozen=True)
class ModuleEdge:
    src: str
    dst: str  # repo-relative path, or UNRESOLVED for a non-literal import nothing matches
    kind: str  # import | type | reexport | dynamic | require | reference | maybe
    line: int
    specifier: str | None = None

    @property
    def confidence(self) -> str:
        return "maybe" if self.kind == "maybe" else "certain"


@dataclass
class StaticGraph:
    """Nodes and relationships as plain dicts (what the store writes), with ``graph`` the
    networkx view of them, built on first use."""

    repo: str
    nodes: dict[str, dict] = field(default_factory=dict)  # id -> ast_nodes columns
    edges: dict[tuple[str, str, tuple[str, str]], dict] = field(default_factory=dict)  # (src, dst, key) -> attrs
    module_edges: list[ModuleEdge] = field(default_factory=list)
    unresolved: list[tuple[str, str, str]] = field(default_factory=list)  # (path, specifier, reason)
    external: Counter = field(default_factory=Counter)  # package name -> import count
    entries: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, problem) of files read badly
    symbol_ids: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (path, qname, kind) -> id

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        g.add_nodes_from(self.nodes.items())
        g.add_edges_from((src, dst, key, data) for (src, dst, key), data in self.edges.items())
        return g

    @property
    def resolved_ratio(self) -> float:
        """Share of relative/aliased imports that resolved to a file."""
        resolved = sum(1 for e in self.module_edges if e.dst != UNRESOLVED)
        total = resolved + len(self.unresolved)
        return resolved / total if total else 1.0


# --- module graph --------------------------------------------------------------------------

def _template_parts(expression: str) -> tuple[str, str] | None:
    """Literal prefix and suffix of a template literal or string concatenation."""
    expr = expression.strip()
    if expr.startswith("`") and expr.endswith("`") and "${" in expr:
        body = expr[1:-1]
        return body[: body.index("${")], body[body.rindex("}") + 1:]
    prefix = _CONCAT_PREFIX.match(expr)
    suffix = _CONCAT_SUFFIX.search(expr)
    if prefix or suffix:
        return (prefix.group(2) if prefix else "", suffix.group(2) if suffix else "")
    return None


def _maybe_targets(expression: str | None, from_path: str, files: list[str]) -> list[str]:
    parts = _template_parts(expression or "")
    if parts is None or not is_relative(parts[0]):
        return []
    prefix, suffix = parts
    folder, _, start = prefix.rpartition("/")
    base = os.path.normpath(os.path.join(os.path.dirname(from_path), folder)).replace(os.sep, "/")
    lead = ("" if base == "." else base + "/") + start
    dot = suffix.rfind(".")
    stem, ext = (suffix[:dot], suffix[dot:]) if dot >= 0 and "/" not in suffix[dot:] else (suffix, "")
    suffixes = tuple({suffix} | {stem + t for t in JS_TO_TS.get(ext, ())})
    found = []
    for f in files:
        if f.startswith(lead) and f != from_path:
            bare = f[: -len(".d.ts")] if f.endswith(".d.ts") else os.path.splitext(f)[0]
            if f.endswith(suffixes) or bare.endswith(suffixes) or (bare.endswith("/index") and bare[:-6].endswith(suffixes)):
                found.append(f)
    return found


def module_edges(extractions: dict[str, FileExtraction], resolver: Resolver, graph: StaticGraph) -> None:
    files = sorted(extractions)
    seen: set[tuple[str, str, str]] = set()
    for path in files:
        for record in extractions[path].imports:
            if record.specifier is None:
                targets = _maybe_targets(record.expression, path, files) or [UNRESOLVED]
                for dst in targets:
                    if (path, dst, "maybe") not in seen:
                        seen.add((path, dst, "maybe"))
                        graph.module_edges.append(ModuleEdge(path, dst, "maybe", record.line, record.expression))
                continue
            spec = record.specifier
            if record.kind == "reference" and not is_relative(spec):
                spec = "./" + spec  # triple-slash paths are always file-relative
            resolution = resolver.resolve(spec, path)
            if resolution.internal:
                key = (path, resolution.path, record.kind)
                if key not in seen:
                    seen.add(key)
                    graph.module_edges.append(ModuleEdge(path, resolution.path, record.kind, record.line, spec))
            elif resolution.status == "unresolved":
                graph.unresolved.append((path, record.specifier, resolution.reason or "unresolved"))
            else:
                graph.external["node:" + package_name(spec.removeprefix("node:"))
                               if resolution.status == "builtin" else package_name(spec)] += 1


def entry_weights(files: list[str], edges: list[ModuleEdge], entries: list[str]) -> dict[str, float]:
    """``1/(1+d)``, d = import distance from the nearest entry over the SCC-condensed graph."""
    g = nx.DiGraph()
    g.add_nodes_from(files)
    g.add_edges_from((e.src, e.dst) for e in edges if e.dst != UNRESOLVED)
    condensed = nx.condensation(g)
    component = condensed.graph["mapping"]
    distance: dict[int, int] = {}
    queue = deque()
    for entry in entries:
        if entry in component and component[entry] not in distance:
            distance[component[entry]] = 0
            queue.append(component[entry])
    while queue:
        c = queue.popleft()
        for nxt in condensed.successors(c):
            if nxt not in distance:
                distance[nxt] = distance[c] + 1
                queue.append(nxt)
    return {f: (1.0 / (1 + distance[component[f]]) if component[f] in distance else 0.0) for f in g.nodes}


def build_modules(
    repo: str,
    extractions: dict[str, FileExtraction],
    resolver: Resolver,
    entries: list[str] | None = None,
) -> StaticGraph:
    """Everything but the symbol edges: module edges, weights, every node, ``contains`` and
    ``imports`` edges. The symbol edges (``linking.Linker``) only point at these nodes or at
    placeholders, so the nodes can be written before any symbol is linked."""
    graph = StaticGraph(repo=repo, entries=[e for e in entries or [] if e in extractions])
    nodes, edges, ids = graph.nodes, graph.edges, graph.symbol_ids
    module_edges(extractions, resolver, graph)
    files = sorted(extractions)
    graph.errors = [(p, extractions[p].error) for p in files if extractions[p].error]
    if resolver.config.path is not None:
        name = os.path.basename(resolver.config.path)
        graph.errors += [(name, problem) for problem in resolver.config.errors]
    weights = entry_weights(files, graph.module_edges, graph.entries)

    def file_node(path: str) -> dict:
        w = weights.get(path, 0.0)
        return {"repo": repo, "path": path, "kind": "file", "name": os.path.basename(path), "qualified_name": path,
                "signature": None, "start_line": 1, "end_line": None, "exported": False, "entry_weight": w, "rank": w}

    fids = {p: file_id(repo, p) for p in files}
    for path in files:
        w = weights.get(path, 0.0)
        nodes[fids[path]] = file_node(path)
        symbols = extractions[path].symbols
        for sym in symbols:
            ids[(path, sym.qualified_name, sym.kind)] = sid = node_id(repo, path, sym.qualified_name, sym.kind)
            nodes[sid] = {
                "repo": repo, "path": path, "kind": sym.kind, "name": sym.name, "qualified_name": sym.qualified_name,
                "signature": sym.signature, "start_line": sym.start_line, "end_line": sym.end_line,
                "exported": sym.exported, "entry_weight": w, "rank": w,
            }
        by_name = {s.qualified_name: s for s in symbols}
        for sym in symbols:
            parent = by_name.get(sym.parent) if sym.parent else None
            src = ids[(path, parent.qualified_name, parent.kind)] if parent else fids[path]
            edges[(src, ids[(path, sym.qualified_name, sym.kind)], ("contains", ""))] = {
                "kind": "contains", "confidence": "certain", "path": path}
    for e in graph.module_edges:
        if e.dst == UNRESOLVED:
            dst = f"unresolved:{e.specifier}"
        else:
            dst = fids.get(e.dst) or file_id(repo, e.dst)
            if dst not in nodes:  # a target outside the policy (.js, .json, another folder)
                nodes[dst] = file_node(e.dst)
        edges[(fids[e.src], dst, ("imports", e.kind))] = {
            "kind": "imports", "confidence": e.confidence, "detail": e.kind, "path": e.src}
    for path, spec, reason in graph.unresolved:
        edges[(fids[path], f"unresolved:{spec}", ("imports", "unresolved"))] = {
            "kind": "imports", "confidence": "maybe", "detail": reason, "path": path}
    return graph


def build(
    repo: str,
    extractions: dict[str, FileExtraction],
    resolver: Resolver,
    entries: list[str] | None = None,
) -> StaticGraph:
    """The whole static graph of a repo from its files' extractions, in this process."""
    graph = build_modules(repo, extractions, resolver, entries)
    linker = Linker(repo, extractions, resolver, graph.symbol_ids)
    for path in sorted(extractions):
        graph.edges.update(linker.file_edges(path))
    return graph
