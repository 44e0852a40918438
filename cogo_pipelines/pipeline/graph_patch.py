"""Re-making the rows of a few edited files instead of rebuilding the repo's graph.

A file's rows (its nodes, its ``contains`` and ``imports`` edges, the symbol edges out of it)
depend on the file itself, on the list of files and the resolution config, on its entry weight
(the import distances over every file's imports) and, for its symbol edges, on what other files
declare: their symbols, exports, import bindings and re-exports, heritage clauses and declared
types (``linking``), never on their uses (calls, references, renders). So while every edited
file keeps that ``interface`` (a body edit, a comment, moved lines), no other file's rows can
change and the module graph, hence every entry weight, is what it was: only the edited files'
rows are made again, their lookups through other files served by those files' cached
extractions, loaded as the lookups reach them (a few dozen of a big repo's, where the rebuild
unpacks and re-links them all). An edit that changes an interface but not the file's imports
(an export added, a function renamed) re-makes the rows of the files importing it too, directly
or through others (``dependents``), while they are few. Anything else (imports that resolve
elsewhere, files added or removed, another tsconfig or policy, many edits or importers) is the
full rebuild's: ``patch`` answers None before it has written a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import psycopg

from cogo_pipelines.indexing.graph import GraphBuilder
from cogo_pipelines.indexing.ids import file_id
from cogo_pipelines.indexing.linking import Linker, Names
from cogo_pipelines.indexing.model import FileExtraction, SourceFile
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.static_graph import extract_packed
from cogo_pipelines.store import graph_store
from cogo_pipelines.store.graph_writer import GraphWriter

MAX_EDITED = 16  # past this many edited files the rebuild's parallel linking is the better bet
MAX_RELINKED = 64  # files whose rows are made again, the edited ones and those importing them
Progress = Callable[[str, int, int], None] | None


class NotPatchable(Exception):
    """A file a lookup reached has no cached extraction: the rebuild must make the graph."""


def interface(e: FileExtraction) -> tuple:
    """What other files' rows can depend on: everything ``linking.Names`` and the module graph
    read of a file but its uses and the lines of its declarations and imports (an edge never
    carries those). Two extractions with equal interfaces make the same rows in every other
    file."""
    return (
        [(s.kind, s.name, s.qualified_name, s.parent, s.exported) for s in e.symbols],
        [(i.specifier, i.kind, i.bindings, i.expression) for i in e.imports],
        e.exports, e.heritage, e.types, e.globals,
    )


@dataclass
class Patched:
    paths: list[str]  # the files whose rows were made again
    parsed: int
    symbols: int  # the repo's symbol nodes now
    edges: int  # and static edges
    failed: list[tuple[str, str]]  # (path, problem) of the edited files read badly


class _OnDemand(dict):
    """One of ``Names``' per-file tables whose missing paths are loaded on first access (by
    ``get``, ``in`` or ``[]``, the ways ``linking`` reads them)."""

    def __init__(self, load: Callable[[str], None]) -> None:
        super().__init__()
        self._load = load

    def __missing__(self, path: str):
        self._load(path)
        return dict.__getitem__(self, path)

    def get(self, path: str, default=None):
        if not dict.__contains__(self, path):
            self._load(path)
        return dict.get(self, path, default)

    def __contains__(self, path: object) -> bool:
        if not dict.__contains__(self, path):
            self._load(path)
        return dict.__contains__(self, path)


class _LoadingNames(Names):
    """``Names`` over the edited files, the other files' extractions loaded from the cache as
    the lookups reach them. ``global_component`` (which walks every file) is never asked: an
    edited file with a Vue template's globals is not patched."""

    def __init__(self, conn: psycopg.Connection, repo: str, files: dict[str, SourceFile], resolver: Resolver,
                 edited: dict[str, FileExtraction]) -> None:
        super().__init__(repo, {}, resolver)
        self._conn, self._files, self._tried = conn, files, set(edited)
        self.ex, self.symbols, self.bindings, self.reexports = (_OnDemand(self._load) for _ in range(4))
        for e in edited.values():
            self.add(e)

    def _load(self, path: str) -> None:
        if path in self._tried:
            return
        self._tried.add(path)
        f = self._files.get(path)
        if f is None:  # not a file of the graph: the lookup finds nothing, as in the rebuild
            return
        e = graph_store.cached_extraction(self._conn, f)
        if e is None:
            raise NotPatchable(path)
        self.add(e)


