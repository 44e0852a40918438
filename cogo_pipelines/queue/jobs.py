"""Job state changes: enqueue, claim, heartbeat, complete/fail/release, and the lease reaper.

Every function is one statement guarded by ``status`` and ``lease_owner``, so a runner whose
lease was lost (reaped, or taken over) can neither complete nor fail a job another runner now
holds: at-least-once delivery, at-most-once completion. Each function runs in
``conn.transaction()``: it commits on its own when called outside a transaction and becomes a
savepoint of the caller's transaction otherwise (a plan handler's enqueues and its completion
commit together).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from cogo_pipelines.edge import router
from cogo_pipelines.edge.client import RouterSelectClient
from cogo_pipelines.queue import validation
from cogo_pipelines.queue.textsafe import clean_text, for_postgres
from cogo_pipelines.queue.validation import QueueError
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import route_rules
from cogo_pipelines.store.db import StoreError
from cogo_pipelines.store.queries import JOB_STATUSES

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000


class LeaseLost(RuntimeError):
    """The caller no longer holds the job: it was reaped, released, or is owned by another runner."""


@dataclass
class Job:
    id: int
    type: str
    executor_id: str
    payload: dict
    priority: int
    attempts: int
    max_attempts: int
    lease_owner: str | None = None
    extra: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_row(cls, row: dict) -> Job:
        known = {k: row[k] for k in ("id", "type", "executor_id", "payload", "priority", "attempts",
                                     "max_attempts", "lease_owner")}
        return cls(**known, extra={k: v for k, v in row.items() if k not in known})


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = clean_text(str(text))
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 15] + " … (truncated)"


parse_payload = validation.parse_payload  # a payload given as JSON text (CLI, REST)


def _route(conn: psycopg.Connection, task_type: str) -> router.RouteDecision:
    """router-select: the remote edge function when ROUTER_SELECT_URL is set, else the local rules.

    An unreachable or failing remote falls back to the local rules (logged): a job is never
    refused just because the router is down.
    """
    if get_settings().router_select_url:
        try:
            client = RouterSelectClient.from_settings()
            if client is not None:
                with client:
                    return client.select(task_type)
        except (RuntimeError, ValueError, OSError) as exc:  # EdgeError & co; messages never hold a key
            log.warning("router-select failed (%s); using local rules for %s", exc, task_type)
    return router.select_route(task_type, rules=route_rules.load_rules(conn))


def validate_executor(executor_id: str, conn: psycopg.Connection | None = None) -> str:
    """Known = named by the built-in rules, or by the configured ``route_rules`` when ``conn`` is given."""
    known = router.known_executors(route_rules.load_rules(conn) if conn is not None else None)
    if executor_id not in known:
        raise QueueError(f"unknown executor id {executor_id!r} (known: {', '.join(sorted(known))})")
    return executor_id


def enqueue(
    conn: psycopg.Connection,
    type: str,
    payload: dict | None = None,
    *,
    executor_id: str | None = None,
    priority: int = 0,
    dedupe_key: str | None = None,
    max_attempts: int = 3,
    depends_on: Sequence[int] | None = None,
) -> int:
    """Queue a job and return its id, or the id of the open job that already has ``dedupe_key``."""
    validation.name(type, "job type", required=True)
    payload = validation.payload({} if payload is None else payload)
    if type in validation.COMMAND_TYPES:
        validation.command_payload(payload)
    validation.bounded_int(priority, "priority", validation.PRIORITY_RANGE)
    validation.bounded_int(max_attempts, "max_attempts", validation.ATTEMPTS_RANGE)
    validation.name(dedupe_key, "dedupe key")
    executor_id = validate_executor(executor_id, conn) if executor_id else _route(conn, type).executor_id
    try:
        body = Jsonb(payload)
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise QueueError(f"payload is not JSON-serialisable: {exc}") from exc
    deps = list(depends_on) if depends_on else None
    with conn.transaction():
        for _ in range(3):  # the open duplicate may finish between our insert and our lookup
            row = conn.execute(
                "INSERT INTO jobs (type, executor_id, payload, priority, dedupe_key, max_attempts, depends_on)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running')"
                " DO NOTHING RETURNING id",
                (type, executor_id, body, priority, dedupe_key, max_attempts, deps),
            ).fetchone()
            if row:
                return _scalar(row)
            row = conn.execute(
                "SELECT id FROM jobs WHERE dedupe_key = %s AND status IN ('queued', 'running')", (dedupe_key,)
            ).fetchone()
            if row:
                return _scalar(row)
    raise QueueError(f"could not enqueue {type!r} with dedupe key {dedupe_key!r}: it kept changing state")


def _scalar(row: Any) -> Any:
    return row["id"] if isinstance(row, dict) else row[0]


def _type_patterns(include_types: Iterable[str] | None) -> list[str] | None:
    """``code.*`` style globs as LIKE patterns (exact names stay exact)."""
    if not include_types:
        return None
    out = []
    for name in include_types:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        out.append(escaped.replace("*", "%"))
    return out


def claim(
    conn: psycopg.Connection,
    executor_id: str,
    owner: str,
    *,
    include_types: Iterable[str] | None = None,
    limit: int = 1,
    lease_seconds: float | None = None,
) -> list[Job]:
    """Lease up to ``limit`` claimable jobs of ``executor_id`` to ``owner`` (SKIP LOCKED: runners
    never wait for each other, and no row is handed to two of them)."""
    lease = float(lease_seconds if lease_seconds is not None else get_settings().lease_seconds)
    conditions = [sql.SQL("status = 'queued' AND executor_id = %(ex)s"),
                  sql.SQL("(depends_on IS NULL OR NOT EXISTS (SELECT 1 FROM jobs d WHERE d.id = ANY(j.depends_on)"
                          " AND d.status IN ('queued', 'running')))")]
    patterns = _type_patterns(include_types)
    if patterns:
        conditions.append(sql.SQL("type LIKE ANY(%(types)s)"))
    query = sql.SQL(
        "WITH picked AS (SELECT id FROM jobs j WHERE {where} ORDER BY priority DESC, id"
        " LIMIT %(n)s FOR UPDATE SKIP LOCKED),"
        " claimed AS (UPDATE jobs j SET status = 'running', lease_owner = %(owner)s,"
        "   lease_expires_at = clock_timestamp() + make_interval(secs => %(lease)s), started_at = clock_timestamp(),"
        "   finished_at = NULL, attempts = j.attempts + 1"
        "   FROM picked WHERE j.id = picked.id RETURNING j.*),"
        " ev AS (INSERT INTO job_events (job_id, event, owner, attempt) SELECT id, 'claimed', %(owner)s, attempts"
        "   FROM claimed)"
        " SELECT * FROM claimed ORDER BY priority DESC, id"
    ).format(where=sql.SQL(" AND ").join(conditions))
    params = {"ex": executor_id, "types": patterns, "n": int(limit), "owner": owner, "lease": lease}
    with conn.transaction():
        rows = conn.execute(query, params).fetchall()
    return [Job.from_row(r) for r in rows]


def heartbeat(conn: psycopg.Connection, job_ids: Iterable[int], owner: str, lease_seconds: float) -> set[int]:
    """Extend the leases ``owner`` still holds; returns the ids still held (the rest were lost)."""
    ids = list(job_ids)
    if not ids:
        return set()
    with conn.transaction():
        rows = conn.execute(
            "UPDATE jobs SET lease_expires_at = clock_timestamp() + make_interval(secs => %s)"
            " WHERE id = ANY(%s) AND status = 'running' AND lease_owner = %s RETURNING id",
            (float(lease_seconds), ids, owner),
        ).fetchall()
    return {_scalar(r) for r in rows}


def _finish(conn: psycopg.Connection, job_id: int, owner: str, status: str, event: str,
            result: dict | None, error: str | None, *, requeue: bool = False, counted: bool = False) -> dict:
    """The one guarded transition out of ``running``; raises LeaseLost when ``owner`` lost it."""
    query = (
        "WITH done AS (UPDATE jobs SET status = %(status)s, result = coalesce(%(result)s, result),"
        "   error = %(error)s, lease_expires_at = NULL,"
        "   finished_at = CASE WHEN %(status)s IN ('queued', 'running') THEN NULL ELSE clock_timestamp() END,"
        "   attempts = CASE WHEN %(release)s THEN greatest(attempts - 1, 0) ELSE attempts END"
        "   WHERE id = %(id)s AND status = 'running' AND lease_owner = %(owner)s RETURNING *),"
        " ev AS (INSERT INTO job_events (job_id, event, owner, attempt, detail)"
        "   SELECT id, %(event)s, %(owner)s, attempts, %(error)s FROM done)"
        " SELECT * FROM done"
    )
    params = {"status": status, "result": Jsonb(for_postgres(result)) if result is not None else None, "error": _clip(error),
              "id": job_id, "owner": owner, "event": event, "release": event == "released" and not counted}
    with conn.transaction():
        row = conn.execute(query, params).fetchone()
        current = None if row else conn.execute(
            "SELECT status, lease_owner FROM jobs WHERE id = %s", (job_id,)).fetchone()
    if row is None:
        if current is None:
            raise LeaseLost(f"job {job_id} does not exist")
        raise LeaseLost(
            f"job {job_id} is {current['status']} (lease owner {current['lease_owner']}); "
            f"{owner} no longer holds its lease, so its outcome was not recorded"
        )
    return row


def complete(conn: psycopg.Connection, job_id: int, owner: str, result: dict | None = None) -> None:
    _finish(conn, job_id, owner, "succeeded", "succeeded", result or {}, None)


def finish_many(conn: psycopg.Connection, owner: str, outcomes: Sequence[tuple[int, str, dict | None, str | None]]
                ) -> set[int]:
    """Record several ``(job_id, 'succeeded'|'failed', result, error)`` outcomes in one guarded
    statement (a batch runner pays one commit per batch, not per job). Returns the ids whose
    outcome was refused because ``owner`` no longer held them."""
    if not outcomes:
        return set()
    rows = []
    for job_id, status, result, error in outcomes:
        if status not in ("succeeded", "failed"):
            raise QueueError(f"finish_many records succeeded/failed outcomes, not {status!r}")
        rows.append({"id": job_id, "status": status, "result": for_postgres(result) if result is not None else
                     ({} if status == "succeeded" else None), "error": _clip(error)})
    query = (
        "WITH input AS (SELECT * FROM jsonb_to_recordset(%(rows)s) AS x(id bigint, status text, result jsonb, error text)),"
        " done AS (UPDATE jobs j SET status = i.status, result = coalesce(i.result, j.result), error = i.error,"
        "   lease_expires_at = NULL, finished_at = clock_timestamp()"
        "   FROM input i WHERE j.id = i.id AND j.status = 'running' AND j.lease_owner = %(owner)s"
        "   RETURNING j.id, j.status, j.attempts, j.error),"
        " ev AS (INSERT INTO job_events (job_id, event, owner, attempt, detail)"
        "   SELECT id, status, %(owner)s, attempts, error FROM done)"
        " SELECT id FROM done"
    )
    with conn.transaction():
        done = conn.execute(query, {"rows": Jsonb(rows), "owner": owner}).fetchall()
    return {r["id"] for r in rows} - {_scalar(r) for r in done}


def fail(conn: psycopg.Connection, job_id: int, owner: str, error: str, *, result: dict | None = None,
         retry: bool = False) -> str:
    """Record a failed attempt. ``retry`` re-queues it while attempts remain (then ``dead``);
    otherwise the job is ``failed`` for good (a red build is an outcome, not a crash)."""
    if not retry:
        _finish(conn, job_id, owner, "failed", "failed", result, error)
        return "failed"
    with conn.transaction():
        row = conn.execute("SELECT attempts, max_attempts FROM jobs WHERE id = %s", (job_id,)).fetchone()
    if row is not None and row["attempts"] < row["max_attempts"]:
        _finish(conn, job_id, owner, "queued", "requeued", result, error)
        return "queued"
    attempts = row["max_attempts"] if row else "?"
    _finish(conn, job_id, owner, "dead", "dead", result, f"dead after {attempts} attempts; last error: {error}")
    return "dead"


def recorded_outcome(conn: psycopg.Connection, job_id: int, owner: str) -> str | None:
    """The outcome ``owner`` recorded for the job's current attempt (``succeeded``, ``failed`` or
    ``released``), or None. A runner whose commit reply was lost with its connection asks this
    before calling a refused retry a lost lease: the job's newest event is then its own."""
    with conn.transaction():
        row = conn.execute(
            "SELECT event, owner FROM job_events WHERE job_id = %s ORDER BY id DESC LIMIT 1", (job_id,)).fetchone()
    if row is None or row["owner"] != owner or row["event"] not in ("succeeded", "failed", "released", "dead"):
        return None
    return row["event"]


