"""Failed gate runs to alert on, read from ``quality_runs`` for the failure sensor.

Every evaluation is a row (CLI, CI or Dagster alike), so the sensor follows the rows by id.
"""

from __future__ import annotations

import psycopg


def failed_runs_after(conn: psycopg.Connection, last_seen: int | None) -> tuple[list[int], int | None]:
    """Ids of failed runs newer than ``last_seen`` (without one: the last day's failures, so a
    first look does not replay history), and the newest id of any run."""
    if last_seen is None:
        failures = conn.execute(
            "SELECT id FROM quality_runs WHERE NOT passed AND created_at >= now() - interval '1 day' ORDER BY id"
        ).fetchall()
    else:
        failures = conn.execute(
            "SELECT id FROM quality_runs WHERE NOT passed AND id > %s ORDER BY id", (last_seen,)
        ).fetchall()
    newest = conn.execute("SELECT max(id) AS id FROM quality_runs").fetchone()["id"]
    return [row["id"] for row in failures], newest
