"""Q1 job history from the store with plain SQL (DATABASE_URL or the embedded server)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from cogo_pipelines.quality import categories
from cogo_pipelines.quality.gate import ERROR_TAIL_CHARS, LOG_TAIL_CHARS, GateQuery, JobCounts

# what a listed job is read with (``Category.columns``): a failure with its log's tail and error,
# a rerun with every run's outcome
COLUMNS = {
    "failure": (
        "id, type, executor_id, finished_at, attempts,"
        "       payload->>'target' AS target, payload->>'command' AS command,"
        "       payload->>'commit' AS commit, coalesce(result->>'cwd', payload->>'cwd') AS cwd,"
        "       result->>'log' AS log_path, (result->'summary'->>'failed') AS summary_failed,"
        "       (result->>'log_tail_truncated') = 'true' AS log_tail_truncated,"
        f"      right(result->>'log_tail', {LOG_TAIL_CHARS}) AS log_tail,"
        f"      right(coalesce(error, ''), {ERROR_TAIL_CHARS}) AS error"
    ),
    "rerun": (
        "id, type, executor_id, finished_at, attempts, payload->>'target' AS target,"
        "       payload->>'command' AS command, coalesce(result->>'cwd', payload->>'cwd') AS cwd,"
        "       result->'attempts' AS runs, result->>'log' AS log_path, result->'summary' AS summary"
    ),
}


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
        table = categories.table()
        filters = ",".join(f" count(*) FILTER (WHERE {categories.sql_condition(c)}) AS {c.name}" for c in table)
        statuses = ", ".join(f"'{status}'" for status in categories.statuses())
        counts = dict(self.conn.execute(
            f"SELECT{filters} FROM jobs WHERE status IN ({statuses}) AND {where}", params).fetchone())
        # each listed category is its own read of its newest jobs: a read shared by a status' base
        # and the categories apart from it (its newest 2 × limit jobs, tagged) held only the newest
        # kind when one outnumbered the other, and listed no code failure behind 41 timeouts
        jobs: dict[str, list[dict[str, Any]]] = {}
        for c in (c for c in table if c.jobs) if with_failing else ():
            jobs[c.name] = [dict(r) for r in self.conn.execute(
                f"SELECT {COLUMNS[c.columns]} FROM jobs WHERE {categories.sql_condition(c)} AND {where}"
                " ORDER BY finished_at DESC, id DESC LIMIT %s",
                [*params, query.failing_limit],
            )] if counts[c.name] else []
        return JobCounts(counts=counts, jobs=jobs)

    def record_run(self, row: dict[str, Any]) -> int | None:
        """The new row's id; None when a run with the same run key is already recorded (the unique
        index of migration 095: two recorders of one run insert one row)."""
        with self.conn.transaction():
            inserted = self.conn.execute(
                "INSERT INTO quality_runs (gate, source, score, threshold, passed, succeeded, failed,"
                " window_start, window_end, details)"
                " VALUES (%(gate)s, %(source)s, %(score)s, %(threshold)s, %(passed)s, %(succeeded)s, %(failed)s,"
                " %(window_start)s, %(window_end)s, %(details)s) ON CONFLICT DO NOTHING RETURNING id",
                {**row, "details": json.dumps(row["details"])},
            ).fetchone()
        return inserted["id"] if inserted else None

    def recorded_run(self, run_key: str, gate: str = "q1") -> dict[str, Any] | None:
        """The run recorded under ``run_key``, if any."""
        row = self.conn.execute(
            "SELECT id, source, score, threshold, passed, succeeded, failed, window_start, window_end, details"
            " FROM quality_runs WHERE gate = %s AND details->>'run_key' = %s",
            (gate, run_key),
        ).fetchone()
        return dict(row) if row else None
