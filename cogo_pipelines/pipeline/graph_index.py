"""Indexing the static graph of one repo: discovery, incremental parse, linking, writing.

The orchestration of the graph stage (it used to live in ``store/graph_store.py``; the store now
only reads and writes). Per-file extractions are cached by content hash in the store
(``graph_store.cached_extractions``), so only files whose bytes changed are parsed. A repo whose
files, tsconfig, entries and policy all match the last run (``graph_state`` fingerprint) is not
rebuilt at all. The rows are streamed with COPY (``graph_writer``) while the symbol edges are
still being linked, in forked processes where the repo is big enough; a re-run is idempotent,
rows of vanished files disappear, and ``runtime_count`` written by the runtime stage survives.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from cogo_pipelines import collector
from cogo_pipelines.indexing import graph as graph_module
from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.graph import UNRESOLVED, ModuleEdge, StaticGraph
from cogo_pipelines.indexing.linking import Linker, Names
from cogo_pipelines.indexing.model import FileExtraction, SourceFile
from cogo_pipelines.indexing.reading import read_regular
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.static_graph import TYPESCRIPT, extract_packed, link_files
from cogo_pipelines.pipeline import graph_patch
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import files as files_store
from cogo_pipelines.store import graph_store, repo_roots
from cogo_pipelines.store.graph_store import (
    EXTRACTOR_VERSION,
    GRAPH_VERSION,
    cached_extractions,
    stored_errors,
)
from cogo_pipelines.store.graph_writer import GraphWriter, RowsAhead, edge_rows

Progress = Callable[[str, int, int], None] | None
CACHE_BATCH = 64  # extractions stored per statement while the workers parse


@dataclass
class StaticGraphResult:
    repo: str
    files: list[SourceFile]
    delta: files_store.FileDelta
    parsed: int = 0
    symbols: int = 0
    edges: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    unresolved: int = 0
    resolved_ratio: float = 1.0
    external: dict[str, int] = field(default_factory=dict)  # package / node: builtin -> import count
    skipped: bool = False  # nothing changed since the last run: the stored graph stands
    patched: list[str] = field(default_factory=list)  # patched: only these files' rows were made again
    graph: StaticGraph | None = None  # when rebuilt: module graph and nodes (symbol edges went to the store)



def _fingerprint(shape: str, found: list[SourceFile]) -> str:
    """The shape and every file's content: equal, the stored graph stands as it is."""
    digest = hashlib.sha256(shape.encode())
    for f in found:
        digest.update(f"{f.path}\0{f.content_hash}\n".encode())
    return digest.hexdigest()


def _shape(repo: str, found: list[SourceFile], config: tsconfig.TsConfig, entries: list[str],
           policy: sources.Policy, root: Path | None = None, configs: list[str] = ()) -> str:
    """Everything the graph depends on but the files' contents: the code versions, entries,
    policy, the list of files and the resolution configs. Equal, a few edited files can be
    patched (``graph_patch``)."""
    digest = hashlib.sha256()
    for part in (repo, EXTRACTOR_VERSION, GRAPH_VERSION, json.dumps(entries), json.dumps(policy.include),
                 json.dumps(policy.exclude)):
        digest.update(part.encode() + b"\0")
    for f in found:
        digest.update(f"{f.path}\0{f.language}\n".encode())
    for path in config.chain:
        try:
            digest.update(read_regular(path))
        except OSError:
            pass
    digest.update("\n".join(config.errors).encode())
    for rel in configs:  # a package's tsconfig paths, exports, a deno.json import map
        try:
            digest.update(rel.encode() + b"\0" + read_regular(root / rel))
        except OSError:
            pass
        if os.path.basename(rel).startswith(sources.CONFIG_PREFIXES):  # and the bases it extends (a shared
            for base in tsconfig.load(root / rel).chain[1:]:  # @acme/tsconfig/base.json)
                try:
                    digest.update(str(base).encode() + b"\0" + read_regular(base))
                except OSError:
                    pass
    return digest.hexdigest()



class _Intake:
    """Where each extraction goes as it arrives, while the workers parse on: the graph builder
    (nodes, ``contains`` and module edges), the linking's name tables, the COPY text of its rows
    (so the writer has rows for the server the moment parsing ends) and the extraction cache,
    stored in batches (the connection idles then)."""

    def __init__(self, conn: psycopg.Connection, repo: str, files: list[SourceFile], resolver: Resolver,
                 entries: list[str]) -> None:
        self.conn = conn
        self.files = {f.path: f for f in files}
        self.builder = graph_module.GraphBuilder(repo, list(self.files), resolver, entries)
        self.names = Names(repo, {}, resolver)
        self.ahead = RowsAhead(repo)
        self._unstored: dict[str, bytes] = {}

    def __call__(self, extraction: FileExtraction, payload: bytes | None = None) -> None:
        self.ahead.add(extraction.path, *self.builder.add(extraction))
        self.names.add(extraction)
        if payload is not None:
            self._unstored[extraction.path] = payload
            if len(self._unstored) >= CACHE_BATCH:
                self.store_cache(self.conn)

    def store_cache(self, conn: psycopg.Connection) -> None:
        """The payloads not stored yet (the rest is the writer's: ``conn`` is its connection)."""
        graph_store.cache_extractions(conn, self.files, self._unstored)
        self._unstored = {}



