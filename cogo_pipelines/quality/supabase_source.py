"""Q1 job history through Supabase's REST API (the seed's ``ci:gate:q1:sb``).

For CI jobs that hold ``SUPABASE_URL`` and the service-role key but no Postgres connection:
the same ``jobs`` table, counted by PostgREST (``Prefer: count=exact`` on HEAD requests, so no
rows travel and no page limit applies), and the run recorded in ``quality_runs`` the same way.
Its categories are the store's (``quality/categories.py``): an infrastructure failure (timeout,
missing working tree, runner lost) is counted by a positive ``or=(...)`` filter and kept out of
``failed`` here too, so both sources give one verdict on the same rows.

``SUPABASE_TIMEOUT_S`` is a total deadline: for reading the job history (all its requests
together), and again for recording the run. The client's own default was 120 s per request, a
server that accepted the connection and never answered held a CI job that long for each request,
and a per-read timeout alone let one that trickled its answer hold it forever (``http_deadline``).
A request that fails is a ``SourceUnavailable``: which request, what happened, and what to check
for that kind of failure.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any
from urllib.parse import urlsplit

import httpx

from cogo_pipelines.quality import categories
from cogo_pipelines.quality.categories import Category
from cogo_pipelines.quality.gate import ERROR_TAIL_CHARS, GateError, GateQuery, JobCounts, SourceUnavailable
from cogo_pipelines.quality.http_deadline import Deadline, deadline_client
from cogo_pipelines.settings import Settings, get_settings

FAILING_COLUMNS = "id,type,executor_id,finished_at,attempts,payload,error"
FLAKY_COLUMNS = "id,type,executor_id,finished_at,attempts,payload,runs:result->attempts,summary:result->summary,"\
    "log_path:result->>log"
# a base category's jobs are its newest rows that no category apart claims: read in pages of at
# most PAGE_ROWS (sized to hold the limit plus the jobs apart), PAGES at most; past that fewer are listed
PAGE_ROWS = 100
PAGES = 5
# PostgREST codes (and HTTP statuses, all a HEAD answer carries) that say the key is refused, or
# that the table is not there
_AUTH_CODES = frozenset({"401", "403", "PGRST301", "PGRST302", "42501"})
_MISSING_CODES = frozenset({"404", "42P01", "PGRST205", "PGRST204", "PGRST200"})


def jobs_query(client: Any, query: GateQuery, status: str, *, head: bool, category: Category | None = None,
               columns: str | None = None, limit: int | None = None, offset: int = 0):
    """The PostgREST request for jobs of ``status`` in the gate's window (not executed); with a
    ``category`` that is not a base one, only the jobs its PostgREST filter picks (``Category.rest``,
    ``Category.rest_any``). Rows (not ``head``) come newest first, ``limit`` (the gate's failing
    limit) from ``offset``, with ``columns`` or the category's."""
    if head:
        builder = client.table("jobs").select("id", count="exact", head=True)
    else:
        builder = client.table("jobs").select(columns or COLUMNS[category.columns if category else "failure"][0])
    builder = (
        builder.in_("type", list(query.job_types))
        .eq("status", status)
        .gte("finished_at", query.window_start.isoformat())
        .lte("finished_at", query.window_end.isoformat())
    )
    if query.target:
        builder = builder.eq("payload->>target", query.target)
    if category is not None and not category.base and category.rest is not None:
        builder = builder.eq(*category.rest)
    if category is not None and not category.base and category.rest_any is not None:
        builder = builder.or_(category.rest_any)
    if not head:
        builder = builder.order("finished_at", desc=True).order("id", desc=True).limit(limit or query.failing_limit)
        if offset:
            builder = builder.offset(offset)
    return builder


def _failing_job(row: dict[str, Any]) -> dict[str, Any]:
    payload = row.get("payload") or {}
    return {
        "id": row.get("id"),
        "type": row.get("type"),
        "executor_id": row.get("executor_id"),
        "finished_at": row.get("finished_at"),
        "attempts": row.get("attempts"),
        "target": payload.get("target") if isinstance(payload, dict) else None,
        "command": payload.get("command") if isinstance(payload, dict) else None,
        "error": (row.get("error") or "")[-ERROR_TAIL_CHARS:],
    }


def _rerun_job(row: dict[str, Any]) -> dict[str, Any]:
    return {**_failing_job(row), "runs": row.get("runs"), "summary": row.get("summary"), "log_path": row.get("log_path")}


# what a listed job is read with (``Category.columns``), and how its row becomes the job the gate lists
COLUMNS = {"failure": (FAILING_COLUMNS, _failing_job), "rerun": (FLAKY_COLUMNS, _rerun_job)}


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what a message may show of SUPABASE_URL."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "SUPABASE_URL"


def unavailable(exc: BaseException, what: str, url: str, timeout_s: float) -> SourceUnavailable:
    """The named reason for a failed request: the error in one line and what to check for its kind."""
    where = _origin(url)
    if isinstance(exc, httpx.TimeoutException):
        return SourceUnavailable(
            "supabase", f"no answer within {timeout_s:g} s while {what} ({type(exc).__name__})",
            f"that {where} is up and answering (a paused project, a proxy or firewall holding the connection); "
            "SUPABASE_TIMEOUT_S for a slow network")
    if isinstance(exc, httpx.TransportError):
        return SourceUnavailable(
            "supabase", f"cannot reach {where} while {what} ({type(exc).__name__}: {exc})",
            "that SUPABASE_URL is right and reachable from this machine (DNS, network, firewall)")
    code = str(getattr(exc, "code", None) or "")
    detail = " ".join(str(getattr(exc, "message", None) or exc or type(exc).__name__).split())[:300]
    error = f"{what} answered {code + ' ' if code else ''}{detail}"
    if code in _AUTH_CODES:
        check = "that SUPABASE_SERVICE_ROLE_KEY is this project's service-role key"
    elif code in _MISSING_CODES:
        check = f"that {where} is the project whose schema has the jobs and quality_runs tables (migrations applied)"
    else:
        check = (f"that {where} is the project's REST endpoint (https://<ref>.supabase.co), the service-role key "
                 "is its own, and its jobs and quality_runs tables are migrated")
    return SourceUnavailable("supabase", error, check)