def dependents(repo: str, imports: list[tuple[str, str]], changed: list[str], limit: int) -> set[str] | None:
    """The files whose lookups may pass through ``changed`` (files of the graph, by their node
    ids in ``imports``: (importing path, imported node id) pairs): every file that imports one of
    them, directly or through other files (re-exports, bindings of bindings); None past ``limit``
    of them. ``linking`` reaches another file only through a resolved import, so a file outside
    this set makes the same symbol edges whatever ``changed`` declares."""
    importers: dict[str, list[str]] = {}
    for src, dst in imports:
        importers.setdefault(dst, []).append(src)
    found, todo = set(changed), list(changed)
    while todo:
        for src in importers.get(file_id(repo, todo.pop()), ()):
            if src not in found:
                found.add(src)
                todo.append(src)
                if len(found) > limit:
                    return None
    return found - set(changed)


def _imports_of(repo: str, paths: list[str], extractions: dict[str, FileExtraction], resolver: Resolver) -> tuple:
    """What the files' imports make beyond their rows: the unresolved and external imports
    (counted per import in the graph's stats, where the rows keep one per target)."""
    builder = GraphBuilder(repo, paths, resolver)
    for path in sorted(extractions):
        builder.add(extractions[path])
    static = builder.finish({})  # no weights: only the imports are read
    return static.unresolved, static.external


def parse(conn: psycopg.Connection, root, files: list[SourceFile], edited: list[SourceFile],
          progress: Progress = None) -> dict[str, FileExtraction]:
    """The extractions of ``edited``, cached at once: a rebuild after a refused patch finds
    them parsed."""
    payloads: dict[str, bytes] = {}
    news = extract_packed(root, edited, progress,
                          on_extraction=lambda e, payload: payloads.__setitem__(e.path, payload))
    graph_store.cache_extractions(conn, {f.path: f for f in files}, payloads)
    return news


def patch(conn: psycopg.Connection, repo: str, files: list[SourceFile], edited: list[SourceFile],
          news: dict[str, FileExtraction], old_hashes: dict[str, str], resolver: Resolver, entries: list[str],
          stats: dict) -> Patched | None:
    """Make the rows of ``edited`` (TypeScript files of ``files``, whose stored graph was made
    from the contents ``old_hashes``; ``news`` their extractions now), and of the files importing
    those whose interface changed, equal to what a rebuild would write; None (nothing written)
    when the rebuild must run."""
    if not edited:  # only files the graph does not read (Markdown, SQL) changed
        return Patched(paths=[], parsed=0, symbols=stats["symbols"], edges=stats["edges"], failed=[])
    olds = graph_store.cached_extractions(conn, [replace(f, content_hash=old_hashes[f.path]) for f in edited])
    by_path = {f.path: f for f in files}
    if len(olds) != len(news) or any(e.globals for e in (*olds.values(), *news.values())):
        return None  # a Vue template's globals: looked up in every declaration file
    changed = sorted(path for path, e in news.items() if interface(olds[path]) != interface(e))
    extractions = dict(news)
    if changed:
        if any(path.endswith(".d.ts") for path in changed):  # may declare GlobalComponents
            return None
        if _imports_of(repo, list(by_path), {p: olds[p] for p in changed}, resolver) != _imports_of(
                repo, list(by_path), {p: news[p] for p in changed}, resolver):
            return None
        relinked = dependents(repo, graph_store.import_pairs(conn, repo), changed, MAX_RELINKED)
        if relinked is None:
            return None
        relinked -= set(news)
        extractions.update(graph_store.cached_extractions(conn, [by_path[p] for p in relinked]))
        if len(extractions) != len(relinked) + len(news):
            return None
    paths = sorted(extractions)
    weights = graph_store.file_weights(conn, repo, paths)
    if len(weights) != len(paths):
        return None
    builder = GraphBuilder(repo, list(by_path), resolver, entries)
    for path in paths:
        builder.add(extractions[path])
    static = builder.finish(weights)
    imports = {(src, dst, d["detail"], d["confidence"]) for (src, dst, _), d in static.edges.items()
               if d["kind"] == "imports" and d["path"] in extractions}
    if imports != graph_store.import_rows(conn, repo, paths):  # the module graph changed: new weights
        return None
    names = _LoadingNames(conn, repo, by_path, resolver, extractions)
    linker = Linker(repo, extractions, resolver, static.symbol_ids, names)
    try:
        linked = [linker.file_edges(path) for path in paths]
    except NotPatchable:
        return None
    nodes = {nid: d for nid, d in static.nodes.items() if d["path"] in extractions}  # not the files they import
    old_symbols, old_edges = graph_store.path_counts(conn, repo, paths)
    with GraphWriter(conn, repo, paths) as writer:
        writer.nodes(nodes)
        writer.edges({key: d for key, d in static.edges.items() if d["path"] in extractions})
        for edges in linked:
            writer.edges(edges)
    symbols = sum(1 for d in nodes.values() if d["kind"] != "file")
    return Patched(paths=paths, parsed=len(news), symbols=stats["symbols"] - old_symbols + symbols,
                   edges=stats["edges"] - old_edges + writer.edge_count,
                   failed=sorted((path, e.error) for path, e in news.items() if e.error))
