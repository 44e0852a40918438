"""What the store keeps, and for how long: nothing it holds grows without bound.

Three kinds of rows accumulate with use, and each gets its own rule:

- **Caches** (``graph_extractions`` by file content and extractor version, ``chunk_embeddings``
  by text and model) gain a row for every version of every file ever indexed, and a full copy
  of the extractions with each new extractor version. A row is dropped once nothing in the
  store refers to it (no repo's current file has that content, no chunk has that text, or it
  was made by another extractor version) and it is older than ``cache_grace``. The grace keeps
  a branch switched away from and back within days, and a second process of another cogo
  version sharing the store, from re-parsing everything. A vector of another model for a text
  still indexed is kept: switching ``EMBEDDING_MODEL`` back finds it.
- **Operational history** (finished queue jobs with their events, notifications, index runs) is
  for operators and the weekly reports. It is kept for ``history``, and an index run for ever
  when it is its repo's latest (the sidecar's duration metric reads it).
- **Records** (quality gate runs, gate_fix artifacts, nightly snapshots, the key vault's audit
  trail) are kept for ``records``: a year and a month, to compare a quarter with the same one
  a year before. The latest gate_fix (the weekly summary links it) and the gate run it belongs
  to are kept whatever their age.

Open work is never touched: queued and running jobs, and the gate runs a kept gate_fix names.
``prune`` runs in the caller's transaction and returns how many rows each table lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from cogo_pipelines.store.graph_store import EXTRACTOR_VERSION


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind is kept. ``history`` and ``records`` are the operator's
    (``RETENTION_HISTORY_DAYS``, ``RETENTION_RECORDS_DAYS``: ``pipeline/upkeep.policy``)."""

    history: timedelta
    records: timedelta
    cache_grace: timedelta = timedelta(days=7)
    # how often ``prune_if_due`` prunes (each prune reads the caches against every repo's files)
    every: timedelta = timedelta(days=1)


_TASK = "retention"

# table -> the statement deleting its expired rows; %(cache)s, %(history)s, %(records)s are the
# cut-off times, %(extractor)s the current extractor version. Order matters: rows that
# others refer to go after them (gate_fixes before quality_runs).
_STATEMENTS: dict[str, str] = {
    "graph_extractions": (
        "DELETE FROM graph_extractions g WHERE g.created_at < %(cache)s AND (g.extractor_version <> %(extractor)s"
        " OR NOT EXISTS (SELECT 1 FROM files f WHERE f.content_hash = g.content_hash))"
    ),
    "chunk_embeddings": (
        "DELETE FROM chunk_embeddings e WHERE e.created_at < %(cache)s"
        " AND NOT EXISTS (SELECT 1 FROM code_chunks c WHERE c.content_hash = e.content_hash)"
    ),
    "jobs": (  # their job_events go with them (ON DELETE CASCADE)
        "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'dead')"
        " AND coalesce(finished_at, started_at, created_at) < %(history)s"
    ),
    "notifications": "DELETE FROM notifications WHERE created_at < %(history)s",
    "index_runs": (
        "DELETE FROM index_runs r WHERE coalesce(r.finished_at, r.started_at) < %(history)s"
        " AND r.id <> (SELECT max(l.id) FROM index_runs l WHERE l.repo = r.repo)"
    ),
    "gate_fixes": "DELETE FROM gate_fixes WHERE created_at < %(records)s AND id <> (SELECT max(id) FROM gate_fixes)",
    "quality_runs": (
        "DELETE FROM quality_runs q WHERE q.created_at < %(records)s"
        " AND NOT EXISTS (SELECT 1 FROM gate_fixes g WHERE g.quality_run_id = q.id)"
    ),
    "snapshots": "DELETE FROM snapshots WHERE created_at < %(records)s",
    "vault_audit": "DELETE FROM vault_audit WHERE created_at < %(records)s",
}


def prune(conn: psycopg.Connection, policy: RetentionPolicy, *, now: datetime | None = None) -> dict[str, int]:
    """Delete what ``policy`` no longer keeps (the module doc); table -> rows deleted."""
    now = now or conn.execute("SELECT now() AS t").fetchone()["t"]
    cutoffs = {"cache": now - policy.cache_grace, "history": now - policy.history,
               "records": now - policy.records, "extractor": EXTRACTOR_VERSION}
    deleted = {}
    for table, statement in _STATEMENTS.items():
        deleted[table] = max(conn.execute(statement, cutoffs).rowcount, 0)
    conn.execute(
        "INSERT INTO store_maintenance (task, done_at) VALUES (%s, %s)"
        " ON CONFLICT (task) DO UPDATE SET done_at = EXCLUDED.done_at",
        (_TASK, now),
    )
    return deleted


def prune_if_due(conn: psycopg.Connection, policy: RetentionPolicy) -> dict[str, int] | None:
    """``prune`` when the last one is older than ``policy.every`` (or there was none), else None.
    Two processes arriving together prune once: the second waits on the first's row and finds
    it done."""
    conn.execute("INSERT INTO store_maintenance (task, done_at) VALUES (%s, 'epoch') ON CONFLICT (task) DO NOTHING",
                 (_TASK,))
    row = conn.execute(
        "SELECT done_at > now() - %s AS recent, now() AS t FROM store_maintenance WHERE task = %s FOR UPDATE",
        (policy.every, _TASK),
    ).fetchone()
    if row["recent"]:
        return None
    return prune(conn, policy, now=row["t"])


def last_done(conn: psycopg.Connection) -> datetime | None:
    """When the last prune ran, or None when none has (the sidecar's
    ``cogo_store_upkeep_last_timestamp_seconds``: an upkeep that stops running shows)."""
    row = conn.execute(
        "SELECT done_at FROM store_maintenance WHERE task = %s AND done_at > 'epoch'", (_TASK,)).fetchone()
    return row["done_at"] if row else None
