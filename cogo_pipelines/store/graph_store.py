"""The static graph in the store: ``ast_nodes`` / ``code_relationships`` of one repo.

Per-file extractions are cached by content hash (``graph_extractions``, compressed compact JSON), so only files whose
bytes changed are parsed. A repo whose files, tsconfig, entries and policy all match the last
run (``graph_state.fingerprint``) is not rebuilt at all. Writes go through COPY into temp
tables and one merge, so a re-run is idempotent, rows of vanished files disappear, and
``runtime_count`` written by the runtime stage survives.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Self

import psycopg

from cogo_pipelines.indexing import graph as graph_module
from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.graph import FILE_PREFIX, UNRESOLVED, ModuleEdge, StaticGraph
from cogo_pipelines.indexing.model import FileExtraction, SourceFile
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.static_graph import TYPESCRIPT, extract_packed, unpack
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import files as files_store

Progress = Callable[[str, int, int], None] | None
STATIC_KINDS = ("contains", "imports", "calls", "references", "extends", "implements")
MODULE_KINDS = ("import", "type", "reexport", "dynamic", "require", "reference", "maybe")
NODE_COLUMNS = ("id", "repo", "path", "kind", "name", "qualified_name", "signature", "start_line", "end_line",
                "exported", "entry_weight", "rank")
EDGE_COLUMNS = ("id", "repo", "src_id", "dst_id", "kind", "confidence", "weight", "src_path", "detail")


def _code_version(*modules: str) -> str:
    digest = hashlib.sha256()
    for module in modules:
        digest.update((resources.files("cogo_pipelines.indexing") / f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]


EXTRACTOR_VERSION = _code_version("typescript", "ts_declarations", "ts_usage", "ts_nodes", "model", "static_graph")
GRAPH_VERSION = _code_version("graph", "resolve", "tsconfig")


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
    graph: StaticGraph | None = None  # in-memory graph when it was rebuilt


def _fingerprint(repo: str, found: list[SourceFile], config: tsconfig.TsConfig, entries: list[str],
                 policy: sources.Policy) -> str:
    digest = hashlib.sha256()
    for part in (repo, EXTRACTOR_VERSION, GRAPH_VERSION, json.dumps(entries), json.dumps(policy.include),
                 json.dumps(policy.exclude)):
        digest.update(part.encode() + b"\0")
    for f in found:
        digest.update(f"{f.path}\0{f.content_hash}\n".encode())
    for path in config.chain:
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    digest.update("\n".join(config.errors).encode())
    return digest.hexdigest()


def _cached_extractions(conn: psycopg.Connection, files: list[SourceFile]) -> dict[str, FileExtraction]:
    if not files:
        return {}
    rows = conn.execute(
        "SELECT content_hash, grammar, payload FROM graph_extractions WHERE extractor_version = %s"
        " AND content_hash = ANY(%s)",
        (EXTRACTOR_VERSION, sorted({f.content_hash for f in files})),
    ).fetchall()
    by_key = {(r["content_hash"], r["grammar"]): r["payload"] for r in rows}
    out = {}
    for f in files:
        payload = by_key.get((f.content_hash, f.language))
        if payload is not None:
            extraction = unpack(f.path, payload)
            out[f.path] = extraction
    return out


def _cache_extractions(conn: psycopg.Connection, files: dict[str, SourceFile], payloads: dict[str, bytes]) -> None:
    rows = {}
    for path, payload in payloads.items():
        f = files[path]
        rows[(f.content_hash, f.language)] = payload
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO graph_extractions (content_hash, grammar, extractor_version, payload)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(h, g, EXTRACTOR_VERSION, data) for (h, g), data in rows.items()],
        )


class GraphWriter:
    """Makes the repo's static rows equal to a graph, streamed while ``graph.build`` runs
    (a ``GraphSink``). A writer thread turns the batches into COPY rows, so the server
    ingests them on its own core while this process resolves the rest of the graph; before,
    the two waited for each other.

    The first write of a repo copies straight into the tables; later ones copy into temp
    tables and merge, so ids that stay keep their row (and the runtime stage's counts) and
    rows that went are deleted. Use as a context manager around the build: the connection
    belongs to the writer thread until the block ends; an exception on either side aborts
    the COPY and the caller's transaction rolls everything back.
    """

    _END, _ABORT = object(), object()  # the build finished / failed

    def __init__(self, conn: psycopg.Connection, repo: str) -> None:
        self.conn, self.repo = conn, repo
        self.node_count = self.edge_count = 0
        self._merge = False
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="cogo-graph-writer", daemon=True)
        self._failure: BaseException | None = None

    def __enter__(self) -> Self:
        repo = self.repo
        with self.conn.cursor() as cur:
            self._merge = bool(
                cur.execute("SELECT 1 FROM ast_nodes WHERE repo = %s LIMIT 1", (repo,)).fetchone()
                or cur.execute("SELECT 1 FROM code_relationships WHERE repo = %s AND kind = ANY(%s) LIMIT 1",
                               (repo, list(STATIC_KINDS))).fetchone()
            )
            if self._merge:
                cur.execute("DROP TABLE IF EXISTS _cogo_nodes; DROP TABLE IF EXISTS _cogo_edges")
                cur.execute("CREATE TEMP TABLE _cogo_nodes (LIKE ast_nodes INCLUDING DEFAULTS)")
                cur.execute("CREATE TEMP TABLE _cogo_edges (LIKE code_relationships INCLUDING DEFAULTS)")
        self._thread.start()
        return self

    # --- GraphSink: called by the build, only queue the work --------------------------
    def nodes(self, nodes: dict[str, dict]) -> None:
        self._queue.put(nodes)

    def edges(self, edges: dict[tuple[str, str, tuple[str, str]], dict]) -> None:
        if edges:
            self._queue.put(edges)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._queue.put(self._END if exc_type is None else self._ABORT)
        self._thread.join()
        if exc_type is None and self._failure is not None:
            raise self._failure
        if exc_type is None and self._merge:
            with self.conn.cursor() as cur:
                self._merge_rows(cur)

    # --- the writer thread ---------------------------------------------------------------
    def _write(self) -> None:
        done = False  # the build's last word (the end, or its exception) has been taken
        try:
            with self.conn.cursor() as cur:
                nodes = self._queue.get()
                if nodes is self._ABORT:
                    done = True
                    return
                with cur.copy(self._copy_sql("ast_nodes", NODE_COLUMNS)) as copy:
                    self._write_nodes(copy, nodes)
                with cur.copy(self._copy_sql("code_relationships", EDGE_COLUMNS)) as copy:
                    seen: set[str] = set()
                    while (batch := self._queue.get()) is not self._END:
                        if batch is self._ABORT:
                            done = True
                            raise RuntimeError("the graph build failed")  # aborts the COPY
                        self._write_edges(copy, batch, seen)
                    done = True
                    self.edge_count = len(seen)
        except BaseException as failure:  # noqa: BLE001 -- handed to the owning thread in __exit__
            self._failure = failure
            while not done:  # let the build finish putting its batches
                item = self._queue.get()
                done = item is self._END or item is self._ABORT

    def _copy_sql(self, table: str, columns: tuple[str, ...]) -> str:
        target = {"ast_nodes": "_cogo_nodes", "code_relationships": "_cogo_edges"}[table] if self._merge else table
        return f"COPY {target} ({', '.join(columns)}) FROM STDIN"

    def _write_nodes(self, copy: psycopg.Copy, nodes: dict[str, dict]) -> None:
        repo, write = self.repo, copy.write_row
        for nid, d in nodes.items():
            write((nid, repo, d["path"], d["kind"], d["name"], d["qualified_name"], d["signature"],
                   d["start_line"], d["end_line"], d["exported"], d["entry_weight"], d["rank"]))
        self.node_count = len(nodes)

    def _write_edges(self, copy: psycopg.Copy, edges: dict, seen: set[str]) -> None:
        repo, write = self.repo, copy.write_row
        for (src, dst, key), d in edges.items():
            # led by the source node's file, like the node ids: one file's edges are written together
            eid = src[:FILE_PREFIX] + hashlib.sha256(
                f"{repo}\0{src}\0{dst}\0{key[0]}\0{key[1]}".encode()).hexdigest()[: 32 - FILE_PREFIX]
            if eid not in seen:
                seen.add(eid)
                write((eid, repo, src, dst, d["kind"], d["confidence"], 1.0, d.get("path"), d.get("detail")))

    def _merge_rows(self, cur: psycopg.Cursor) -> None:
        repo = self.repo
        cur.execute("DELETE FROM ast_nodes a WHERE a.repo = %s AND NOT EXISTS "
                    "(SELECT 1 FROM _cogo_nodes n WHERE n.id = a.id)", (repo,))
        cur.execute("DELETE FROM code_relationships r WHERE r.repo = %s AND r.kind = ANY(%s) AND NOT EXISTS "
                    "(SELECT 1 FROM _cogo_edges e WHERE e.id = r.id)", (repo, list(STATIC_KINDS)))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in NODE_COLUMNS[1:] if c != "rank")
        cur.execute(
            f"INSERT INTO ast_nodes ({', '.join(NODE_COLUMNS)}) SELECT {', '.join(NODE_COLUMNS)} FROM _cogo_nodes "
            f"ON CONFLICT (id) DO UPDATE SET {updates}, rank = CASE WHEN ast_nodes.runtime_count = 0 "
            f"THEN EXCLUDED.rank ELSE ast_nodes.rank END "
            f"WHERE (ast_nodes.path, ast_nodes.signature, ast_nodes.start_line, ast_nodes.end_line, "
            f"ast_nodes.exported, ast_nodes.entry_weight, ast_nodes.name) IS DISTINCT FROM (EXCLUDED.path, "
            f"EXCLUDED.signature, EXCLUDED.start_line, EXCLUDED.end_line, EXCLUDED.exported, "
            f"EXCLUDED.entry_weight, EXCLUDED.name)"
        )
        cur.execute(
            f"INSERT INTO code_relationships ({', '.join(EDGE_COLUMNS)}) SELECT {', '.join(EDGE_COLUMNS)} "
            f"FROM _cogo_edges ON CONFLICT (id) DO UPDATE SET confidence = EXCLUDED.confidence, "
            f"src_path = EXCLUDED.src_path, detail = EXCLUDED.detail "
            f"WHERE (code_relationships.confidence, code_relationships.detail) IS DISTINCT FROM "
            f"(EXCLUDED.confidence, EXCLUDED.detail)"
        )
        cur.execute("DROP TABLE _cogo_nodes; DROP TABLE _cogo_edges")


def write_graph(conn: psycopg.Connection, static: StaticGraph) -> tuple[int, int]:
    """Make the repo's static rows equal to an already built graph; (nodes, relationships)."""
    with GraphWriter(conn, static.repo) as writer:
        writer.nodes(static.nodes)
        writer.edges(static.edges)
    return writer.node_count, writer.edge_count


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The graph allocates about a million objects that all live to the end of the run; the
    cyclic collector would walk them again and again finding nothing (0.1 s on a 360-file
    repo, inside the critical path). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def index_static_graph(
    conn: psycopg.Connection,
    root: Path,
    *,
    repo: str | None = None,
    entries: list[str] | None = None,
    policy: sources.Policy | None = None,
    progress: Progress = None,
) -> StaticGraphResult:
    """Discover, parse what changed, build the module + symbol graph, write it."""
    with _cyclic_gc_paused():
        return _index_static_graph(conn, root, repo, entries, policy, progress)


def _index_static_graph(conn: psycopg.Connection, root: Path, repo: str | None, entries: list[str] | None,
                        policy: sources.Policy | None, progress: Progress) -> StaticGraphResult:
    root = Path(root).resolve()
    policy = policy or sources.Policy()
    repo = repo or sources.repo_id(root)
    entries = list(entries if entries is not None else get_settings().entries)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    found = sources.discover(root, policy)
    config = tsconfig.find(root)
    delta = files_store.sync_files(conn, repo, found)
    fingerprint = _fingerprint(repo, found, config, entries, policy)
    seconds["discover"] = time.perf_counter() - t
    if progress:
        progress("discover", len(found), len(found))
    result = StaticGraphResult(repo=repo, files=found, delta=delta, seconds=seconds)
    state = conn.execute("SELECT fingerprint, stats FROM graph_state WHERE repo = %s", (repo,)).fetchone()
    if state and state["fingerprint"] == fingerprint:
        stats = state["stats"]
        result.skipped = True
        result.symbols, result.edges = stats.get("symbols", 0), stats.get("edges", 0)
        result.unresolved, result.resolved_ratio = stats.get("unresolved", 0), stats.get("resolved_ratio", 1.0)
        result.external = stats.get("external", {})
        result.errors = stored_errors(conn, repo) + [("tsconfig.json", e) for e in config.errors]
        if progress:
            progress("parse", 0, 0)
            progress("write", 0, 0)
        return result

    t = time.perf_counter()
    typescript_files = [f for f in found if f.language in TYPESCRIPT]
    extractions = _cached_extractions(conn, typescript_files)
    missing = [f for f in typescript_files if f.path not in extractions]
    parsed, payloads = extract_packed(root, missing, progress)
    _cache_extractions(conn, {f.path: f for f in missing}, payloads)
    extractions.update(parsed)
    result.parsed = len(parsed)
    seconds["parse"] = time.perf_counter() - t

    t = time.perf_counter()
    with GraphWriter(conn, repo) as writer:  # the rows stream out while the graph is resolved
        static = graph_module.build(repo, extractions, Resolver(root, config), entries, sink=writer)
        seconds["graph"] = time.perf_counter() - t
        if progress:
            progress("graph", 1, 1)
        t = time.perf_counter()
    edges = writer.edge_count
    dirty = set(delta.dirty)
    for path, extraction in sorted(extractions.items()):
        if extraction.error and path in dirty:
            files_store.record_error(conn, repo, path, extraction.error)
    result.errors = list(static.errors)
    result.symbols = sum(1 for d in static.nodes.values() if d["kind"] != "file")
    result.edges = edges
    result.unresolved = len(static.unresolved) + sum(1 for e in static.module_edges if e.dst == UNRESOLVED)
    result.resolved_ratio = static.resolved_ratio
    result.external = dict(static.external.most_common())
    result.graph = static
    stats = {"symbols": result.symbols, "edges": edges, "unresolved": result.unresolved,
             "resolved_ratio": result.resolved_ratio, "files": len(found), "external": result.external}
    conn.execute(
        "INSERT INTO graph_state (repo, fingerprint, stats) VALUES (%s, %s, %s::jsonb) ON CONFLICT (repo) DO UPDATE "
        "SET fingerprint = EXCLUDED.fingerprint, stats = EXCLUDED.stats, updated_at = now()",
        (repo, fingerprint, json.dumps(stats)),
    )
    seconds["write"] = time.perf_counter() - t
    if progress:
        progress("write", 1, 1)
    return result


def stored_errors(conn: psycopg.Connection, repo: str) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT path, error FROM files WHERE repo = %s AND error IS NOT NULL ORDER BY path", (repo,))
    return [(r["path"], r["error"]) for r in rows]


def module_edges(conn: psycopg.Connection, repo: str) -> list[ModuleEdge]:
    """The stored module graph: one edge per (from, to, kind), placeholders as ``<unresolved>``."""
    rows = conn.execute(
        "SELECT r.src_path, d.path AS dst_path, r.dst_id, r.detail FROM code_relationships r "
        "LEFT JOIN ast_nodes d ON d.id = r.dst_id WHERE r.repo = %s AND r.kind = 'imports' AND r.detail = ANY(%s) "
        "ORDER BY r.src_path, d.path, r.detail",
        (repo, list(MODULE_KINDS)),
    ).fetchall()
    return [
        ModuleEdge(r["src_path"], r["dst_path"] or UNRESOLVED, r["detail"], 0,
                   r["dst_id"].removeprefix("unresolved:") if r["dst_path"] is None else None)
        for r in rows
    ]


def unresolved_imports(conn: psycopg.Connection, repo: str) -> list[tuple[str, str, str]]:
    """(path, specifier, reason) of imports that named a file that is not there."""
    rows = conn.execute(
        "SELECT src_path, dst_id, detail FROM code_relationships WHERE repo = %s AND kind = 'imports' "
        "AND NOT (detail = ANY(%s)) ORDER BY src_path, dst_id",
        (repo, list(MODULE_KINDS)),
    ).fetchall()
    return [(r["src_path"], r["dst_id"].removeprefix("unresolved:"), r["detail"]) for r in rows]