def release(conn: psycopg.Connection, job_id: int, owner: str, reason: str = "runner stopping", *,
            counted: bool = False) -> str:
    """Give a claimed job back (SIGTERM): queued again, the attempt not counted. ``counted``
    (its command had started): the attempt counts, and a job out of attempts is ``dead``, as
    after an expired lease. Returns the job's new status."""
    if counted:
        with conn.transaction():
            row = conn.execute("SELECT attempts, max_attempts FROM jobs WHERE id = %s", (job_id,)).fetchone()
        if row is not None and row["attempts"] >= row["max_attempts"]:
            _finish(conn, job_id, owner, "dead", "dead", None,
                    f"dead after {row['max_attempts']} attempts; last: released: {reason}")
            return "dead"
    _finish(conn, job_id, owner, "queued", "released", None, f"released: {reason}", counted=counted)
    return "queued"


def reap(conn: psycopg.Connection, *, limit: int = 1000) -> dict[str, list[int]]:
    """Re-queue jobs whose lease expired (their runner died or hung); ``dead`` once they used
    ``max_attempts``. Safe to run from every runner at once (SKIP LOCKED)."""
    query = (
        "WITH expired AS (SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < clock_timestamp()"
        "   ORDER BY lease_expires_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED),"
        " moved AS (UPDATE jobs j SET"
        "   status = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'queued' END,"
        "   error = CASE WHEN j.attempts >= j.max_attempts"
        "     THEN format('dead after %%s attempts; last error: lease of %%s expired at %%s (runner stopped heartbeating)',"
        "                 j.attempts, j.lease_owner, j.lease_expires_at)"
        "     ELSE format('lease of %%s expired at %%s (attempt %%s/%%s); re-queued', j.lease_owner,"
        "                 j.lease_expires_at, j.attempts, j.max_attempts) END,"
        "   finished_at = CASE WHEN j.attempts >= j.max_attempts THEN clock_timestamp() ELSE NULL END,"
        "   lease_expires_at = NULL"
        "   FROM expired WHERE j.id = expired.id RETURNING j.id, j.status, j.attempts, j.lease_owner, j.error),"
        " ev AS (INSERT INTO job_events (job_id, event, owner, attempt, detail)"
        "   SELECT id, CASE status WHEN 'dead' THEN 'dead' ELSE 'requeued' END, lease_owner, attempts, error FROM moved)"
        " SELECT id, status FROM moved"
    )
    with conn.transaction():
        rows = conn.execute(query, {"limit": limit}).fetchall()
    out: dict[str, list[int]] = {"requeued": [], "dead": []}
    for r in rows:
        out["dead" if r["status"] == "dead" else "requeued"].append(r["id"])
    if rows:
        log.info("reaped expired leases: %d re-queued, %d dead", len(out["requeued"]), len(out["dead"]))
    return out


