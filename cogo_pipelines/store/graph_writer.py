"""Writing a static graph into ``ast_nodes`` / ``code_relationships`` with COPY, streamed.

The nodes are copied first, all at once; then a writer thread owns the connection and COPYs
the edges as they are handed over: as dict batches from this process, or as COPY text already
made by the processes that linked them (``edge_rows``), so the server ingests on one core while
the graph is still being resolved on the others. The first write of a repo copies straight into the tables; later ones
copy into temp tables and merge, so ids that stay keep their row (and the runtime stage's
counts) and rows that went are deleted.
"""

from __future__ import annotations

import queue
import re
import threading
from typing import Self

import psycopg

from cogo_pipelines.indexing.graph import StaticGraph
from cogo_pipelines.indexing.ids import edge_id

STATIC_KINDS = ("contains", "imports", "calls", "references", "extends", "implements")
NODE_COLUMNS = ("id", "repo", "path", "kind", "name", "qualified_name", "signature", "start_line", "end_line",
                "exported", "entry_weight", "rank")
EDGE_COLUMNS = ("id", "repo", "src_id", "dst_id", "kind", "confidence", "weight", "src_path", "detail")
EdgeBatch = dict[tuple[str, str, tuple[str, str]], dict]  # (src id, dst id, (kind, detail)) -> attributes

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\ufffd"})
_NEEDS_ESCAPE = re.compile("[\\\\\t\n\r\0]")


def _field(value: str | None) -> str:
    """A value in PostgreSQL's COPY text format (``translate`` looks each character up in a
    dict: only for the rare value that needs it)."""
    if value is None:
        return "\\N"
    return value.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(value) else value


def node_rows(repo: str, nodes: dict[str, dict]) -> bytes:
    """``nodes`` as COPY text rows of ``NODE_COLUMNS`` (a third of the time ``write_row``
    takes, and the server waits for the nodes before it can take any edge)."""
    lines = []
    add = lines.append
    repo_field = _field(repo)
    paths: dict[str, str] = {}
    for nid, d in nodes.items():
        path = d["path"]
        path_field = paths.get(path) or paths.setdefault(path, _field(path))
        end = "\\N" if d["end_line"] is None else d["end_line"]
        add(f"{nid}\t{repo_field}\t{path_field}\t{d['kind']}\t{_field(d['name'])}\t{_field(d['qualified_name'])}"
            f"\t{_field(d['signature'])}\t{d['start_line']}\t{end}\t{'t' if d['exported'] else 'f'}"
            f"\t{d['entry_weight']!r}\t{d['rank']!r}\n")
    return "".join(lines).encode()


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


class GraphWriter:
    """Makes the repo's static rows equal to a graph: every node at once (``copy_nodes``,
    before the block), then, inside the block, edges in batches that never share a key
    (``edges`` / ``rows``), which a writer thread streams to the server.

    The nodes are copied right away, in this thread, so the server starts on them while the
    edges are still being linked: the server's one backend is the slowest stage of a cold
    write, and every moment it waits adds to the run. No thread runs before the block, so the
    caller can still fork (``static_graph.link_files``) between the two. Inside the block the
    connection belongs to the writer thread; an exception on either side aborts the COPY and
    the caller's transaction rolls everything back.
    """

    _END, _ABORT = object(), object()  # the build finished / failed

    def __init__(self, conn: psycopg.Connection, repo: str) -> None:
        self.conn, self.repo = conn, repo
        self.node_count = self.edge_count = 0
        self._merge: bool | None = None  # unknown until the nodes are copied
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="cogo-graph-writer", daemon=True)
        self._failure: BaseException | None = None

    def copy_nodes(self, nodes: dict[str, dict]) -> None:
        """All the nodes: symbol edges only point at these or at placeholders."""
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
            with cur.copy(self._copy_sql("ast_nodes", NODE_COLUMNS)) as copy:
                copy.write(node_rows(repo, nodes))
        self.node_count = len(nodes)

    def __enter__(self) -> Self:
        if self._merge is None:
            raise RuntimeError("GraphWriter: copy_nodes() comes before the edges")
        self._thread.start()
        return self

    # --- called by the build: only queue the work ----------------------------------------
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
        if exc_type is None and self._failure is not None:
            raise self._failure
        if exc_type is None and self._merge:
            with self.conn.cursor() as cur:
                self._merge_rows(cur)

    # --- the writer thread ---------------------------------------------------------------
    def _write(self) -> None:
        done = False  # the build's last word (the end, or its exception) has been taken
        try:
            with self.conn.cursor() as cur, cur.copy(self._copy_sql("code_relationships", EDGE_COLUMNS)) as copy:
                while (batch := self._queue.get()) is not self._END:
                    if batch is self._ABORT:
                        done = True
                        raise RuntimeError("the graph build failed")  # aborts the COPY
                    text, count = batch if isinstance(batch, tuple) else edge_rows(self.repo, batch)
                    copy.write(text)
                    self.edge_count += count
                done = True
        except BaseException as failure:  # noqa: BLE001 -- handed to the owning thread in __exit__
            self._failure = failure
            while not done:  # let the build finish putting its batches
                item = self._queue.get()
                done = item is self._END or item is self._ABORT

    def _copy_sql(self, table: str, columns: tuple[str, ...]) -> str:
        target = {"ast_nodes": "_cogo_nodes", "code_relationships": "_cogo_edges"}[table] if self._merge else table
        return f"COPY {target} ({', '.join(columns)}) FROM STDIN"

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
    writer = GraphWriter(conn, static.repo)
    writer.copy_nodes(static.nodes)
    with writer:
        writer.edges(static.edges)
    return writer.node_count, writer.edge_count
