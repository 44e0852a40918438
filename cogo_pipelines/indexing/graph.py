"""Module graph and symbol graph of a repository, from per-file extractions.

The module graph resolves every import record (``resolve.Resolver``); the symbol graph
(networkx) links symbols through ``contains``/``imports``/``calls``/``references``/
``extends``/``implements``. ``GraphBuilder`` makes the nodes, ``contains`` and ``imports``
edges file by file; ``linking.Linker`` resolves names through import bindings and re-export
chains to the defining symbol, keeping what cannot be resolved with ``confidence='maybe'``
and a placeholder target, never dropped. Entry weights come from the import distance to the
entries over the condensed (cycle-free) module graph.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from cogo_pipelines.indexing import import_distance
from cogo_pipelines.indexing.ids import file_id, node_id
from cogo_pipelines.indexing.linking import Linker
from cogo_pipelines.indexing.model import FileExtraction
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.resolve_files import JS_TO_TS
from cogo_pipelines.indexing.specifiers import is_relative, package_name

if TYPE_CHECKING:
    import networkx as nx

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
        import networkx as nx  # deferred: ~0.1 s of import a warm `cogo graph` never needs

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


# files one non-literal import may name as `maybe` edges: `import(`./${name}`)` at the top of a
# large repo matches every file under it, and each such import stored an edge to each (a plugin
# loader of 20,000 files: 20,000 rows per import). Past this it is one unresolved edge, as when
# nothing matches
MAX_MAYBE_TARGETS = 1000


def _maybe_targets(expression: str | None, from_path: str, files: list[str]) -> list[str]:
    """The files a template or concatenated specifier can name, from ``files`` (sorted: those
    under the literal prefix are one run of them, found by bisection), or [] when none or more
    than ``MAX_MAYBE_TARGETS`` do."""
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
    for i in range(bisect.bisect_left(files, lead), len(files)):
        f = files[i]
        if not f.startswith(lead):
            break
        if f != from_path:
            bare = f[: -len(".d.ts")] if f.endswith(".d.ts") else os.path.splitext(f)[0]
            if f.endswith(suffixes) or bare.endswith(suffixes) or (bare.endswith("/index") and bare[:-6].endswith(suffixes)):
                found.append(f)
                if len(found) > MAX_MAYBE_TARGETS:
                    return []
    return found


def entry_weights(files: list[str], edges: list[ModuleEdge], entries: list[str]) -> dict[str, float]:
    """``1/(1+d)``, d = import distance from the nearest entry over the SCC-condensed graph
    (``import_distance``: no networkx on a rebuild's critical path)."""
    return import_distance.entry_weights(files, ((e.src, e.dst) for e in edges if e.dst != UNRESOLVED), entries)


class GraphBuilder:
    """Everything but the symbol edges, file by file: ``add`` each file's extraction as it
    comes (while other files are still being parsed), then ``finish``. Module edges, nodes and
    ``contains`` edges of a file need only that file and the list of all files; entry weights,
    the one global part, are filled in at the end. The symbol edges (``linking.Linker``) only
    point at these nodes or at placeholders, so the nodes can be written before any is linked."""

    def __init__(self, repo: str, files: list[str], resolver: Resolver, entries: list[str] | None = None) -> None:
        self.repo, self.resolver = repo, resolver
        self.files = sorted(files)
        self.graph = StaticGraph(repo=repo, entries=[e for e in entries or [] if e in set(self.files)])
        self._module_edges: dict[str, list[ModuleEdge]] = {}
        self._unresolved: dict[str, list[tuple[str, str, str]]] = {}
        self._errors: dict[str, str] = {}

    def add(self, e: FileExtraction) -> tuple[dict[str, dict], dict[tuple[str, str, tuple[str, str]], dict]]:
        """Takes in one file; returns its nodes and ``contains`` edges, which are final now
        but for the entry weights (``finish``)."""
        repo, path, graph = self.repo, e.path, self.graph
        ids = graph.symbol_ids
        if e.error:
            self._errors[path] = e.error
        fid = file_id(repo, path)
        nodes = {fid: self._file_node(path)}
        for sym in e.symbols:
            ids[(path, sym.qualified_name, sym.kind)] = sid = node_id(repo, path, sym.qualified_name, sym.kind)
            nodes[sid] = {
                "repo": repo, "path": path, "kind": sym.kind, "name": sym.name, "qualified_name": sym.qualified_name,
                "signature": sym.signature, "start_line": sym.start_line, "end_line": sym.end_line,
                "exported": sym.exported, "entry_weight": 0.0, "rank": 0.0,
            }
        by_name = {s.qualified_name: s for s in e.symbols}
        edges = {}
        for sym in e.symbols:
            parent = by_name.get(sym.parent) if sym.parent else None
            src = ids[(path, parent.qualified_name, parent.kind)] if parent else fid
            edges[(src, ids[(path, sym.qualified_name, sym.kind)], ("contains", ""))] = {
                "kind": "contains", "confidence": "certain", "path": path}
        graph.nodes.update(nodes)
        graph.edges.update(edges)
        self._resolve_imports(e)
        return nodes, edges

    def _file_node(self, path: str) -> dict:
        return {"repo": self.repo, "path": path, "kind": "file", "name": os.path.basename(path), "qualified_name": path,
                "signature": None, "start_line": 1, "end_line": None, "exported": False, "entry_weight": 0.0,
                "rank": 0.0}

    def _resolve_imports(self, e: FileExtraction) -> None:
        path, resolver, graph = e.path, self.resolver, self.graph
        out: list[ModuleEdge] = []
        unresolved: list[tuple[str, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for record in e.imports:
            if record.specifier is None:
                for dst in _maybe_targets(record.expression, path, self.files) or [UNRESOLVED]:
                    if (dst, "maybe") not in seen:
                        seen.add((dst, "maybe"))
                        out.append(ModuleEdge(path, dst, "maybe", record.line, record.expression))
                continue
            spec = record.specifier
            if record.kind == "reference" and not is_relative(spec):
                spec = "./" + spec  # triple-slash paths are always file-relative
            resolution = resolver.resolve(spec, path)
            if resolution.internal:
                if (resolution.path, record.kind) not in seen:
                    seen.add((resolution.path, record.kind))
                    out.append(ModuleEdge(path, resolution.path, record.kind, record.line, spec))
            elif resolution.status == "unresolved":
                unresolved.append((path, record.specifier, resolution.reason or "unresolved"))
            else:
                graph.external["node:" + package_name(spec.removeprefix("node:"))
                               if resolution.status == "builtin" else package_name(spec)] += 1
        self._module_edges[path] = out
        self._unresolved[path] = unresolved

    def finish(self, weights: dict[str, float] | None = None) -> StaticGraph:
        """Entry weights over the whole module graph (or ``weights``, when the files added are
        a few whose imports are known to be as they were: ``pipeline/graph_patch``), the
        ``imports`` edges, file order."""
        repo, graph, resolver = self.repo, self.graph, self.resolver
        nodes, edges = graph.nodes, graph.edges
        added = sorted(self._module_edges)  # the files that were added, in path order
        graph.module_edges = [m for path in added for m in self._module_edges[path]]
        graph.unresolved = [u for path in added for u in self._unresolved[path]]
        graph.errors = [(path, self._errors[path]) for path in added if path in self._errors]
        if resolver.config.path is not None:
            name = os.path.basename(resolver.config.path)
            graph.errors += [(name, problem) for problem in resolver.config.errors]
        graph.errors += resolver.config_problems
        if weights is None:
            weights = entry_weights(added, graph.module_edges, graph.entries)
        for d in nodes.values():
            d["entry_weight"] = d["rank"] = weights.get(d["path"], 0.0)
        for e in graph.module_edges:
            if e.dst == UNRESOLVED:
                dst = f"unresolved:{e.specifier}"
            else:
                dst = file_id(repo, e.dst)
                if dst not in nodes:  # a target outside the policy (.js, .json, another folder)
                    nodes[dst] = self._file_node(e.dst)
            edges[(file_id(repo, e.src), dst, ("imports", e.kind))] = {
                "kind": "imports", "confidence": e.confidence, "detail": e.kind, "path": e.src}
        for path, spec, reason in graph.unresolved:
            edges[(file_id(repo, path), f"unresolved:{spec}", ("imports", "unresolved"))] = {
                "kind": "imports", "confidence": "maybe", "detail": reason, "path": path}
        return graph


def build(
    repo: str,
    extractions: dict[str, FileExtraction],
    resolver: Resolver,
    entries: list[str] | None = None,
) -> StaticGraph:
    """The whole static graph of a repo from its files' extractions, in this process."""
    builder = GraphBuilder(repo, list(extractions), resolver, entries)
    for path in sorted(extractions):
        builder.add(extractions[path])
    graph = builder.finish()
    linker = Linker(repo, extractions, resolver, graph.symbol_ids)
    for path in sorted(extractions):
        graph.edges.update(linker.file_edges(path))
    return graph
