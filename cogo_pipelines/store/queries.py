"""Plain-SQL reads of the core tables, shared by the API, the dashboard and /metrics (the
sidecar's faces hold no SQL).

Only the 001_core columns are used, so the sidecar works whatever else the other areas add.
"""

from __future__ import annotations

from typing import Any

import psycopg

# The values of jobs.status (its CHECK in 001_core.sql); the queue, the API and /metrics read them here.
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "dead")
JOB_COLUMNS = (
    "id, type, executor_id, status, priority, attempts, max_attempts, payload, result, error, "
    "created_at, started_at, finished_at, "
    "EXTRACT(EPOCH FROM (finished_at - started_at))::float8 AS duration_seconds"
)
DURATION_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


LISTED_FIELD_BYTES = 8192  # a payload or result in a job list at most; the job itself has it whole
# in a list, a payload or result past LISTED_FIELD_BYTES is a note of its size (a result without
# its log tail first): 500 listed jobs of 1 MB payloads were a 300 MB answer, 6 GB of server memory
# for eight readers at once
_LISTED = ("CASE WHEN octet_length({c}::text) <= {n} THEN {c}"
           " ELSE jsonb_build_object('truncated', true, 'bytes', octet_length({c}::text)) END AS {name}")
LIST_COLUMNS = JOB_COLUMNS.replace(
    "payload, result,",
    _LISTED.format(c="payload", n=LISTED_FIELD_BYTES, name="payload") + ", "
    + _LISTED.format(c="(result - 'log_tail')", n=LISTED_FIELD_BYTES, name="result") + ",")


