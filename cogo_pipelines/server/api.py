"""REST API under /api: jobs, gate, snapshots, summary, weekly payload, search, gate_fix, index.

Handlers are sync (Starlette runs them in its thread pool) and only translate HTTP to the
core: plain SQL reads from ``queries`` and the other areas' functions, imported lazily so
the sidecar serves what exists even when an area is not installed yet (503 for the rest).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cogo_pipelines.edge.client import EdgeError
from cogo_pipelines.quality import gate_fix, notify
from cogo_pipelines.queue import jobs
from cogo_pipelines.queue import stats as queue_stats
from cogo_pipelines.server import params, redact
from cogo_pipelines.server.openapi import openapi_document
from cogo_pipelines.server.responses import JSON, ApiError
from cogo_pipelines.store import knowledge, queries

log = logging.getLogger(__name__)


def _store(request: Request):
    return request.app.state.store


def jobs_list(request: Request) -> Response:
    status = params.status(request)
    executor_id = params.query_name(request, "executor_id")
    job_type = params.query_name(request, "type")
    limit = params.query_int(request, "limit", 50, params.LIMIT_RANGE)
    offset = params.query_int(request, "offset", 0, params.OFFSET_RANGE)
    with _store(request).connection() as conn:
        rows, total = queries.list_jobs(conn, status=status, executor_id=executor_id, type=job_type,
                                        limit=limit, offset=offset)
    return JSON({"jobs": rows, "total": total, "limit": limit, "offset": offset})


async def jobs_enqueue(request: Request) -> Response:
    data = await params.json_object(request)
    job_type = params.name(data.get("type"), "type", required=True)
    executor_id = params.name(data.get("executor_id"), "executor_id")
    dedupe_key = params.name(data.get("dedupe_key"), "dedupe_key")
    payload = data.get("payload") or {}
    if not isinstance(payload, dict):
        raise ApiError(400, "payload must be a JSON object")
    priority = params.body_int(data, "priority", 0, params.PRIORITY_RANGE)
    max_attempts = params.body_int(data, "max_attempts", 3, params.ATTEMPTS_RANGE)
    return await run_in_threadpool(_enqueue, request, job_type, payload, executor_id, priority, dedupe_key,
                                   max_attempts)


def _enqueue(request, job_type, payload, executor_id, priority, dedupe_key, max_attempts) -> Response:
    with _store(request).connection() as conn:
        existing = None
        if dedupe_key:
            existing = queries.open_job_with_key(conn, dedupe_key)
        try:
            job_id = jobs.enqueue(conn, job_type, payload, executor_id=executor_id, priority=priority,
                                  dedupe_key=dedupe_key, max_attempts=max_attempts)
        except ValueError as exc:  # the queue's own validation (unknown executor, bad payload …)
            raise ApiError(400, str(exc)) from None
        except EdgeError as exc:  # ROUTER_SELECT_URL set but the remote router did not answer
            raise ApiError(503, f"router-select failed: {exc}") from None
        job = queries.get_job(conn, job_id)
    deduplicated = existing is not None and existing["id"] == job_id
    return JSON({"job": job, "deduplicated": deduplicated}, status_code=200 if deduplicated else 201)


LOG_SERVED_BYTES = 8 * 1024 * 1024


def job_log(request: Request) -> Response:
    """A job's full build log (the file its runner wrote under COGO_HOME/artifacts/jobs), the last
    8 MiB of it, secrets scrubbed; only files in that folder are ever read."""
    job_id = params.path_id(request)
    with _store(request).connection() as conn:
        job = queries.get_job(conn, job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id}")
    folder = (request.app.state.settings.artifacts_dir / "jobs").resolve()
    raw = (job.get("result") or {}).get("log") if isinstance(job.get("result"), dict) else None
    path = Path(raw) if raw else folder / f"{job_id}.log"
    try:
        path = path.resolve()
        if path.parent != folder or not path.is_file():
            raise ApiError(404, f"no log for job {job_id} on this server (it stays on the runner that ran it)")
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - LOG_SERVED_BYTES))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        raise ApiError(404, f"no log for job {job_id} on this server") from None
    return Response(redact.scrub(text), media_type="text/plain; charset=utf-8")


def job_detail(request: Request) -> Response:
    job_id = params.path_id(request)
    with _store(request).connection() as conn:
        job = queries.get_job(conn, job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id}")
    return JSON(job)


def gate_latest(request: Request) -> Response:
    with _store(request).connection() as conn:
        run = queries.latest_gate(conn)
    if run is None:
        raise ApiError(404, "the Q1 gate has not run yet (`cogo gate q1`)")
    return JSON(run)


def gate_history(request: Request) -> Response:
    limit = params.query_int(request, "limit", 30, params.LIMIT_RANGE)
    with _store(request).connection() as conn:
        runs = queries.gate_history(conn, limit=limit)
    return JSON({"runs": runs})


def snapshots(request: Request) -> Response:
    limit = params.query_int(request, "limit", 30, params.LIMIT_RANGE)
    with _store(request).connection() as conn:
        rows = queries.snapshots(conn, limit=limit)
    return JSON({"snapshots": rows})


def summary_data(conn, base_url: str) -> dict[str, Any]:
    """One read of everything a glance needs; shared with the dashboard."""
    gate = queries.latest_gate(conn)
    # the gate_fix of the run shown beside it (none when that run passed), never an older run's
    fix = gate_fix.gate_fix_for_run(conn, gate["id"]) if gate and not gate.get("passed") else None
    if fix is not None:
        fix = {"id": fix["id"], "quality_run_id": fix["quality_run_id"],
               "created_at": datetime.fromisoformat(fix["created_at"]),
               "url": f"{base_url}/api/gate-fix/{fix['id']}"}
    return {
        "generated_at": datetime.now(UTC),
        "jobs": queries.job_counts(conn),
        "queue": queue_stats.queue_depth(conn),
        "gate": gate,
        "index": queries.index_stats(conn),
        "latest_gate_fix": fix,
    }


def base_url(request: Request) -> str:
    configured = request.app.state.settings.public_base_url
    return (configured or str(request.base_url)).rstrip("/")


def summary(request: Request) -> Response:
    with _store(request).connection() as conn:
        return JSON(summary_data(conn, base_url(request)))


def notify_weekly(request: Request) -> Response:
    with _store(request).connection() as conn:
        return JSON(notify.weekly_summary(conn))


def search(request: Request) -> Response:
    query = params.text(request, "q", required=True, max_len=params.QUERY_MAX)
    k = params.query_int(request, "k", 10, params.K_RANGE)
    repo = params.query_name(request, "repo")
    with _store(request).connection() as conn:
        try:
            hits = knowledge.search(conn, query, k=k, repo=repo)
        except knowledge.EmptyIndexError as exc:
            raise ApiError(409, str(exc)) from None
    return JSON({"query": query, "k": k, "hits": [_hit(h) for h in hits]})


def _hit(hit: Any) -> dict[str, Any]:
    data = hit.as_dict() if hasattr(hit, "as_dict") else dict(vars(hit))
    for extra in ("content", "header"):
        if extra not in data and getattr(hit, extra, None) is not None:
            data[extra] = getattr(hit, extra)
    return data


def gate_fix_detail(request: Request) -> Response:
    fmt = request.query_params.get("format") or _preferred_format(request)
    if fmt not in ("json", "markdown", "html"):
        raise ApiError(400, "format must be json, markdown or html")
    raw = request.path_params["id"]
    with _store(request).connection() as conn:
        if raw == "latest":
            fix = _gate_fix(conn, None)
            if fix is None:
                raise ApiError(404, "no gate_fix artifact yet (one is written when the Q1 gate fails)")
        else:
            fix_id = params.path_id(request)
            fix = _gate_fix(conn, fix_id)
            if fix is None:
                raise ApiError(404, f"no gate_fix artifact {fix_id}")
    if fmt == "markdown":
        return Response(redact.scrub(fix.get("markdown") or ""), media_type="text/markdown; charset=utf-8")
    if fmt == "html":
        from cogo_pipelines.quality.gate_fix_html import render_html

        page = render_html({**(fix.get("content") or {}), "id": fix["id"]}, self_url=f"{base_url(request)}/api/gate-fix/{fix['id']}")
        return HTMLResponse(redact.scrub(page))
    return JSON(fix)


def _preferred_format(request: Request) -> str:
    """Browsers (Accept: text/html first) get the page, programs JSON."""
    first = request.headers.get("accept", "").split(",")[0].strip().lower()
    return "html" if first.startswith("text/html") else "json"


def _gate_fix(conn, fix_id: int | None) -> dict | None:
    return gate_fix.get_gate_fix(conn, fix_id) if fix_id else gate_fix.latest_gate_fix(conn)


def index_stats(request: Request) -> Response:
    repo = params.query_name(request, "repo")
    with _store(request).connection() as conn:
        stats = queries.index_stats(conn, repo)
        stats["last_index"] = queries.last_index_duration(conn)
    return JSON(stats)


def openapi(request: Request) -> Response:
    return JSON(openapi_document(base_url(request)))


routes = [
    Route("/api/jobs", jobs_list, methods=["GET"]),
    Route("/api/jobs", jobs_enqueue, methods=["POST"]),
    Route("/api/jobs/{id}", job_detail, methods=["GET"]),
    Route("/api/jobs/{id}/log", job_log, methods=["GET"]),
    Route("/api/gate/latest", gate_latest, methods=["GET"]),
    Route("/api/gate/history", gate_history, methods=["GET"]),
    Route("/api/snapshots", snapshots, methods=["GET"]),
    Route("/api/summary", summary, methods=["GET"]),
    Route("/api/notify/weekly", notify_weekly, methods=["GET"]),
    Route("/api/search", search, methods=["GET"]),
    Route("/api/gate-fix/{id}", gate_fix_detail, methods=["GET"]),
    Route("/api/index/stats", index_stats, methods=["GET"]),
    Route("/api/openapi.json", openapi, methods=["GET"]),
]