def get_job(conn: psycopg.Connection, job_id: int) -> dict | None:
    return conn.execute("SELECT * FROM jobs WHERE id = %s", (job_id,)).fetchone()


def list_jobs(conn: psycopg.Connection, *, status: str | None = None, executor_id: str | None = None,
              type: str | None = None, limit: int = 200) -> list[dict]:
    """Newest last, as ``cogo jobs list`` prints them."""
    if status is not None and status not in JOB_STATUSES:
        raise QueueError(f"unknown status {status!r} (one of {', '.join(JOB_STATUSES)})")
    validation.bounded_int(limit, "limit", (1, validation.INT32_MAX))
    conditions, params = [], []
    for column, value in (("status", status), ("executor_id", executor_id), ("type", type)):
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    query = sql.SQL("SELECT * FROM (SELECT * FROM jobs{} ORDER BY id DESC LIMIT %s) t ORDER BY id").format(where)
    return conn.execute(query, [*params, limit]).fetchall()


def job_events(conn: psycopg.Connection, job_id: int) -> list[dict]:
    return conn.execute("SELECT * FROM job_events WHERE job_id = %s ORDER BY id", (job_id,)).fetchall()


def require_schema(conn: psycopg.Connection) -> None:
    """A clear error instead of ``relation "jobs" does not exist`` deep in a runner loop."""
    with conn.transaction():
        row = conn.execute("SELECT to_regclass('jobs') AS jobs, to_regclass('job_events') AS events").fetchone()
    if not row["jobs"] or not row["events"]:
        raise StoreError(
            "this database has no cogo queue schema (table jobs/job_events missing); "
            "run any cogo command as a role allowed to create tables so migrations apply, "
            "or point DATABASE_URL at the cogo database"
        )