def list_jobs(conn: psycopg.Connection, *, status: str | None = None, executor_id: str | None = None,
              type: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """A page of jobs, newest first, each payload and result bounded (``LISTED_FIELD_BYTES``;
    ``get_job`` has them whole), and the number of jobs the filters match."""
    where = ["(%(status)s::text IS NULL OR status = %(status)s)",
             "(%(executor)s::text IS NULL OR executor_id = %(executor)s)",
             "(%(type)s::text IS NULL OR type = %(type)s)"]
    params = {"status": status, "executor": executor_id, "type": type, "limit": limit, "offset": offset}
    clause = " AND ".join(where)
    rows = conn.execute(
        f"SELECT {LIST_COLUMNS} FROM jobs WHERE {clause} ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s", params
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM jobs WHERE {clause}", params).fetchone()["n"]
    return [dict(r) for r in rows], total


def get_job(conn: psycopg.Connection, job_id: int) -> dict | None:
    row = conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return dict(row) if row else None


def open_job_with_key(conn: psycopg.Connection, dedupe_key: str) -> dict | None:
    """The queued or running job holding ``dedupe_key`` (the queue lets only one be open)."""
    return conn.execute("SELECT id FROM jobs WHERE dedupe_key = %s AND status IN ('queued', 'running')",
                        (dedupe_key,)).fetchone()


def job_counts(conn: psycopg.Connection) -> dict[str, int]:
    counts = {s: 0 for s in JOB_STATUSES}
    for r in conn.execute("SELECT status, count(*)::int AS n FROM jobs GROUP BY status"):
        counts[r["status"]] = r["n"]
    return counts


def claims(conn: psycopg.Connection) -> list[dict]:
    """Every claim increments ``attempts``, so their sum is the number of claims so far."""
    rows = conn.execute(
        "SELECT executor_id, COALESCE(sum(attempts), 0)::int AS claims FROM jobs GROUP BY executor_id ORDER BY 1"
    ).fetchall()
    return [dict(r) for r in rows]


MAX_TYPE_LABELS = 20  # job types named in the duration histogram; the rest are summed as OTHER_TYPES
OTHER_TYPES = "(other)"


def duration_histogram(conn: psycopg.Connection, buckets: tuple[float, ...] = DURATION_BUCKETS) -> list[dict]:
    """Cumulative bucket counts of finished jobs' run time, per type and final status. A job's
    type is whatever its enqueuer wrote, so only the ``MAX_TYPE_LABELS`` most run types are
    labels of their own; the rest share ``OTHER_TYPES``, and the number of series stays bounded
    (a client queuing ``plan.x-1``, ``plan.x-2``… made a series set each)."""
    filters = ", ".join(f"count(*) FILTER (WHERE d <= {float(b)!r})::int AS b{i}" for i, b in enumerate(buckets))
    rows = conn.execute(
        "WITH t AS (SELECT type, status, GREATEST(EXTRACT(EPOCH FROM (finished_at - started_at)), 0)::float8 AS d"
        "   FROM jobs WHERE finished_at IS NOT NULL AND started_at IS NOT NULL),"
        " top AS (SELECT type FROM t GROUP BY type ORDER BY count(*) DESC, type LIMIT %s)"
        " SELECT CASE WHEN type IN (SELECT type FROM top) THEN type ELSE %s END AS type, status,"
        f" count(*)::int AS count, COALESCE(sum(d), 0)::float8 AS sum, {filters} FROM t"
        " GROUP BY 1, status ORDER BY 1, status", (MAX_TYPE_LABELS, OTHER_TYPES),
    ).fetchall()
    out = []
    for r in rows:
        out.append({"type": r["type"], "status": r["status"], "count": r["count"], "sum": r["sum"],
                    "buckets": [(b, r[f"b{i}"]) for i, b in enumerate(buckets)]})
    return out


RUN_COLUMNS = ("id, gate, source, score, threshold, passed, succeeded, failed, window_start, window_end, "
               "details, created_at")


def latest_gate(conn: psycopg.Connection, gate: str = "q1") -> dict | None:
    """The gate's verdict: its latest repo-wide run, or, when every run names a target, the
    latest of those. A ``cogo gate q1 --target pass`` run used to become "the gate" on the
    dashboard, in /metrics and in the weekly summary, hiding a failed repo-wide run."""
    row = conn.execute(f"SELECT {RUN_COLUMNS} FROM quality_runs WHERE gate = %s"
                       " ORDER BY (details->>'target' IS NULL) DESC, id DESC LIMIT 1", (gate,)).fetchone()
    return dict(row) if row else None


def gate_history(conn: psycopg.Connection, gate: str = "q1", limit: int = 30) -> list[dict]:
    rows = conn.execute(f"SELECT {RUN_COLUMNS} FROM quality_runs WHERE gate = %s ORDER BY id DESC LIMIT %s",
                        (gate, limit)).fetchall()
    return [dict(r) for r in rows]


def snapshots(conn: psycopg.Connection, limit: int = 30) -> list[dict]:
    rows = conn.execute("SELECT id, kind, q1, content, created_at FROM snapshots ORDER BY id DESC LIMIT %s",
                        (limit,)).fetchall()
    return [dict(r) for r in rows]


def index_stats(conn: psycopg.Connection, repo: str | None = None) -> dict[str, Any]:
    """Sizes of the index, overall and per repository."""
    per: dict[str, dict[str, Any]] = {}
    keys = ("files", "symbols", "edges", "chunks", "summaries", "summaries_embedded")
    for table, key, where in (("files", "files", ""), ("ast_nodes", "symbols", ""), ("code_relationships", "edges", ""),
                              ("code_chunks", "chunks", ""), ("file_summaries", "summaries", ""),
                              ("file_summaries", "summaries_embedded", " AND embedding IS NOT NULL")):
        for r in conn.execute(
            f"SELECT repo, count(*)::int AS n FROM {table} WHERE (%(r)s::text IS NULL OR repo = %(r)s){where} GROUP BY repo",
            {"r": repo},
        ):
            per.setdefault(r["repo"], {"repo": r["repo"], **dict.fromkeys(keys, 0)})[key] = r["n"]
    for r in conn.execute(
        "SELECT repo, max(indexed_at) AS at FROM files WHERE %(r)s::text IS NULL OR repo = %(r)s GROUP BY repo",
        {"r": repo},
    ):
        per[r["repo"]]["last_indexed_at"] = r["at"]
    repos = sorted(per.values(), key=lambda d: d["repo"])
    total = {k: sum(d[k] for d in repos) for k in keys}
    return {**total, "repos": repos}


def latest_gate_fix_row(conn: psycopg.Connection) -> dict | None:
    row = conn.execute(
        "SELECT id, quality_run_id, json_path, markdown_path, created_at FROM gate_fixes ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return dict(row) if row else None


def last_index_duration(conn: psycopg.Connection, repo: str | None = None) -> dict | None:
    """``{repo, seconds}`` of the last recorded index run (of ``repo`` when given), when the
    knowledge area records runs."""
    if conn.execute("SELECT to_regclass('index_runs') IS NOT NULL AS present").fetchone()["present"] is False:
        return None
    cols = {r["column_name"] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'index_runs' "
        "AND table_schema = current_schema()")}
    if "started_at" in cols and "finished_at" in cols:
        seconds = "EXTRACT(EPOCH FROM (finished_at - started_at))::float8"
        order = "finished_at DESC NULLS LAST"
        where = "finished_at IS NOT NULL"
    elif "seconds" in cols:
        seconds, order, where = "seconds::float8", "id DESC" if "id" in cols else "1", "seconds IS NOT NULL"
    else:
        return None
    column = "repo" if "repo" in cols else "NULL::text"
    if repo is not None:
        where += f" AND {column} = %(repo)s"
    row = conn.execute(f"SELECT {column} AS repo, {seconds} AS seconds FROM index_runs WHERE {where} "
                       f"ORDER BY {order} LIMIT 1", {"repo": repo}).fetchone()
    return dict(row) if row and row["seconds"] is not None else None
