"""Edge-function authentication, the same two headers Supabase's gateway checks.

A caller must send ``Authorization: Bearer <SUPABASE_ANON_KEY>`` and
``apikey: <SUPABASE_PUBLISHABLE_KEY>``. Both values come from the server environment; they
are compared in constant time so response timing says nothing about how much of a guess
was right. Error messages never echo what the caller sent.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from cogo_pipelines.settings import Settings


@dataclass(frozen=True)
class AuthFailure:
    message: str
    status: int = 401


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def check_edge_auth(headers: Mapping[str, str], settings: Settings) -> AuthFailure | None:
    """``None`` when both headers carry the configured keys, else why not (always a 401)."""
    anon = settings.supabase_anon_key.get_secret_value() if settings.supabase_anon_key else ""
    publishable = (
        settings.supabase_publishable_key.get_secret_value() if settings.supabase_publishable_key else ""
    )
    if not anon or not publishable:
        return AuthFailure(
            "edge functions are disabled on this server: set SUPABASE_ANON_KEY and "
            "SUPABASE_PUBLISHABLE_KEY in the server environment"
        )
    authorization = headers.get("authorization") or ""
    scheme, _, token = authorization.partition(" ")
    apikey = headers.get("apikey") or ""
    # Evaluate both comparisons every time: which header failed must not change the timing.
    token_ok = _same(token.strip(), anon) and scheme.lower() == "bearer"
    apikey_ok = _same(apikey, publishable)
    if not authorization:
        return AuthFailure("missing Authorization: Bearer <anon key> header")
    if not apikey:
        return AuthFailure("missing apikey header")
    if not (token_ok and apikey_ok):
        return AuthFailure("invalid credentials")
    return None


def edge_headers(anon_key: str, publishable_key: str) -> dict[str, str]:
    """The headers a client sends; one definition shared by clients and tests."""
    return {"Authorization": f"Bearer {anon_key}", "apikey": publishable_key}
