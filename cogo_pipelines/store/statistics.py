"""The planner's statistics after a bulk write: ANALYZE the tables that a write grew a lot.

Every statement of a run reads one repo's rows (``WHERE repo = …``), and the planner sizes that
read from the table's statistics. A repo new to a store whose statistics predate it (a team's
store holding other repos, or any second repo) is absent from them, so the planner expects one
row of it and joins it by nested loops, running the inner side once per row of the repo: each
statement that joins the repo's rows to an aggregate of them turns quadratic. In one store with
eight other repos, formbricks' 30k symbols took 13 s to rank, and copying the ranks onto
chunks read 1.1M rows for 1,500 chunks; autovacuum analyzes such a table only a minute or so
later, after the run. So a write that brought many rows of a repo the statistics do not know is
followed by an ANALYZE of the tables it wrote (a sample of 30k rows at most, whatever the
table's size: 0.03-0.3 s per table on a store of 124k chunks and 6.7M postings), as
PostgreSQL's own advice after a bulk load has it. Small writes (an edited file) and repos the
statistics already name (indexed before) skip it.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg

ANALYZE_MIN_ROWS = 1000  # rows a write brought to a table from which its statistics are taken again
# ANALYZE waits for autovacuum's hold on the table (it cancels itself for us within about a
# second); past this the statistics are left to autovacuum rather than the run held up
ANALYZE_LOCK_TIMEOUT = "5s"
# the columns the run's statements filter and join by (None: all); a chunk's text and tsvector
# are most of what ANALYZE would read of ``code_chunks`` (0.51 s against 0.18 s on 124k chunks)
TABLES: dict[str, tuple[str, ...] | None] = {
    "ast_nodes": None,
    "code_relationships": None,
    "code_chunks": ("id", "repo", "path", "symbol", "content_hash", "embedding", "rank"),
    "chunk_postings": None,
    "chunk_terms": None,
}


def known_repos(conn: psycopg.Connection, table: str) -> set[str] | None:
    """The repos the statistics of ``table`` name among their most common values, or None when
    the table has no statistics yet (the planner then estimates by size, not as one row)."""
    row = conn.execute(
        "SELECT most_common_vals::text::text[] AS repos FROM pg_stats"
        " WHERE schemaname = current_schema() AND tablename = %s AND attname = 'repo'",
        (table,),
    ).fetchone()
    return None if row is None else set(row["repos"] or ())


def refresh_after_bulk_write(conn: psycopg.Connection, repo: str, written: Mapping[str, int]) -> list[str]:
    """ANALYZE each table of ``written`` (table -> rows the write brought) that grew by at least
    ``ANALYZE_MIN_ROWS`` rows of ``repo`` while its statistics do not know ``repo`` (a repo
    indexed again, or edited, keeps the planner's estimate of its share: nothing to take
    again), in the caller's transaction (a savepoint: a table whose lock is not had in time, or
    that the role may not analyze, is left to autovacuum); returns the tables analyzed."""
    done = []
    for table, rows in sorted(written.items()):
        if table not in TABLES:
            raise ValueError(f"not a table of the index: {table!r}")
        if rows < ANALYZE_MIN_ROWS:
            continue
        known = known_repos(conn, table)
        if known is not None and repo in known:
            continue
        columns = TABLES[table]
        try:
            with conn.transaction():
                conn.execute(f"SET LOCAL lock_timeout = '{ANALYZE_LOCK_TIMEOUT}'")
                conn.execute(f"ANALYZE {table}" + (f" ({', '.join(columns)})" if columns else ""))
                conn.execute("SET LOCAL lock_timeout = DEFAULT")
        except (psycopg.errors.LockNotAvailable, psycopg.errors.InsufficientPrivilege):
            continue
        done.append(table)
    return done
