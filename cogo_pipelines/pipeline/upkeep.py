"""The store's daily upkeep (``store/retention.py``), for every face that can run it: after an
index run (``cogo index``, Dagster's index chain) and on Dagster's ``store_upkeep_schedule``,
so a server whose store only queues jobs and records gates prunes too."""

from __future__ import annotations

import psycopg

from cogo_pipelines.store import retention


def run_upkeep(conn: psycopg.Connection, *, force: bool = False) -> dict[str, int]:
    """Prune what the store keeps no longer when the day's upkeep is due (or ``force``), and
    commit; the rows deleted per table, only those with any (empty when it was not due)."""
    pruned = retention.prune(conn) if force else retention.prune_if_due(conn)
    if not conn.autocommit:
        conn.commit()
    return {table: n for table, n in (pruned or {}).items() if n}
