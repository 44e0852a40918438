"""Module graph and symbol graph of a repository, from per-file extractions.

The module graph resolves every import record (``resolve.Resolver``); the symbol graph
(networkx) links symbols through ``contains``/``imports``/``calls``/``references``/
``extends``/``implements``. Names are resolved through import bindings and re-export chains
to the defining symbol; what cannot be resolved is kept with ``confidence='maybe'`` and a
placeholder target, never dropped. Entry weights come from the import distance to the
entries over the condensed (cycle-free) module graph.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import networkx as nx

from cogo_pipelines.indexing.model import FileExtraction, Symbol
from cogo_pipelines.indexing.resolve import JS_TO_TS, Resolver, is_relative, package_name

UNRESOLVED = "<unresolved>"
FILE_PREFIX = 12  # hex digits of a node id shared by every node of one file
_CONCAT_PREFIX = re.compile(r"""^\s*(['"])((?:(?!\1).)*)\1\s*\+""")
_CONCAT_SUFFIX = re.compile(r"""\+\s*(['"])((?:(?!\1).)*)\1\s*$""")


@functools.lru_cache(maxsize=8192)
def file_prefix(repo: str, path: str) -> str:
    return hashlib.sha256(f"{repo}\0{path}".encode()).hexdigest()[:FILE_PREFIX]


def node_id(repo: str, path: str, qualified_name: str, kind: str) -> str:
    """Stable across runs: the same declaration keeps its id while it keeps its name.

    32 hex digits, the first ``FILE_PREFIX`` naming the file: a file's nodes, and the edges out
    of them (``store.graph_store``), sit together in the b-tree indexes, which makes writing a
    graph about a quarter cheaper for the server than fully random ids."""
    digest = hashlib.sha256(f"{repo}\0{path}\0{qualified_name}\0{kind}".encode()).hexdigest()
    return file_prefix(repo, path) + digest[: 32 - FILE_PREFIX]


def file_id(repo: str, path: str) -> str:
    return node_id(repo, path, path, "file")


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


class GraphSink(Protocol):
    """Receives the graph while ``build`` makes it: every node once, then edges in batches
    that never share a key (a store writer streams them while the rest is resolved)."""

    def nodes(self, nodes: dict[str, dict]) -> None: ...

    def edges(self, edges: dict[tuple[str, str, tuple[str, str]], dict]) -> None: ...


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


# --- symbol resolution ---------------------------------------------------------------------

class _Names:
    """Name lookup across files: local symbols, import bindings, exports and re-exports."""

    def __init__(self, repo: str, extractions: dict[str, FileExtraction], resolver: Resolver) -> None:
        self.repo = repo
        self.ex = extractions
        self.resolver = resolver
        self.symbols = {p: {s.qualified_name: s for s in e.symbols} for p, e in extractions.items()}
        self.bindings: dict[str, dict[str, tuple[str | None, str, str]]] = {}
        self.reexports: dict[str, list[tuple[str | None, dict[str, str]]]] = {}
        for path, e in extractions.items():
            local: dict[str, tuple[str | None, str, str]] = {}
            reexports = []
            for rec in e.imports:
                if rec.specifier is None or rec.kind == "reference":
                    continue
                target = resolver.resolve(rec.specifier, path)
                target_path = target.path if target.internal else None
                external = package_name(rec.specifier) if not target.internal else ""
                if rec.kind == "reexport":
                    reexports.append((target_path, rec.bindings))
                else:
                    for name, imported in rec.bindings.items():
                        local[name] = (target_path, imported, external)
            self.bindings[path] = local
            self.reexports[path] = reexports
        self._export_memo: dict[tuple[str, str], tuple | None] = {}
        self._dotted_memo: dict[tuple[str, str, tuple[str, ...]], tuple | None] = {}

    def dotted_memo(self, path: str, text: str, scopes: tuple[str, ...] = ()) -> tuple | None:
        """``dotted`` for the top-level lookups of ``build``, where the same callee or type
        name recurs in many symbols of a file (the answer only depends on the arguments)."""
        key = (path, text, scopes)
        memo = self._dotted_memo
        if key in memo:
            return memo[key]
        found = memo[key] = self.dotted(path, text, scopes)
        return found

    def export(self, path: str, name: str, depth: int = 0) -> tuple | None:
        """What module ``path`` exports as ``name``: ("symbol", path, qname) or ("module", path)."""
        if name == "*":
            return ("module", path)
        key = (path, name)
        if key in self._export_memo:
            return self._export_memo[key]
        self._export_memo[key] = None  # cycle guard
        found = None
        if depth < 30 and path in self.ex:
            exports = self.ex[path].exports
            if name in exports:
                found = self.local(path, exports[name], depth + 1)
            if found is None:
                for target, bindings in self.reexports.get(path, ()):
                    if target is None:
                        continue
                    if name in bindings:
                        found = self.export(target, bindings[name], depth + 1)
                    elif "*" in bindings and name != "default":
                        found = self.export(target, name, depth + 1)
                    if found:
                        break
        self._export_memo[key] = found
        return found

    def local(self, path: str, name: str, depth: int = 0, scopes: tuple[str, ...] = ()) -> tuple | None:
        """A name as seen at module level of ``path`` (or inside the given namespace scopes)."""
        symbols = self.symbols.get(path, {})
        for scope in scopes:
            if f"{scope}.{name}" in symbols:
                return ("symbol", path, f"{scope}.{name}")
        if name in symbols:
            return ("symbol", path, name)
        binding = self.bindings.get(path, {}).get(name)
        if binding:
            target, imported, external = binding
            if target is None:
                return ("external", external, imported)
            return self.export(target, imported, depth + 1)
        return None

    def dotted(self, path: str, text: str, scopes: tuple[str, ...] = ()) -> tuple | None:
        """``a`` / ``ns.b`` / ``Class.method`` / ``ns.Class.method``."""
        head, *rest = text.split(".")
        found = self.local(path, head, scopes=scopes)
        for i, part in enumerate(rest):
            if found is None:
                return None
            if found[0] == "external":  # a package's member: named, never resolved further
                return ("external", found[1], ".".join([found[2], *rest[i:]]))
            if found[0] == "module":
                found = self.export(found[1], part)
            elif found[0] == "symbol":
                owner = found
                found = self.member(found[1], found[2], part)
                if found is None and self.symbols[owner[1]][owner[2]].kind in ("interface", "type", "class"):
                    return ("member_of", owner[1], owner[2])  # a member we have no node for
            else:
                return None
        return found

    def member(self, path: str, qname: str, name: str, depth: int = 0) -> tuple | None:
        """``name`` on a class / namespace / enum, following ``extends`` for classes."""
        symbols = self.symbols.get(path, {})
        if f"{qname}.{name}" in symbols:
            return ("symbol", path, f"{qname}.{name}")
        sym = symbols.get(qname)
        if sym is None or sym.kind != "class" or depth > 8:
            return None
        for klass, relation, base in self.ex[path].heritage:
            if klass == qname and relation == "extends":
                parent = self.dotted(path, base.split("<")[0])
                if parent and parent[0] == "symbol":
                    found = self.member(parent[1], parent[2], name, depth + 1)
                    if found:
                        return found
        return None


def _scopes(symbols: dict[str, Symbol], caller: str) -> tuple[tuple[str, ...], str | None]:
    """Enclosing namespaces (innermost first) and the enclosing class of ``caller``."""
    namespaces, klass = [], None
    current = symbols.get(caller)
    while current is not None:
        if current.kind == "namespace":
            namespaces.append(current.qualified_name)
        elif current.kind == "class" and klass is None:
            klass = current.qualified_name
        current = symbols.get(current.parent) if current.parent else None
    return tuple(namespaces), klass


def build(
    repo: str,
    extractions: dict[str, FileExtraction],
    resolver: Resolver,
    entries: list[str] | None = None,
    sink: GraphSink | None = None,
) -> StaticGraph:
    """The whole static graph of a repo from its files' extractions. With a ``sink``, the
    nodes go out as soon as they are all known and the edges file by file."""
    graph = StaticGraph(repo=repo, entries=[e for e in entries or [] if e in extractions])
    nodes, edges = graph.nodes, graph.edges
    module_edges(extractions, resolver, graph)
    files = sorted(extractions)
    graph.errors = [(p, extractions[p].error) for p in files if extractions[p].error]
    if resolver.config.path is not None:
        name = os.path.basename(resolver.config.path)
        graph.errors += [(name, problem) for problem in resolver.config.errors]
    weights = entry_weights(files, graph.module_edges, graph.entries)
    ids: dict[tuple[str, str, str], str] = {}

    def sid(path: str, sym: Symbol) -> str:
        key = (path, sym.qualified_name, sym.kind)
        found = ids.get(key)
        if found is None:
            found = ids[key] = node_id(repo, path, sym.qualified_name, sym.kind)
        return found

    def file_node(path: str) -> dict:
        w = weights.get(path, 0.0)
        return {"repo": repo, "path": path, "kind": "file", "name": os.path.basename(path), "qualified_name": path,
                "signature": None, "start_line": 1, "end_line": None, "exported": False, "entry_weight": w, "rank": w}

    fids = {p: file_id(repo, p) for p in files}
    for path in files:
        w = weights.get(path, 0.0)
        nodes[fids[path]] = file_node(path)
        by_name = {s.qualified_name: s for s in extractions[path].symbols}
        for sym in extractions[path].symbols:
            nodes[sid(path, sym)] = {
                "repo": repo, "path": path, "kind": sym.kind, "name": sym.name, "qualified_name": sym.qualified_name,
                "signature": sym.signature, "start_line": sym.start_line, "end_line": sym.end_line,
                "exported": sym.exported, "entry_weight": w, "rank": w,
            }
            parent = by_name.get(sym.parent) if sym.parent else None
            src = sid(path, parent) if parent else fids[path]
            edges[(src, sid(path, sym), ("contains", ""))] = {"kind": "contains", "confidence": "certain", "path": path}
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
    if sink is not None:
        sink.nodes(nodes)  # complete: symbol edges below only point at these or at placeholders
        sink.edges(dict(edges))  # a copy: ``edges`` keeps growing while the sink reads

    names = _Names(repo, extractions, resolver)

    def target_id(found: tuple | None) -> str | None:
        if found and found[0] == "symbol":
            return sid(found[1], names.symbols[found[1]][found[2]])
        if found and found[0] == "module":
            return file_id(repo, found[1])
        return None

    def link(out: dict, src: str, found: tuple | None, kind: str, text: str, path: str, keep_unresolved: bool) -> None:
        if found and found[0] == "member_of":  # e.g. a method of an interface: its owner, maybe
            if keep_unresolved:
                owner = sid(found[1], names.symbols[found[1]][found[2]])
                out[(src, owner, (kind, text))] = {"kind": kind, "confidence": "maybe", "detail": text, "path": path}
            return
        dst = target_id(found)
        if dst is not None:
            if dst != src:
                out[(src, dst, (kind, ""))] = {"kind": kind, "confidence": "certain", "path": path}
        elif keep_unresolved:
            placeholder = f"external:{found[1]}:{found[2]}" if found and found[0] == "external" else f"unresolved:{text}"
            out[(src, placeholder, (kind, text))] = {"kind": kind, "confidence": "maybe", "detail": text, "path": path}

    scope_memo: dict[tuple[str, str], tuple[tuple[str, ...], str | None, str]] = {}

    def scope(path: str, caller: str) -> tuple[tuple[str, ...], str | None, str]:
        """(namespaces, class, node id) of a caller: the same few recur for all its uses."""
        found = scope_memo.get((path, caller))
        if found is None:
            symbols = names.symbols[path]
            sym = symbols.get(caller)
            found = scope_memo[(path, caller)] = (*_scopes(symbols, caller), sid(path, sym) if sym else fids[path])
        return found

    for path in files:
        ex = extractions[path]
        batch: dict = {}  # this file's uses: their sources lie in this file, so no batch repeats a key
        for call in ex.calls:
            namespaces, klass, src = scope(path, call.caller)
            callee = call.callee
            if callee.startswith("new "):
                found = names.dotted_memo(path, callee[4:], namespaces)
            elif callee.startswith("this.") and callee.count(".") == 1:
                found = names.member(path, klass, callee[5:]) if klass else None
            elif callee.startswith(("?.", "this.")):
                found = None
            else:
                found = names.dotted_memo(path, callee, namespaces)
            link(batch, src, found, "calls", callee, path, keep_unresolved=True)
        for owner, relation, base in ex.heritage:
            namespaces, _, src = scope(path, owner)
            found = names.dotted_memo(path, base.split("<")[0], namespaces)
            link(batch, src, found, relation, base, path, keep_unresolved=True)
        for owner, name, _line in ex.references:
            namespaces, _, src = scope(path, owner)
            link(batch, src, names.dotted_memo(path, name, namespaces), "references", name, path, keep_unresolved=False)
        edges.update(batch)
        if sink is not None:
            sink.edges(batch)
    return graph
