"""``index_runs``: one row per finished index run, whichever face ran it (``cogo index`` or
Dagster); the sidecar's index-duration metric reads the latest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

# lists of a run's summary kept in its row at most this long (a repo of 10,000 broken files would
# otherwise store a megabyte per run, every run); ``<name>_total`` says how many there were
MAX_LISTED = 100


def record_run(
    conn: psycopg.Connection, repo: str, started_at: datetime, seconds: float, summary: Mapping
) -> int:
    """Record one finished index run in ``index_runs`` (read by the sidecar's duration metric)."""
    kept = dict(summary)
    for name in ("errors", "trace_warnings"):
        listed = kept.get(name)
        if isinstance(listed, list) and len(listed) > MAX_LISTED:
            kept[name], kept[f"{name}_total"] = listed[:MAX_LISTED], len(listed)
    row = conn.execute(
        "INSERT INTO index_runs (repo, started_at, finished_at, seconds, summary)"
        " VALUES (%s, %s, now(), %s, %s) RETURNING id",
        (repo, started_at, seconds, Jsonb(kept)),
    ).fetchone()
    if not conn.autocommit:
        conn.commit()
    return row["id"] if isinstance(row, Mapping) else row[0]
