"""Failed gate runs to alert on, read from ``quality_runs`` for the failure sensor.

Every evaluation is a row (CLI, CI or Dagster alike), so the sensor follows the rows by id.
"""

from __future__ import annotations

import psycopg


def failed_runs_after(conn: psycopg.Connection, last_seen: int | None) -> tuple[list[int], int | None]:
    """Ids of failed runs to alert on newer than ``last_seen`` (none without one: a first look
    never replays history), and the newest id of any run. Runs recorded with ``notify: false``
    (``cogo gate q1`` reproductions) are left out."""
    newest = conn.execute("SELECT max(id) AS id FROM quality_runs").fetchone()["id"]
    failures = [] if last_seen is None else conn.execute(
        "SELECT id FROM quality_runs WHERE NOT passed AND id > %s"
        " AND coalesce(details->>'notify', 'true') <> 'false' ORDER BY id", (last_seen,)
    ).fetchall()
    return [row["id"] for row in failures], newest
