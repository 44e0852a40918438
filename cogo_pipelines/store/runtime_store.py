"""Runtime edges and ranks in the store.

Traces are a snapshot of observed behaviour, not an increment: each merge replaces the repo's
``runtime`` relationships and symbol counts wholesale, so a trace removed from the trace dir
stops counting. Ranks are recomputed for the whole repo (the normalisation depends on the
hottest symbol) and copied onto the chunks that describe each symbol, which is what search
orders by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from cogo_pipelines.indexing import ranking
from cogo_pipelines.indexing.runtime import RuntimeTrace, SymbolIndex, SymbolSpan, load_traces
from cogo_pipelines.store import chunk_writes

RUNTIME_KIND = "runtime"
OBSERVED = "observed"


@dataclass
class RuntimeWrite:
    edges: int
    symbols: int
    static_calls_confirmed: int


def symbol_index(conn: psycopg.Connection, repo: str) -> SymbolIndex:
    rows = conn.execute(
        "SELECT id, path, qualified_name, start_line, end_line, kind FROM ast_nodes WHERE repo = %s", (repo,)
    ).fetchall()
    return SymbolIndex(
        SymbolSpan(r["id"], r["path"], r["qualified_name"], r["start_line"], r["end_line"], r["kind"])
        for r in rows
    )


def runtime_edge_id(repo: str, src_id: str, dst_id: str) -> str:
    return "rt:" + hashlib.sha1(f"{repo}\0{src_id}\0{dst_id}".encode()).hexdigest()[:24]


def write_runtime(conn: psycopg.Connection, repo: str, trace: RuntimeTrace) -> RuntimeWrite:
    """Replace the repo's runtime edges/counts with ``trace``; also mark matching static calls."""
    paths = {}
    if trace.edges or trace.counts:  # no trace (the usual run): nothing to look up, only to clear
        paths = {
            r["id"]: r["path"]
            for r in conn.execute("SELECT id, path FROM ast_nodes WHERE repo = %s", (repo,))
        }
    edges = [(src, dst, n) for (src, dst), n in trace.edges.items() if src in paths and dst in paths]
    counts = [(sid, n) for sid, n in trace.counts.items() if sid in paths]
    with conn.cursor() as cur:
        cur.execute("DELETE FROM code_relationships WHERE repo = %s AND kind = %s", (repo, RUNTIME_KIND))
        cur.execute(
            "UPDATE code_relationships SET runtime_count = 0 WHERE repo = %s AND runtime_count <> 0", (repo,)
        )
        cur.execute("UPDATE ast_nodes SET runtime_count = 0 WHERE repo = %s AND runtime_count <> 0", (repo,))
        cur.executemany(
            "INSERT INTO code_relationships (id, repo, src_id, dst_id, kind, confidence, weight, runtime_count,"
            " src_path, detail) VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET runtime_count = EXCLUDED.runtime_count",
            [
                (runtime_edge_id(repo, s, d), repo, s, d, RUNTIME_KIND, OBSERVED, n, paths[s], "trace")
                for s, d, n in edges
            ],
        )
        cur.execute(
            "UPDATE ast_nodes a SET runtime_count = c.n FROM unnest(%s::text[], %s::int[]) AS c(id, n)"
            " WHERE a.id = c.id",
            ([sid for sid, _ in counts], [n for _, n in counts]),
        )
        cur.execute(
            "UPDATE code_relationships r SET runtime_count = e.n"
            " FROM unnest(%s::text[], %s::text[], %s::int[]) AS e(src, dst, n)"
            " WHERE r.repo = %s AND r.kind IN ('calls', 'renders') AND r.src_id = e.src AND r.dst_id = e.dst",
            ([s for s, _, _ in edges], [d for _, d, _ in edges], [n for _, _, n in edges], repo),
        )
        confirmed = cur.rowcount
    return RuntimeWrite(edges=len(edges), symbols=len(counts), static_calls_confirmed=max(confirmed, 0))


def merge_runtime(
    conn: psycopg.Connection,
    repo: str,
    trace_paths: Iterable[Path],
    prefix_map: Mapping[str, str] | None = None,
) -> tuple[RuntimeTrace, RuntimeWrite]:
    """The runtime stage: read every trace against the repo's symbols, replace the runtime rows."""
    trace_paths = list(trace_paths)
    # the symbols are read only to place frames: without traces (most runs) there is nothing to place
    index = symbol_index(conn, repo) if trace_paths else SymbolIndex(())
    trace = load_traces(trace_paths, index, prefix_map=prefix_map)
    return trace, write_runtime(conn, repo, trace)


def apply_ranks(conn: psycopg.Connection, repo: str) -> int:
    """Recompute ``rank`` for every symbol of the repo (formula: ``indexing.ranking``), in the
    store; returns the number of symbols ranked. Only ranks that change are written."""
    # the hottest count first, on its own: joined as a subquery, a repo new to a store whose
    # statistics predate it was planned as one row, and the maximum re-run for each of its rows
    # (a nested loop, quadratic: formbricks' 30k symbols took 13 s beside other repos)
    hottest = conn.execute(
        "SELECT coalesce(max(runtime_count), 0) AS n FROM ast_nodes WHERE repo = %s", (repo,)
    ).fetchone()["n"]
    expression = ranking.sql_rank("a.entry_weight", "a.runtime_count", "%(hottest)s::integer")
    conn.execute(
        f"UPDATE ast_nodes a SET rank = {expression} WHERE a.repo = %(repo)s AND a.rank IS DISTINCT FROM {expression}",
        {"repo": repo, "hottest": hottest},
    )
    propagate_rank(conn, repo)
    return conn.execute("SELECT count(*) AS n FROM ast_nodes WHERE repo = %s", (repo,)).fetchone()["n"]


def propagate_rank(conn: psycopg.Connection, repo: str) -> None:
    """Copy symbol ranks onto their chunks, by the knowledge store's rule (one rule, one place).

    Chunks written after ranking (new or changed files) take theirs by the same rule as they are
    inserted.
    """
    chunk_writes.refresh_rank(conn, repo)


def hottest_edges(conn: psycopg.Connection, repo: str, n: int = 20) -> list[dict]:
    """Runtime edges with readable ends (``path:qualified_name``), hottest first."""
    return conn.execute(
        "SELECT s.path || ':' || s.qualified_name AS caller, d.path || ':' || d.qualified_name AS callee,"
        " r.runtime_count FROM code_relationships r JOIN ast_nodes s ON s.id = r.src_id"
        " JOIN ast_nodes d ON d.id = r.dst_id WHERE r.repo = %s AND r.kind = %s"
        " ORDER BY r.runtime_count DESC, caller, callee LIMIT %s",
        (repo, RUNTIME_KIND, n),
    ).fetchall()


def top_symbols(conn: psycopg.Connection, repo: str, n: int = 20) -> list[dict]:
    return conn.execute(
        "SELECT path, qualified_name, kind, entry_weight, runtime_count, rank FROM ast_nodes"
        " WHERE repo = %s ORDER BY rank DESC, path, qualified_name LIMIT %s",
        (repo, n),
    ).fetchall()
