"""REST API under /api: jobs, gate, snapshots, summary, weekly payload, search, gate_fix, index.

Handlers are sync (Starlette runs them in its thread pool) and only translate HTTP to the
core: plain SQL reads from ``queries`` and the other areas' functions. Each is declared once in
``ENDPOINTS`` with its pydantic models (``models``): the endpoint parses the request into them
before the handler runs, and ``openapi.py`` documents the operation from the same declaration.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from cogo_pipelines.edge.client import EdgeError
from cogo_pipelines.pipeline import handlers
from cogo_pipelines.quality import gate_fix, notify
from cogo_pipelines.queue import jobs
from cogo_pipelines.queue import stats as queue_stats
from cogo_pipelines.server import models as m
from cogo_pipelines.server import redact
from cogo_pipelines.server.endpoint import Endpoint
from cogo_pipelines.server.responses import JSON, ApiError
from cogo_pipelines.store import knowledge, queries, retention

log = logging.getLogger(__name__)


def _store(request: Request):
    return request.app.state.store


async def healthz(request: Request) -> Response:
    """Liveness on the event loop with a bounded store check (``SidecarStore.ping``): it was a
    sync handler on a pooled connection, so a thread pool busy with slow handlers, or a silent
    database, held it for 5-10 s while a probe waited."""
    problem = await _store(request).ping()
    if problem is not None:
        return JSON({"error": f"the store is unavailable: {problem}", "status": 503, "db": "down"}, status_code=503)
    return JSON({"status": "ok", "store": True, "db": "up"})


def jobs_list(request: Request, query: m.JobsQuery) -> Response:
    with _store(request).connection() as conn:
        rows, total = queries.list_jobs(conn, status=query.status, executor_id=query.executor_id, type=query.type,
                                        limit=query.limit, offset=query.offset)
    return JSON({"jobs": rows, "total": total, "limit": query.limit, "offset": query.offset})


async def jobs_enqueue(request: Request, body: m.EnqueueRequest) -> Response:
    return await run_in_threadpool(_enqueue, request, body)


def _enqueue(request: Request, body: m.EnqueueRequest) -> Response:
    with _store(request).connection() as conn:
        existing = None
        if body.dedupe_key:
            existing = queries.open_job_with_key(conn, body.dedupe_key)
        try:
            job_id = jobs.enqueue(conn, body.type, body.payload, executor_id=body.executor_id,
                                  priority=body.priority, dedupe_key=body.dedupe_key,
                                  max_attempts=body.max_attempts)
        except ValueError as exc:  # the queue's own validation (unknown executor, bad payload …)
            raise ApiError(400, str(exc)) from None
        except EdgeError as exc:  # ROUTER_SELECT_URL set but the remote router did not answer
            raise ApiError(503, f"router-select failed: {exc}") from None
        job = queries.get_job(conn, job_id)
    deduplicated = existing is not None and existing["id"] == job_id
    answer = {"job": job, "deduplicated": deduplicated}
    warning = handlers.unhandled_warning(job["executor_id"], body.type)
    if warning:
        answer["warning"] = warning
    return JSON(answer, status_code=200 if deduplicated else 201)


LOG_SERVED_BYTES = 8 * 1024 * 1024


def job_log(request: Request, path: m.JobPath) -> Response:
    """A job's full build log (the file its runner wrote under COGO_HOME/artifacts/jobs), the last
    8 MiB of it, secrets scrubbed; only files in that folder are ever read."""
    job_id = path.id
    with _store(request).connection() as conn:
        job = queries.get_job(conn, job_id)
    if job is None:
        raise ApiError(404, f"no job {job_id}")
    folder = (request.app.state.settings.artifacts_dir / "jobs").resolve()
    raw = (job.get("result") or {}).get("log") if isinstance(job.get("result"), dict) else None
    log_path = Path(raw) if raw else folder / f"{job_id}.log"
    try:
        log_path = log_path.resolve()
        if log_path.parent != folder or not log_path.is_file():
            raise ApiError(404, f"no log for job {job_id} on this server (it stays on the runner that ran it)")
        with log_path.open("rb") as handle:
            handle.seek(max(0, log_path.stat().st_size - LOG_SERVED_BYTES))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        raise ApiError(404, f"no log for job {job_id} on this server") from None
    return Response(redact.scrub(text), media_type="text/plain; charset=utf-8")


def job_detail(request: Request, path: m.JobPath) -> Response:
    with _store(request).connection() as conn:
        job = queries.get_job(conn, path.id)
    if job is None:
        raise ApiError(404, f"no job {path.id}")
    return JSON(job)


def gate_latest(request: Request) -> Response:
    with _store(request).connection() as conn:
        run = queries.latest_gate(conn)
    if run is None:
        raise ApiError(404, "the Q1 gate has not run yet (`cogo gate q1`)")
    return JSON(run)


def gate_history(request: Request, query: m.HistoryQuery) -> Response:
    with _store(request).connection() as conn:
        runs = queries.gate_history(conn, limit=query.limit)
    return JSON({"runs": runs})


def snapshots(request: Request, query: m.HistoryQuery) -> Response:
    with _store(request).connection() as conn:
        rows = queries.snapshots(conn, limit=query.limit)
    return JSON({"snapshots": rows})


def summary_data(conn, link_base: str) -> dict[str, Any]:
    """One read of everything a glance needs; shared with the dashboard. ``link_base`` as
    ``link_base()`` gives it: the gate_fix ``url`` is absolute only with ``PUBLIC_BASE_URL`` set."""
    gate = queries.latest_gate(conn)
    # the gate_fix of the run shown beside it (none when that run passed), never an older run's
    fix = gate_fix.gate_fix_for_run(conn, gate["id"]) if gate and not gate.get("passed") else None
    if fix is not None:
        fix = {"id": fix["id"], "quality_run_id": fix["quality_run_id"],
               "created_at": datetime.fromisoformat(fix["created_at"]),
               "url": f"{link_base}/api/gate-fix/{fix['id']}"}
    return {
        "generated_at": datetime.now(UTC),
        "jobs": queries.job_counts(conn),
        "queue": queue_stats.queue_depth(conn),
        "gate": gate,
        "index": queries.index_stats(conn),
        "latest_gate_fix": fix,
        "store_upkeep_at": retention.last_done(conn),
    }


def link_base(request: Request) -> str:
    """What the sidecar's own links start with: ``PUBLIC_BASE_URL`` when it is configured, else
    nothing, so that ``/api/gate-fix/7`` resolves against the address the client already used.
    Never the request's ``Host`` header: any client chooses it, and ``Host: evil.example`` made the
    dashboard, the summary and the OpenAPI document point their readers at that host."""
    return (request.app.state.settings.public_base_url or "").rstrip("/")


def summary(request: Request) -> Response:
    with _store(request).connection() as conn:
        return JSON(summary_data(conn, link_base(request)))


def notify_weekly(request: Request) -> Response:
    with _store(request).connection() as conn:
        return JSON(notify.weekly_summary(conn))


def search(request: Request, query: m.SearchQuery) -> Response:
    with _store(request).connection() as conn, _store(request).spare_connection() as vector_conn:
        try:
            hits = knowledge.search(conn, query.q, k=query.k, repo=query.repo, vector_conn=vector_conn,
                                    summary=None if query.summaries == "false" else request.app.state.summary)
        except knowledge.EmptyIndexError as exc:
            raise ApiError(409, str(exc)) from None
    return JSON({"query": query.q, "k": query.k, "hits": [_hit(h) for h in hits]})


def _hit(hit: Any) -> dict[str, Any]:
    data = hit.as_dict() if hasattr(hit, "as_dict") else dict(vars(hit))
    for extra in ("content", "header"):
        if extra not in data and getattr(hit, extra, None) is not None:
            data[extra] = getattr(hit, extra)
    return data


def gate_fix_detail(request: Request, path: m.GateFixPath, query: m.GateFixQuery) -> Response:
    fmt = query.format or _preferred_format(request)
    with _store(request).connection() as conn:
        if path.id == "latest":
            fix = _gate_fix(conn, None)
            if fix is None:
                raise ApiError(404, "no gate_fix artifact yet (one is written when the Q1 gate fails)")
        else:
            fix = _gate_fix(conn, path.id)
            if fix is None:
                raise ApiError(404, f"no gate_fix artifact {path.id}")
    if fmt == "markdown":
        return Response(redact.scrub(fix.get("markdown") or ""), media_type="text/markdown; charset=utf-8")
    if fmt == "html":
        from cogo_pipelines.quality.gate_fix_html import render_html

        page = render_html({**(fix.get("content") or {}), "id": fix["id"]}, self_url=f"{link_base(request)}/api/gate-fix/{fix['id']}")
        return HTMLResponse(redact.scrub(page))
    return JSON(fix)


def _preferred_format(request: Request) -> str:
    """Browsers (Accept: text/html first) get the page, programs JSON."""
    first = request.headers.get("accept", "").split(",")[0].strip().lower()
    return "html" if first.startswith("text/html") else "json"


def _gate_fix(conn, fix_id: int | None) -> dict | None:
    return gate_fix.get_gate_fix(conn, fix_id) if fix_id else gate_fix.latest_gate_fix(conn)


def index_stats(request: Request, query: m.RepoQuery) -> Response:
    with _store(request).connection() as conn:
        stats = queries.index_stats(conn, query.repo)
        stats["last_index"] = queries.last_index_duration(conn, query.repo)
    return JSON(stats)


def _json(description: str, model: type) -> dict[int, tuple[str, type]]:
    return {200: (description, model)}


ENDPOINTS = (
    Endpoint("/healthz", healthz, "health", "Liveness and store reachability",
             {200: ("Store reachable", m.Health),
              503: ("Store unreachable, or no answer within 1 s", m.HealthDown)}, errors=(), public=True),
    Endpoint("/api/jobs", jobs_list, "listJobs", "Jobs, newest first, optionally filtered",
             _json("A page of jobs", m.JobList), query=m.JobsQuery),
    Endpoint("/api/jobs", jobs_enqueue, "enqueueJob", "Enqueue a job (router-select picks the executor if omitted)",
             {201: ("Enqueued", m.EnqueueResponse),
              200: ("An open job with the same dedupe_key exists", m.EnqueueResponse)},
             method="POST", body=m.EnqueueRequest, errors=(400, 413, 415, 503)),
    Endpoint("/api/jobs/{id}", job_detail, "getJob", "One job", _json("The job", m.Job), path_params=m.JobPath,
             errors=(400, 404, 503)),
    Endpoint("/api/jobs/{id}/log", job_log, "getJobLog",
             "A job's build log (last 8 MiB, secrets scrubbed), when it is on this server",
             {200: ("The log", {"text/plain": str})}, path_params=m.JobPath, errors=(400, 404, 503)),
    Endpoint("/api/gate/latest", gate_latest, "latestGate", "The last Q1 gate run", _json("Last run", m.QualityRun),
             errors=(404, 503)),
    Endpoint("/api/gate/history", gate_history, "gateHistory", "Q1 gate runs, newest first",
             _json("Runs", m.GateHistory), query=m.HistoryQuery),
    Endpoint("/api/snapshots", snapshots, "listSnapshots", "Nightly snapshots, newest first",
             _json("Snapshots", m.SnapshotList), query=m.HistoryQuery),
    Endpoint("/api/summary", summary, "summary", "Queue, gate, index and latest gate_fix at a glance",
             _json("Summary", m.Summary), errors=(503,)),
    Endpoint("/api/notify/weekly", notify_weekly, "weeklySummary",
             "The weekly notification payload (as sent to the webhook)", _json("Payload", m.WeeklySummary),
             errors=(503,)),
    Endpoint("/api/search", search, "search", "Semantic code search over the index", _json("Hits", m.SearchResponse),
             query=m.SearchQuery, errors=(400, 409, 503)),
    Endpoint("/api/gate-fix/{id}", gate_fix_detail, "getGateFix",
             "A gate_fix artifact (id or 'latest'); JSON for programs, HTML for browsers (Accept), or Markdown",
             {200: ("The artifact", {"application/json": m.GateFix, "text/markdown": str, "text/html": str})},
             path_params=m.GateFixPath, query=m.GateFixQuery, errors=(400, 404, 503)),
    Endpoint("/api/index/stats", index_stats, "indexStats", "Index sizes overall and per repository",
             _json("Sizes", m.IndexStats), query=m.RepoQuery),
)
routes = [ep.route() for ep in ENDPOINTS]
