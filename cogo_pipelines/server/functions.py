"""The local edge functions at Supabase's paths, so ROUTER_SELECT_URL / KEY_VAULT_URL can point
here or at Supabase unchanged. Both check the two Supabase headers first (401 JSON otherwise).
router-select decides from the ``route_rules`` table (the built-in rules while it is empty).
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cogo_pipelines.edge import key_vault, router
from cogo_pipelines.edge.auth import check_edge_auth
from cogo_pipelines.server import params
from cogo_pipelines.server.responses import JSON, ApiError, error
from cogo_pipelines.store import route_rules

TASK_TYPE_MAX = 200
HINTS_MAX_CHARS = 8192
CLAIM_MAX = 200
# Who the edge functions authenticated: the holder of the anon + publishable keys (all a
# Supabase edge call proves). What the caller says about itself is kept apart, marked unverified.
EDGE_PRINCIPAL = "edge-keys (anon + publishable)"


async def _authorised_body(request: Request) -> dict:
    failure = check_edge_auth(request.headers, request.app.state.settings)
    if failure is not None:
        raise ApiError(failure.status, failure.message)
    return await params.json_object(request)


async def router_select(request: Request) -> Response:
    body = await _authorised_body(request)
    task_type = body.get("task_type")
    if not isinstance(task_type, str) or not task_type.strip():
        raise ApiError(400, "task_type (a non-empty string) is required")
    if len(task_type) > TASK_TYPE_MAX or any(ord(c) < 0x20 or ord(c) == 0x7F for c in task_type):
        raise ApiError(400, f"task_type must be at most {TASK_TYPE_MAX} printable characters")
    hints = body.get("hints")
    if hints is not None and not isinstance(hints, dict):
        raise ApiError(400, "hints must be a JSON object")
    if hints is not None and len(json.dumps(hints)) > HINTS_MAX_CHARS:
        raise ApiError(400, f"hints must be at most {HINTS_MAX_CHARS} characters of JSON")
    return await run_in_threadpool(_route, request, task_type, hints)


def _route(request: Request, task_type: str, hints: dict | None) -> Response:
    try:
        with request.app.state.store.connection() as conn:
            rules = route_rules.load_rules(conn)
        decision = router.select_route(task_type, hints, rules)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return JSON({"executor_id": decision.executor_id, "provider": decision.provider, "model": decision.model,
                 "reason": decision.reason})


async def vault_get(request: Request) -> Response:
    body = await _authorised_body(request)
    return await run_in_threadpool(_vault_get, request, body.get("provider"))


def _vault_get(request: Request, provider: object) -> Response:
    settings = request.app.state.settings
    claim = request.headers.get("x-cogo-actor") or request.headers.get("x-client-info")
    claimed = "".join(c for c in claim if c.isprintable())[:CLAIM_MAX] if claim else None
    client = request.client.host if request.client else None
    try:
        provider = key_vault.validate_provider(provider)
        fernet = key_vault.fernet_from_settings(settings)
        with request.app.state.store.connection() as conn:
            key = key_vault.get_key(conn, fernet, provider, actor=EDGE_PRINCIPAL, client=client,
                                    claimed_actor=claimed)
    except key_vault.VaultError as exc:
        return error(exc.status, str(exc))
    return JSON({"provider": provider, "key": key}, headers={"Cache-Control": "no-store"})


routes = [
    Route("/functions/v1/router-select", router_select, methods=["POST"]),
    Route("/functions/v1/key-vault", vault_get, methods=["POST"]),
]
