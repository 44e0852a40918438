"""The weekly quality plan: one ``plan.quality`` job per ISO week for the configured targets.

The queue's dedupe key only guards *open* jobs, so a re-run after the week's job finished would
queue a second one; the week's key is therefore looked up across all statuses first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg

from cogo_pipelines.settings import get_settings

WEEKLY_JOB_TYPE = "plan.quality"


def iso_week(moment: date | datetime | None = None) -> str:
    year, week, _ = (moment or datetime.now(UTC)).isocalendar()
    return f"{year}-W{week:02d}"


def dedupe_key(week: str) -> str:
    return f"weekly:{week}"


def enqueue_weekly(conn: psycopg.Connection, *, week: str | None = None,
                   targets: list[str] | None = None) -> dict[str, Any]:
    """Queue the week's plan.quality job unless that week already has one; says which happened."""
    week = week or iso_week()
    targets = list(targets if targets is not None else get_settings().quality_targets)
    key = dedupe_key(week)
    from cogo_pipelines.queue.jobs import enqueue

    with conn.transaction():
        existing = conn.execute(
            "SELECT id, status FROM jobs WHERE dedupe_key = %s ORDER BY id LIMIT 1", (key,)
        ).fetchone()
        if existing:
            return {"job_id": existing["id"], "created": False, "status": existing["status"], "week": week,
                    "dedupe_key": key, "targets": targets}
        job_id = enqueue(conn, WEEKLY_JOB_TYPE, {"targets": targets, "week": week, "reason": "weekly schedule"},
                         dedupe_key=key)
    return {"job_id": job_id, "created": True, "status": "queued", "week": week, "dedupe_key": key,
            "targets": targets}