def index_static_graph(
    conn: psycopg.Connection,
    root: Path,
    *,
    repo: str | None = None,
    entries: list[str] | None = None,
    policy: sources.Policy | None = None,
    progress: Progress = None,
    discovery: sources.Discovery | None = None,
) -> StaticGraphResult:
    """Discover (unless ``discovery`` is the walk already made under ``policy``), parse what
    changed, build the module + symbol graph, write it.

    The graph allocates about a million objects that all live to the end of the run; the cyclic
    collector would walk them again and again finding nothing (0.1 s on a 360-file repo, inside
    the critical path), and once more right after the run: it is paused (``collector``)."""
    with collector.paused():
        return _index_static_graph(conn, root, repo, entries, policy, progress, discovery)


def _index_static_graph(conn: psycopg.Connection, root: Path, repo: str | None, entries: list[str] | None,
                        policy: sources.Policy | None, progress: Progress,
                        discovery: sources.Discovery | None = None) -> StaticGraphResult:
    root = Path(root).resolve()
    policy = policy or sources.Policy()
    repo = repo or sources.repo_id(root)
    entries = list(entries if entries is not None else get_settings().entries)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    discovery = discovery if discovery is not None else sources.scan(root, policy)
    found = discovery.files
    config = tsconfig.find(root)
    delta = files_store.sync_files(conn, repo, found)
    shape = _shape(repo, found, config, entries, policy, root, discovery.resolution_configs)
    fingerprint = _fingerprint(shape, found)
    seconds["discover"] = time.perf_counter() - t
    if progress:
        progress("discover", len(found), len(found))
    result = StaticGraphResult(repo=repo, files=found, delta=delta, seconds=seconds)
    state = graph_store.graph_state(conn, repo)
    hashes = {f.path: f.content_hash for f in found}
    if state and state["fingerprint"] == fingerprint:
        _stored_stats(result, state["stats"])
        result.skipped = True
        result.errors = _standing_errors(conn, repo, config, discovery)
        if progress:
            progress("parse", 0, 0)
            progress("write", 0, 0)
        return result

    if not conn.autocommit:
        # the graph is derived data: a crash right after the commit may lose this write (never
        # corrupt it), and the next run, finding no matching graph_state, writes it again; in
        # exchange the commit does not wait for its WAL to reach the disk
        graph_store.relax_commit(conn)
    t = time.perf_counter()
    typescript_files = [f for f in found if f.language in TYPESCRIPT]
    resolver = Resolver(root, config)
    edited = _edited(state, shape, found)
    parsed_first = 0  # edited files parsed for a patch that was then refused
    if edited is not None:
        edited = [f for f in edited if f.language in TYPESCRIPT]
        news = graph_patch.parse(conn, root, typescript_files, edited, progress)
        patched = graph_patch.patch(conn, repo, typescript_files, edited, news, state["stats"]["hashes"], resolver,
                                    entries, state["stats"])
        parsed_first = len(news)
        if patched is not None:
            _stored_stats(result, state["stats"])
            result.parsed, result.symbols, result.edges = patched.parsed, patched.symbols, patched.edges
            result.patched = patched.paths
            for path, problem in patched.failed:
                files_store.record_error(conn, repo, path, problem)
            result.errors = _standing_errors(conn, repo, config, discovery)
            seconds["graph"] = time.perf_counter() - t
            graph_store.save_graph_state(conn, repo, fingerprint, {**state["stats"], "symbols": result.symbols,
                                                                   "edges": result.edges, "hashes": hashes,
                                                                   "shape": shape})
            if progress:
                progress("graph", 1, 1)
                progress("write", 1, 1)
            return result
    intake = _Intake(conn, repo, typescript_files, resolver, entries)
    extractions = cached_extractions(conn, typescript_files)
    for extraction in extractions.values():
        intake(extraction)
    missing = [f for f in typescript_files if f.path not in extractions]
    parsed = extract_packed(root, missing, progress, on_extraction=intake)
    extractions.update(parsed)
    result.parsed = parsed_first + len(parsed)
    seconds["parse"] = time.perf_counter() - t

    t = time.perf_counter()
    # the linking processes are forked first (no thread may run yet: see link_files); on the
    # cores but one, they link while the writer thread keeps the server busy with the rows made so far
    linker = Linker(repo, extractions, resolver, intake.builder.graph.symbol_ids, intake.names)
    linked = link_files(linker, functools.partial(edge_rows, repo))
    try:
        with GraphWriter(conn, repo) as writer:  # the edges stream out while the rest is linked
            writer.call(intake.store_cache)
            writer.rows(intake.ahead.contains())
            static = intake.builder.finish()
            writer.edges({key: d for key, d in static.edges.items() if d["kind"] != "contains"})  # imports
            writer.nodes(intake.ahead.nodes(static.nodes))
            for rows in linked:
                writer.rows(rows)
            seconds["graph"] = time.perf_counter() - t
            if progress:
                progress("graph", 1, 1)
            t = time.perf_counter()
            failed = sorted((path, e.error) for path, e in extractions.items() if e.error)
            # parsed again though unchanged (a new extractor): their stored errors may be stale
            dirty = set(delta.dirty)
            reparsed = {path for path in parsed if path not in dirty}
            healed = sorted(path for path in reparsed if not parsed[path].error)
            # the server is still taking the last rows: the extractions (a million small objects)
            # are freed now, in that wait, rather than after the run
            extractions.clear()
            parsed.clear()
            del linker, intake
    finally:
        linked.close()
    edges = writer.edge_count
    for path, problem in failed:
        if path in dirty or path in reparsed:
            files_store.record_error(conn, repo, path, problem)
    files_store.clear_errors(conn, repo, healed)
    result.errors = list(static.errors) + list(discovery.errors)
    result.symbols = sum(1 for d in static.nodes.values() if d["kind"] != "file")
    result.edges = edges
    result.unresolved = len(static.unresolved) + sum(1 for e in static.module_edges if e.dst == UNRESOLVED)
    result.resolved_ratio = static.resolved_ratio
    result.external = dict(static.external.most_common())
    result.graph = static
    stats = {"symbols": result.symbols, "edges": edges, "unresolved": result.unresolved,
             "resolved_ratio": result.resolved_ratio, "files": len(found), "external": result.external,
             "shape": shape, "hashes": hashes}
    graph_store.save_graph_state(conn, repo, fingerprint, stats)
    seconds["write"] = time.perf_counter() - t
    if progress:
        progress("write", 1, 1)
    return result


