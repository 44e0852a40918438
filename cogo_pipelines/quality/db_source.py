"""Q1 job history from the store with plain SQL (DATABASE_URL or the embedded server)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from cogo_pipelines.quality.gate import ERROR_TAIL_CHARS, LOG_TAIL_CHARS, GateQuery, JobCounts
from cogo_pipelines.quality.outcomes import infra_sql

FLAKY = "(result->>'flaky') = 'true'"  # the runner's mark: failed, then passed on a rerun


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
        infra = infra_sql()
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded,"
            f"      count(*) FILTER (WHERE status = 'failed' AND NOT {infra}) AS failed,"
            f"      count(*) FILTER (WHERE status = 'failed' AND {infra}) AS infra_failed,"
            f"      count(*) FILTER (WHERE status = 'succeeded' AND {FLAKY}) AS flaky"
            f" FROM jobs WHERE status IN ('succeeded', 'failed') AND {where}",
            params,
        ).fetchone()
        failing: list[dict[str, Any]] = []
        infra_jobs: list[dict[str, Any]] = []
        if with_failing and (row["failed"] or row["infra_failed"]):
            for r in self.conn.execute(
                "SELECT id, type, executor_id, finished_at, attempts,"
                "       payload->>'target' AS target, payload->>'command' AS command,"
                "       payload->>'commit' AS commit, coalesce(result->>'cwd', payload->>'cwd') AS cwd,"
                "       result->>'log' AS log_path, (result->'summary'->>'failed') AS summary_failed,"
                "       (result->>'log_tail_truncated') = 'true' AS log_tail_truncated,"
                f"      right(result->>'log_tail', {LOG_TAIL_CHARS}) AS log_tail,"
                f"      right(coalesce(error, ''), {ERROR_TAIL_CHARS}) AS error, {infra} AS infra"
                f" FROM jobs WHERE status = 'failed' AND {where}"
                " ORDER BY finished_at DESC, id DESC LIMIT %s",
                [*params, 2 * query.failing_limit],
            ):
                job = dict(r)
                (infra_jobs if job.pop("infra") else failing).append(job)
        flaky: list[dict[str, Any]] = []
        if with_failing and row["flaky"]:
            flaky = [dict(r) for r in self.conn.execute(
                "SELECT id, type, executor_id, finished_at, attempts, payload->>'target' AS target,"
                "       payload->>'command' AS command, coalesce(result->>'cwd', payload->>'cwd') AS cwd,"
                "       result->'attempts' AS runs, result->>'log' AS log_path, result->'summary' AS summary"
                f" FROM jobs WHERE status = 'succeeded' AND {FLAKY} AND {where}"
                " ORDER BY finished_at DESC, id DESC LIMIT %s",
                [*params, query.failing_limit],
            )]
        return JobCounts(succeeded=row["succeeded"], failed=row["failed"], failing_jobs=failing[:query.failing_limit],
                         infra_failed=row["infra_failed"], infra_jobs=infra_jobs[:query.failing_limit],
                         flaky=row["flaky"], flaky_jobs=flaky)

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
