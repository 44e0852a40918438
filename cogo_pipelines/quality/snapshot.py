"""Nightly snapshots: Q1, queue depth and index size at one moment, kept as a row for trends.

Counted with plain SQL on the core tables so a snapshot never depends on the queue or
knowledge modules being importable (a broken indexer must not hide the numbers).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg

from cogo_pipelines.quality.gate import measure_q1
from cogo_pipelines.queue.stats import queue_depth


def index_stats(conn: psycopg.Connection) -> dict[str, int]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM files) AS files,"
        "       (SELECT count(*) FROM ast_nodes) AS symbols,"
        "       (SELECT count(*) FROM code_relationships) AS edges,"
        "       (SELECT count(*) FROM code_chunks) AS chunks,"
        "       (SELECT count(*) FROM code_chunks WHERE embedding IS NOT NULL) AS embedded_chunks,"
        "       (SELECT count(DISTINCT repo) FROM files) AS repos"
    ).fetchone()
    return {key: int(value) for key, value in row.items()}


def take_snapshot(conn: psycopg.Connection, *, kind: str = "nightly", now: datetime | None = None) -> dict[str, Any]:
    """Measure and store a snapshot row; returns it with its content."""
    taken_at = now or datetime.now(UTC)
    with conn.transaction():
        q1 = measure_q1(conn, now=taken_at)
        content = {
            "taken_at": taken_at.isoformat(),
            "q1": q1,
            "queue": queue_depth(conn),
            "index": index_stats(conn),
        }
        row = conn.execute(
            "INSERT INTO snapshots (kind, q1, content) VALUES (%s, %s, %s) RETURNING id, created_at",
            (kind, q1["score"], json.dumps(content)),
        ).fetchone()
    return {"id": row["id"], "kind": kind, "q1": q1["score"], "created_at": row["created_at"].isoformat(),
            "content": content}


def latest_snapshot(conn: psycopg.Connection, kind: str = "nightly") -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT id, kind, q1, content, created_at FROM snapshots WHERE kind = %s ORDER BY id DESC LIMIT 1", (kind,)
    ).fetchone()
    if row is None:
        return None
    return {**row, "created_at": row["created_at"].isoformat()}