def _standing_errors(conn: psycopg.Connection, repo: str, config: tsconfig.TsConfig,
                     discovery: sources.Discovery) -> list[tuple[str, str]]:
    """The problems of a graph that was not rebuilt (skipped or patched): the files' stored
    ones, the config's and discovery's."""
    return stored_errors(conn, repo) + [(config.name, e) for e in config.errors] + list(discovery.errors)


def _stored_stats(result: StaticGraphResult, stats: dict) -> None:
    result.symbols, result.edges = stats.get("symbols", 0), stats.get("edges", 0)
    result.unresolved, result.resolved_ratio = stats.get("unresolved", 0), stats.get("resolved_ratio", 1.0)
    result.external = stats.get("external", {})


def _edited(state: dict | None, shape: str, found: list[SourceFile]) -> list[SourceFile] | None:
    """The files whose contents changed since the stored graph was made, when nothing else did
    (the same shape) and they are few enough to patch (``graph_patch``); else None."""
    stats = state["stats"] if state else {}
    hashes = stats.get("hashes")
    if stats.get("shape") != shape or not isinstance(hashes, dict) or len(hashes) != len(found):
        return None
    edited = [f for f in found if hashes.get(f.path) != f.content_hash]
    if any(f.path not in hashes for f in edited) or len(edited) > graph_patch.MAX_EDITED:
        return None
    return edited


def stored_module_graph(
    conn: psycopg.Connection, root: Path, *, repo: str | None = None, entries: list[str] | None = None,
    policy: sources.Policy | None = None, discovery: sources.Discovery | None = None,
) -> tuple[StaticGraphResult, list[ModuleEdge], list[tuple[str, str, str]]]:
    """Index the graph (a no-op when nothing changed) and return its module edges and unresolved
    imports: from the graph just built, else from the store. ``repo`` (the policy's name) is
    claimed for ``root`` first (``repo_roots.RepoNameTaken`` when another root holds it)."""
    repo = repo or sources.repo_id(Path(root))
    repo_roots.claim(conn, repo, Path(root))
    result = index_static_graph(conn, root, repo=repo, entries=entries, policy=policy, discovery=discovery)
    if result.graph is not None:
        return result, result.graph.module_edges, result.graph.unresolved
    return result, graph_store.module_edges(conn, result.repo), graph_store.unresolved_imports(conn, result.repo)