class SupabaseJobSource:
    name = "supabase"

    def __init__(self, client: Any, *, url: str = "", timeout_s: float = 10.0, deadline: Deadline | None = None):
        self.client, self.url, self.timeout_s, self.deadline = client, url, timeout_s, deadline

    def _bounded(self):
        """The total deadline around one unit of work (the read of the history, the record)."""
        return self.deadline.running() if self.deadline is not None else nullcontext()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SupabaseJobSource:
        settings = settings or get_settings()
        key = settings.supabase_service_role_key
        if not settings.supabase_url or key is None or not key.get_secret_value():
            raise GateError("the supabase source needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY")
        from supabase import ClientOptions, create_client

        # every socket wait is bounded by the timeout and by what is left of the deadline; the
        # client retries a refused or reset connection of a read 3 times (1+2+4 s), never a timeout
        http, deadline = deadline_client(settings.supabase_timeout_s)
        try:
            client = create_client(settings.supabase_url, key.get_secret_value(),
                                   options=ClientOptions(httpx_client=http))
        except Exception as exc:  # noqa: BLE001 - supabase raises its own SupabaseException for malformed URL/key
            http.close()
            raise GateError(f"cannot create the Supabase client: {type(exc).__name__}: {exc}") from None
        return cls(client, url=settings.supabase_url, timeout_s=settings.supabase_timeout_s, deadline=deadline)

    def _execute(self, builder: Any, what: str) -> Any:
        try:
            return builder.execute()
        except Exception as exc:  # noqa: BLE001 - APIError, httpx transport errors: the gate could not be evaluated
            raise unavailable(exc, what, self.url, self.timeout_s) from None

    def count_jobs(self, query: GateQuery) -> JobCounts:
        """Per category a count (HEAD), then the newest rows of each listed one with jobs. A base
        category counts its status' jobs less those of the categories apart from it; a category
        apart is counted only where its status has jobs; one with no PostgREST filter is not told
        apart here (counted 0, its jobs stay in its base)."""
        with self._bounded():
            return self._count_jobs(query)

    def _count_jobs(self, query: GateQuery) -> JobCounts:
        table = [c for c in categories.table() if c.rested]
        counts = {c.name: 0 for c in categories.table()}
        jobs: dict[str, list[dict[str, Any]]] = {c.name: [] for c in categories.table() if c.jobs}
        for c in sorted(table, key=lambda c: not c.base):  # bases first: an apart one needs its base's count
            if c.base or counts[categories.base_of(c).name]:
                counts[c.name] = self._execute(jobs_query(self.client, query, c.status, head=True, category=c),
                                               f"counting {c.name} jobs").count or 0
        apart = [c for c in table if c.apart]
        for c in apart:  # (two counts are two reads: a job finishing between them must not make it negative)
            counts[categories.base_of(c).name] = max(0, counts[categories.base_of(c).name] - counts[c.name])
        for c in table:
            if c.jobs and counts[c.name]:
                mixed = [a for a in apart if a.status == c.status and counts[a.name]] if c.base else []
                rows = self._base_rows(query, c, mixed, counts) if mixed else self._execute(
                    jobs_query(self.client, query, c.status, head=False, category=c), f"reading {c.name} jobs").data
                jobs[c.name] = [COLUMNS[c.columns][1](row) for row in rows or []]
        return JobCounts(counts=counts, jobs=jobs)

    def _base_rows(self, query: GateQuery, base: Category, apart: list[Category],
                   counts: dict[str, int]) -> list[dict[str, Any]]:
        """The newest rows of ``base`` that none of ``apart`` claims (their rules in Python over
        each row: PostgREST's ``not.or`` drops a row whose error or result is NULL), read page by
        page: one page holds them all unless the jobs apart outnumber ``PAGE_ROWS``."""
        reads = dict.fromkeys(key for a in apart for key in a.reads)
        columns = ",".join([COLUMNS[base.columns][0], *(f"r_{key}:result->>{key}" for key in reads)])
        size = min(query.failing_limit + sum(counts[a.name] for a in apart), max(PAGE_ROWS, query.failing_limit))
        found: list[dict[str, Any]] = []
        for page in range(PAGES):
            rows = self._execute(jobs_query(self.client, query, base.status, head=False, columns=columns, limit=size,
                                            offset=page * size), f"reading {base.name} jobs").data or []
            for row in rows:
                result = {key: row.get(f"r_{key}") for key in reads}
                if not any(a.claims and a.claims(row.get("error"), result) for a in apart):
                    found.append(row)
            if len(found) >= min(query.failing_limit, counts[base.name]) or len(rows) < size:
                break
        return found[:query.failing_limit]

    def record_run(self, row: dict[str, Any]) -> int | None:
        with self._bounded():
            response = self._execute(self.client.table("quality_runs").insert(row), "recording the gate run")
        data = response.data or []
        return data[0].get("id") if data else None
