"""The store's daily upkeep (``store/retention.py``), for every face that can run it: after an
index run (``cogo index``, Dagster's index chain) and on Dagster's ``store_upkeep_schedule``,
so a server whose store only queues jobs and records gates prunes too."""

from __future__ import annotations

import logging
from datetime import timedelta

import psycopg

from cogo_pipelines.settings import Settings, get_settings
from cogo_pipelines.store import retention

log = logging.getLogger(__name__)


def policy(settings: Settings | None = None) -> retention.RetentionPolicy:
    """The retention policy of the settings (``RETENTION_HISTORY_DAYS``, ``RETENTION_RECORDS_DAYS``)."""
    settings = settings or get_settings()
    return retention.RetentionPolicy(history=timedelta(days=settings.retention_history_days),
                                     records=timedelta(days=settings.retention_records_days))


def run_upkeep(conn: psycopg.Connection, *, force: bool = False) -> dict[str, int]:
    """Prune what the store keeps no longer when the day's upkeep is due (or ``force``), and
    commit; the rows deleted per table, only those with any (empty when it was not due)."""
    kept = policy()
    pruned = retention.prune(conn, kept) if force else retention.prune_if_due(conn, kept)
    if not conn.autocommit:
        conn.commit()
    if pruned is None:
        return {}
    from cogo_pipelines.quality import gate_fix  # the gate's templates: only when pruning

    # the files of the gate_fixes it let go (or that an earlier upkeep let go on another machine)
    pruned["gate_fix files"] = gate_fix.prune_files(conn)
    return {what: n for what, n in pruned.items() if n}


def after_index(conn: psycopg.Connection) -> dict[str, int]:
    """``run_upkeep`` at the end of an index run, whose own work is committed by then: an upkeep
    that fails (a statement timeout of a hosted store, a role that may not delete, the store
    gone) is logged and left to the next run or to ``store_upkeep_job``, never the index run's
    failure."""
    try:
        return run_upkeep(conn)
    except psycopg.Error as exc:
        log.warning("store upkeep skipped: %s", (str(exc).strip().splitlines() or [type(exc).__name__])[0])
        if not conn.closed and not conn.autocommit:
            try:
                conn.rollback()
            except psycopg.Error:
                pass
        return {}
