"""Queue figures for the sidecar's /metrics and the dashboards, read from the jobs table so any
process (not only the runners) can report them."""

from __future__ import annotations

import psycopg


def queue_depth(conn: psycopg.Connection) -> list[dict]:
    """Jobs per (executor_id, status), every status present in the table."""
    return conn.execute(
        "SELECT executor_id, status, count(*)::int AS count FROM jobs GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
