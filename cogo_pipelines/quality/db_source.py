"""Q1 job history from the store with plain SQL (DATABASE_URL or the embedded server)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from cogo_pipelines.quality.gate import ERROR_TAIL_CHARS, GateQuery, JobCounts


def _where(query: GateQuery) -> tuple[str, list[Any]]:
    clauses = ["type = ANY(%s)", "finished_at >= %s", "finished_at <= %s"]
    params: list[Any] = [list(query.job_types), query.window_start, query.window_end]
    if query.target:
        clauses.append("payload->>'target' = %s")
        params.append(query.target)
    return " AND ".join(clauses), params


class DbJobSource:
    name = "db"

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def count_jobs(self, query: GateQuery, *, with_failing: bool = True) -> JobCounts:
        where, params = _where(query)
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded,"
            "       count(*) FILTER (WHERE status = 'failed') AS failed"
            f" FROM jobs WHERE status IN ('succeeded', 'failed') AND {where}",
            params,
        ).fetchone()
        failing: list[dict[str, Any]] = []
        if with_failing and row["failed"]:
            failing = [
                dict(r)
                for r in self.conn.execute(
                    "SELECT id, type, executor_id, finished_at, attempts,"
                    "       payload->>'target' AS target, payload->>'command' AS command,"
                    f"      right(coalesce(error, ''), {ERROR_TAIL_CHARS}) AS error"
                    f" FROM jobs WHERE status = 'failed' AND {where}"
                    " ORDER BY finished_at DESC, id DESC LIMIT %s",
                    [*params, query.failing_limit],
                )
            ]
        return JobCounts(succeeded=row["succeeded"], failed=row["failed"], failing_jobs=failing)

    def record_run(self, row: dict[str, Any]) -> int:
        with self.conn.transaction():
            inserted = self.conn.execute(
                "INSERT INTO quality_runs (gate, source, score, threshold, passed, succeeded, failed,"
                " window_start, window_end, details)"
                " VALUES (%(gate)s, %(source)s, %(score)s, %(threshold)s, %(passed)s, %(succeeded)s, %(failed)s,"
                " %(window_start)s, %(window_end)s, %(details)s) RETURNING id",
                {**row, "details": json.dumps(row["details"])},
            ).fetchone()
        return inserted["id"]
