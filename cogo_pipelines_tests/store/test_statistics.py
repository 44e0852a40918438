"""The planner's statistics are taken again after a bulk write (``store/statistics.py``): a repo
new to a store whose statistics predate it is otherwise planned as one row, and statements that
join its rows to aggregates of them run quadratic."""

from __future__ import annotations

import pytest

from cogo_pipelines.indexing.graph import StaticGraph
from cogo_pipelines.store import chunk_writes, graph_writer, statistics

OLD, NEW = 3000, 1500


def estimated_rows(conn, table: str, repo: str) -> float:
    plan = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT * FROM {table} WHERE repo = %s", (repo,)).fetchone()
    return next(iter(plan.values()))[0]["Plan"]["Plan Rows"]


def rows_read(conn, *tables: str) -> int:
    row = conn.execute(
        "SELECT sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)) AS n FROM pg_stat_xact_user_tables"
        " WHERE relname = ANY(%s)",
        (list(tables),),
    ).fetchone()
    return row["n"] or 0


def node(repo: str, i: int) -> dict:
    return {"path": f"f{i}.ts", "kind": "function", "name": f"s{i}", "qualified_name": f"s{i}", "signature": None,
            "start_line": 1, "end_line": 2, "exported": False, "entry_weight": 0.0, "rank": 0.0}


def older_repo(conn) -> None:
    """A repo the statistics know (analyzed), with nodes and chunks."""
    graph_writer.write_graph(conn, StaticGraph("older", nodes={f"older:{i}": node("older", i) for i in range(OLD)}))
    insert_chunks(conn, "older", OLD)
    conn.execute("ANALYZE ast_nodes, code_chunks")


def insert_chunks(conn, repo: str, n: int) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO code_chunks (id, repo, path, chunk_type, symbol, content, content_hash)"
            " VALUES (%s, %s, %s, 'code', %s, 'x', %s)",
            [(f"{repo}-c{i}", repo, f"f{i}.ts", f"s{i}", f"{repo}-h{i}") for i in range(n)],
        )


def test_a_new_repos_graph_is_planned_by_its_real_size_once_written(conn):
    older_repo(conn)
    assert estimated_rows(conn, "ast_nodes", "older") > OLD / 2
    graph_writer.write_graph(conn, StaticGraph("newer", nodes={f"newer:{i}": node("newer", i) for i in range(NEW)}))
    assert estimated_rows(conn, "ast_nodes", "newer") > NEW / 2  # 1 before: the statistics predated it


def test_a_new_repos_chunks_are_planned_by_their_real_size_after_the_chunk_stage(conn):
    """And copying the ranks onto them (a join of the chunks to the symbols' aggregates) reads
    rows linearly: with the stale statistics it read 1.1M rows for these 1,500 chunks."""
    older_repo(conn)
    graph_writer.write_graph(conn, StaticGraph("newer", nodes={f"newer:{i}": node("newer", i) for i in range(NEW)}))
    insert_chunks(conn, "newer", NEW)
    assert estimated_rows(conn, "code_chunks", "newer") < 10  # what the chunk stage leaves behind
    assert chunk_writes.refresh_statistics(conn, "newer", NEW) == ["chunk_postings", "chunk_terms", "code_chunks"]
    assert estimated_rows(conn, "code_chunks", "newer") > NEW / 2
    before = rows_read(conn, "ast_nodes", "code_chunks")
    chunk_writes.refresh_rank(conn, "newer")
    assert rows_read(conn, "ast_nodes", "code_chunks") - before < 20 * (OLD + NEW)


def test_copying_ranks_onto_a_small_repo_the_statistics_never_knew_reads_rows_linearly(conn):
    """A repo below ``ANALYZE_MIN_ROWS`` (and below autovacuum's threshold in a store of larger
    ones) stays unknown to the statistics for good; each edit copies the ranks onto its chunks.
    Joined to the symbols' aggregates, that ran them once per chunk: 0.25 s per edit of a
    650-chunk repo in a store of 150k chunks, quadratic in the repo."""
    older_repo(conn)
    small = statistics.ANALYZE_MIN_ROWS - 1
    graph_writer.write_graph(conn, StaticGraph("small", nodes={f"small:{i}": node("small", i) for i in range(small)}))
    insert_chunks(conn, "small", small)
    conn.execute("UPDATE ast_nodes SET rank = 0.5 WHERE repo = 'small' AND path LIKE 'f1%'")
    assert estimated_rows(conn, "code_chunks", "small") < 10
    before = rows_read(conn, "ast_nodes", "code_chunks")
    chunk_writes.refresh_rank(conn, "small")
    assert rows_read(conn, "ast_nodes", "code_chunks") - before < 20 * small
    ranks = {r["path"]: r["rank"] for r in conn.execute("SELECT path, rank FROM code_chunks WHERE repo = 'small'")}
    assert all(rank == (0.5 if path.startswith("f1") else 0.0) for path, rank in ranks.items())


def test_small_writes_and_repos_the_statistics_know_leave_them_to_autovacuum(conn):
    older_repo(conn)
    limit = statistics.ANALYZE_MIN_ROWS
    assert statistics.refresh_after_bulk_write(conn, "newer", {"ast_nodes": limit - 1}) == []
    assert statistics.refresh_after_bulk_write(conn, "older", {"ast_nodes": limit, "code_chunks": limit}) == []
    assert statistics.refresh_after_bulk_write(conn, "newer", {"ast_nodes": limit}) == ["ast_nodes"]
    with pytest.raises(ValueError, match="not a table of the index"):
        statistics.refresh_after_bulk_write(conn, "newer", {"pg_class; DROP TABLE x": 10_000})
