"""Q1 job history through Supabase's REST API (the seed's ``ci:gate:q1:sb``).

For CI jobs that hold ``SUPABASE_URL`` and the service-role key but no Postgres connection:
the same ``jobs`` table, counted by PostgREST (``Prefer: count=exact`` on HEAD requests, so no
rows travel and no page limit applies), and the run recorded in ``quality_runs`` the same way.
"""

from __future__ import annotations

from typing import Any

from cogo_pipelines.quality.gate import ERROR_TAIL_CHARS, GateError, GateQuery, JobCounts
from cogo_pipelines.settings import Settings, get_settings

FAILING_COLUMNS = "id,type,executor_id,finished_at,attempts,payload,error"


def jobs_query(client: Any, query: GateQuery, status: str, *, head: bool):
    """The PostgREST request for jobs of ``status`` in the gate's window (not executed)."""
    if head:
        builder = client.table("jobs").select("id", count="exact", head=True)
    else:
        builder = client.table("jobs").select(FAILING_COLUMNS)
    builder = (
        builder.in_("type", list(query.job_types))
        .eq("status", status)
        .gte("finished_at", query.window_start.isoformat())
        .lte("finished_at", query.window_end.isoformat())
    )
    if query.target:
        builder = builder.eq("payload->>target", query.target)
    if not head:
        builder = builder.order("finished_at", desc=True).order("id", desc=True).limit(query.failing_limit)
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


class SupabaseJobSource:
    name = "supabase"

    def __init__(self, client: Any):
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SupabaseJobSource:
        settings = settings or get_settings()
        key = settings.supabase_service_role_key
        if not settings.supabase_url or key is None or not key.get_secret_value():
            raise GateError("the supabase source needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY")
        from supabase import create_client

        try:
            client = create_client(settings.supabase_url, key.get_secret_value())
        except Exception as exc:  # noqa: BLE001 - supabase raises its own SupabaseException for malformed URL/key
            raise GateError(f"cannot create the Supabase client: {type(exc).__name__}: {exc}") from None
        return cls(client)

    def _execute(self, builder: Any) -> Any:
        try:
            return builder.execute()
        except Exception as exc:  # noqa: BLE001 - APIError, httpx transport errors: the gate could not be evaluated
            detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise GateError(f"Supabase query failed: {detail}") from None

    def count_jobs(self, query: GateQuery) -> JobCounts:
        succeeded = self._execute(jobs_query(self.client, query, "succeeded", head=True)).count or 0
        failed = self._execute(jobs_query(self.client, query, "failed", head=True)).count or 0
        failing = []
        if failed:
            rows = self._execute(jobs_query(self.client, query, "failed", head=False)).data or []
            failing = [_failing_job(row) for row in rows]
        return JobCounts(succeeded=succeeded, failed=failed, failing_jobs=failing)

    def record_run(self, row: dict[str, Any]) -> int | None:
        response = self._execute(self.client.table("quality_runs").insert(row))
        data = response.data or []
        return data[0].get("id") if data else None
