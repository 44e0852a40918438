"""Writing a static graph into ``ast_nodes`` / ``code_relationships`` with COPY, streamed.

A writer thread owns the connection and COPYs nodes and edges as they are handed over: edges
as dict batches from this process, or as COPY text already made by the processes that linked
them (``edge_rows``), so the server ingests on one core while the graph is still being resolved
on the others. The first write of a repo copies straight into the tables; later ones copy into
temp tables and merge, so ids that stay keep their row (and the runtime stage's counts) and
rows that went are deleted.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
from collections.abc import Callable
from typing import Self

import psycopg

from cogo_pipelines.indexing.graph import StaticGraph
from cogo_pipelines.indexing.ids import edge_id
from cogo_pipelines.store import statistics
from cogo_pipelines.store.graph_store import STATIC_KINDS, file_ranges

NODE_COLUMNS = ("id", "repo", "path", "kind", "name", "qualified_name", "signature", "start_line", "end_line",
                "exported", "entry_weight", "rank")
EDGE_COLUMNS = ("id", "repo", "src_id", "dst_id", "kind", "confidence", "weight", "src_path", "detail")
EdgeBatch = dict[tuple[str, str, tuple[str, str]], dict]  # (src id, dst id, (kind, detail)) -> attributes

SWITCH_INTERVAL = 0.0005  # seconds: see GraphWriter.__enter__
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\ufffd"})
_NEEDS_ESCAPE = re.compile("[\\\\\t\n\r\0]")


def _field(value: str | None) -> str:
    """A value in PostgreSQL's COPY text format (``translate`` looks each character up in a
    dict: only for the rare value that needs it)."""
    if value is None:
        return "\\N"
    return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


def _node_heads(repo: str, nodes: dict[str, dict]) -> list[str]:
    """The COPY text rows of ``nodes`` up to their last two columns, entry weight and rank."""
    heads = []
    add = heads.append
    repo_field = _field(repo)
    paths: dict[str, str] = {}
    for nid, d in nodes.items():
        path = d["path"]
        path_field = paths.get(path) or paths.setdefault(path, _field(path))
        end = "\\N" if d["end_line"] is None else d["end_line"]
        add(f"{nid}\t{repo_field}\t{path_field}\t{d['kind']}\t{_field(d['name'])}\t{_field(d['qualified_name'])}"
            f"\t{_field(d['signature'])}\t{d['start_line']}\t{end}\t{'t' if d['exported'] else 'f'}\t")
    return heads


def node_rows(repo: str, nodes: dict[str, dict]) -> bytes:
    """``nodes`` as COPY text rows of ``NODE_COLUMNS`` (a third of the time ``write_row``
    takes)."""
    return "".join(f"{head}{d['entry_weight']!r}\t{d['rank']!r}\n"
                   for head, d in zip(_node_heads(repo, nodes), nodes.values(), strict=True)).encode()


class RowsAhead:
    """COPY text made file by file while other files are still being parsed, so that the
    writer has rows for the server the moment parsing ends: the ``contains`` edges whole, the
    nodes up to their entry weight, the one value that needs every file (``nodes`` adds it)."""

    def __init__(self, repo: str) -> None:
        self.repo = repo
        self._heads: dict[str, tuple[list[str], str]] = {}  # path -> (its node heads, one of its node ids)
        self._made: set[str] = set()
        self._contains: list[bytes] = []
        self._contains_count = 0

    def add(self, path: str, nodes: dict[str, dict], contains: EdgeBatch) -> None:
        """One file's nodes (the file's own among them) and ``contains`` edges."""
        if nodes:
            self._heads[path] = (_node_heads(self.repo, nodes), next(iter(nodes)))
            self._made.update(nodes)
        text, count = edge_rows(self.repo, contains)
        self._contains.append(text)
        self._contains_count += count

    def contains(self) -> tuple[bytes, int]:
        return b"".join(self._contains), self._contains_count

    def nodes(self, nodes: dict[str, dict]) -> tuple[bytes, int]:
        """Every node of the finished graph: those made ahead with their file's weights, the
        rest (files outside the policy that something imports) whole."""
        parts = []
        for heads, some_id in self._heads.values():
            d = nodes[some_id]  # a file's nodes all share its weights
            tail = f"{d['entry_weight']!r}\t{d['rank']!r}\n"
            parts.append(tail.join(heads) + tail)
        rest = {nid: d for nid, d in nodes.items() if nid not in self._made}
        return ("".join(parts).encode() + node_rows(self.repo, rest)), len(self._made) + len(rest)


def edge_rows(repo: str, edges: EdgeBatch) -> tuple[bytes, int]:
    """``edges`` as COPY text rows of ``EDGE_COLUMNS`` (ids made here), and how many. Plain
    bytes, so a linking process hands its edges over in one cheap message."""
    lines = []
    add = lines.append
    fields: dict[str | None, str] = {}  # paths and details recur: escape each once
    repo_field = _field(repo)
    for (src, dst, key), d in edges.items():
        path, detail = d.get("path"), d.get("detail")
        path_field = fields.get(path) or fields.setdefault(path, _field(path))
        detail_field = fields.get(detail) or fields.setdefault(detail, _field(detail))
        dst_field = _field(dst) if ":" in dst else dst  # node ids are hex; placeholders carry text
        add(f"{edge_id(repo, src, dst, key)}\t{repo_field}\t{src}\t{dst_field}\t{d['kind']}\t{d['confidence']}"
            f"\t1\t{path_field}\t{detail_field}\n")
    return "".join(lines).encode(), len(lines)


class _Nodes:
    """Node rows in COPY text, queued like an edge batch (not a tuple: tuples are edge rows)."""

    def __init__(self, text: bytes, count: int) -> None:
        self.text, self.count = text, count


def _table(item: _Nodes | EdgeBatch | tuple[bytes, int]) -> str:
    return "ast_nodes" if isinstance(item, _Nodes) else "code_relationships"


class GraphWriter:
    """Makes the repo's static rows equal to a graph. Inside the block a writer thread owns the
    connection and does what it is handed, in order: the caller's own statements (``call``),
    nodes (``nodes``) and edges in batches that never share a key (``edges`` / ``rows``), each
    run of nodes or of edges streamed through one COPY. With ``paths`` the graph handed over is
    only those files' rows (nodes of the files, edges out of them): the rest of the repo's rows
    stand.

    The thread starts on the server at once: the server's one backend ingesting the rows is the
    slowest stage of a cold write, and every moment it waits (for the entry weights, for node
    rows to be formatted, for the first linked edges) adds to the run. Enter the block after any
    fork (``static_graph.link_files``): no thread may run then. Inside it, an exception on either
    side aborts the COPY and the caller's transaction rolls everything back.
    """

    _END, _ABORT = object(), object()  # the build finished / failed

    def __init__(self, conn: psycopg.Connection, repo: str, paths: list[str] | None = None) -> None:
        self.conn, self.repo = conn, repo
        self.paths = paths  # only these files' rows are the graph's to make equal (``graph_patch``)
        self.node_count = self.edge_count = 0
        self._merge = False  # decided by the thread, before any row
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="cogo-graph-writer", daemon=True)
        self._failure: BaseException | None = None
        self._last_word = False  # the thread has taken the build's end (or its failure)
        self._switch_interval = sys.getswitchinterval()  # the caller's, given back on exit

    def __enter__(self) -> Self:
        # the thread hands the server 128 KiB at a time and waits for the socket in between;
        # each time it wants the interpreter back, a busy caller would keep it for the default
        # 5 ms slice: the server would starve while the caller works
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(SWITCH_INTERVAL, self._switch_interval))
        self._thread.start()
        return self

    # --- called by the build: only queue the work ----------------------------------------
    def call(self, statements: Callable[[psycopg.Connection], object]) -> None:
        """``statements(conn)``, run in turn with the rows: the connection is the thread's now."""
        self._queue.put(statements)

    def nodes(self, nodes: dict[str, dict] | tuple[bytes, int]) -> None:
        """Nodes, or their COPY text and count (``RowsAhead.nodes``)."""
        text, count = nodes if isinstance(nodes, tuple) else (node_rows(self.repo, nodes), len(nodes))
        if count:
            self._queue.put(_Nodes(text, count))

    def edges(self, edges: EdgeBatch) -> None:
        if edges:
            self._queue.put(edges)

    def rows(self, rows: tuple[bytes, int]) -> None:
        """Edges already in COPY text (``edge_rows``)."""
        if rows[1]:
            self._queue.put(rows)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._queue.put(self._END if exc_type is None else self._ABORT)
        self._thread.join()
        sys.setswitchinterval(self._switch_interval)
        if exc_type is None and self._failure is not None:
            raise self._failure
        if exc_type is None:
            written = {"ast_nodes": self.node_count, "code_relationships": self.edge_count}
            if self._merge:
                with self.conn.cursor() as cur:
                    written = self._merge_rows(cur)
            # a repo new to the store (or much changed): what the run's next statements plan by
            statistics.refresh_after_bulk_write(self.conn, self.repo, written)

    # --- the writer thread ---------------------------------------------------------------
    def _next(self) -> object:
        item = self._queue.get()
        self._last_word = item is self._END or item is self._ABORT
        if item is self._ABORT:
            raise RuntimeError("the graph build failed")  # aborts the COPY
        return item

    def _write(self) -> None:
        try:
            with self.conn.cursor() as cur:
                self._prepare(cur)
                item = self._next()
                while item is not self._END:
                    if callable(item):
                        item(self.conn)
                        item = self._next()
                        continue
                    table = _table(item)
                    with cur.copy(self._copy_sql(table)) as copy:
                        while item is not self._END and not callable(item) and _table(item) == table:
                            if isinstance(item, _Nodes):
                                copy.write(item.text)
                                self.node_count += item.count
                            else:
                                text, count = item if isinstance(item, tuple) else edge_rows(self.repo, item)
                                copy.write(text)
                                self.edge_count += count
                            item = self._next()
        except BaseException as failure:  # noqa: BLE001 -- handed to the owning thread in __exit__
            self._failure = failure
            while not self._last_word:  # let the build finish putting its batches
                item = self._queue.get()
                self._last_word = item is self._END or item is self._ABORT

    def _prepare(self, cur: psycopg.Cursor) -> None:
        """A repo that has rows already is merged through temp tables, so ids that stay keep
        their row (and the runtime stage's counts); a new one is copied straight in."""
        repo = self.repo
        self._merge = bool(
            cur.execute("SELECT 1 FROM ast_nodes WHERE repo = %s LIMIT 1", (repo,)).fetchone()
            or cur.execute("SELECT 1 FROM code_relationships WHERE repo = %s AND kind = ANY(%s) LIMIT 1",
                           (repo, list(STATIC_KINDS))).fetchone()
        )
        if self._merge:
            cur.execute("DROP TABLE IF EXISTS _cogo_nodes; DROP TABLE IF EXISTS _cogo_edges")
            cur.execute("CREATE TEMP TABLE _cogo_nodes (LIKE ast_nodes INCLUDING DEFAULTS)")
            cur.execute("CREATE TEMP TABLE _cogo_edges (LIKE code_relationships INCLUDING DEFAULTS)")

    def _copy_sql(self, table: str) -> str:
        columns = NODE_COLUMNS if table == "ast_nodes" else EDGE_COLUMNS
        target = {"ast_nodes": "_cogo_nodes", "code_relationships": "_cogo_edges"}[table] if self._merge else table
        return f"COPY {target} ({', '.join(columns)}) FROM STDIN"

    def _merge_rows(self, cur: psycopg.Cursor) -> dict[str, int]:
        """The merge; returns the rows it inserted or changed per table."""
        repo = self.repo
        written = {}
        if self.paths is None:
            cur.execute("DELETE FROM ast_nodes a WHERE a.repo = %s AND NOT EXISTS "
                        "(SELECT 1 FROM _cogo_nodes n WHERE n.id = a.id)", (repo,))
            cur.execute("DELETE FROM code_relationships r WHERE r.repo = %s AND r.kind = ANY(%s) AND NOT EXISTS "
                        "(SELECT 1 FROM _cogo_edges e WHERE e.id = r.id)", (repo, list(STATIC_KINDS)))
        else:
            self._delete_gone(cur, self.paths)
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
        written["ast_nodes"] = max(cur.rowcount, 0)
        cur.execute(
            f"INSERT INTO code_relationships ({', '.join(EDGE_COLUMNS)}) SELECT {', '.join(EDGE_COLUMNS)} "
            f"FROM _cogo_edges ON CONFLICT (id) DO UPDATE SET confidence = EXCLUDED.confidence, "
            f"src_path = EXCLUDED.src_path, detail = EXCLUDED.detail "
            f"WHERE (code_relationships.confidence, code_relationships.detail) IS DISTINCT FROM "
            f"(EXCLUDED.confidence, EXCLUDED.detail)"
        )
        written["code_relationships"] = max(cur.rowcount, 0)
        cur.execute("DROP TABLE _cogo_nodes; DROP TABLE _cogo_edges")
        return written


    def _delete_gone(self, cur: psycopg.Cursor, paths: list[str]) -> None:
        """The rows of ``paths`` that the new rows do not keep, read by primary key ranges
        (``graph_store.file_ranges``): a few index pages, not the repo."""
        within, bounds = file_ranges(self.repo, paths)
        cur.execute(f"DELETE FROM ast_nodes a WHERE {within} AND a.repo = %s AND a.path = ANY(%s) AND NOT EXISTS "
                    "(SELECT 1 FROM _cogo_nodes n WHERE n.id = a.id)", (*bounds, self.repo, paths))
        cur.execute(f"DELETE FROM code_relationships r WHERE {within} AND r.repo = %s AND r.src_path = ANY(%s) "
                    "AND r.kind = ANY(%s) AND NOT EXISTS (SELECT 1 FROM _cogo_edges e WHERE e.id = r.id)",
                    (*bounds, self.repo, paths, list(STATIC_KINDS)))


def write_graph(conn: psycopg.Connection, static: StaticGraph) -> tuple[int, int]:
    """Make the repo's static rows equal to an already built graph; (nodes, relationships)."""
    with GraphWriter(conn, static.repo) as writer:
        writer.nodes(static.nodes)
        writer.edges(static.edges)
    return writer.node_count, writer.edge_count
