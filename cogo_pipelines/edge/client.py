"""HTTP clients of the edge functions, used by runners when ROUTER_SELECT_URL / KEY_VAULT_URL
are set. The URL is the full function URL, so it can point at this sidecar
(``http://127.0.0.1:3100/functions/v1/router-select``) or at Supabase's
(``https://<ref>.supabase.co/functions/v1/router-select``) unchanged.
"""

from __future__ import annotations

from typing import Any

import httpx

from cogo_pipelines.edge.auth import edge_headers
from cogo_pipelines.settings import Settings, get_settings


class EdgeError(RuntimeError):
    """The function answered with an error, or could not be reached; never contains a key."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _EdgeClient:
    url_setting = ""

    def __init__(self, url: str | None = None, anon_key: str | None = None, publishable_key: str | None = None,
                 *, timeout: float = 10.0, actor: str | None = None, settings: Settings | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        """Arguments left out come from the settings (the URL setting and the two Supabase keys)."""
        settings = settings or get_settings()
        url = url or getattr(settings, self.url_setting)
        if not url:
            raise EdgeError(f"{self.url_setting.upper()} is not set")
        if anon_key is None and settings.supabase_anon_key is not None:
            anon_key = settings.supabase_anon_key.get_secret_value()
        if publishable_key is None and settings.supabase_publishable_key is not None:
            publishable_key = settings.supabase_publishable_key.get_secret_value()
        if not anon_key or not publishable_key:
            raise EdgeError("SUPABASE_ANON_KEY and SUPABASE_PUBLISHABLE_KEY are required to call edge functions")
        self.url = url
        headers = edge_headers(anon_key, publishable_key)
        actor = actor or settings.executor_id
        if actor:
            headers["X-Cogo-Actor"] = actor
        self._http = httpx.Client(headers=headers, timeout=timeout, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, actor: str | None = None):
        """A client when the URL setting is set, else ``None`` (callers then use local logic)."""
        settings = settings or get_settings()
        if not getattr(settings, cls.url_setting):
            return None
        return cls(settings=settings, actor=actor)

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise EdgeError(f"cannot reach {self.url}: {type(exc).__name__}") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            detail = data.get("error") if isinstance(data, dict) else None
            raise EdgeError(f"{self.url} answered {response.status_code}: {detail or response.reason_phrase}",
                            response.status_code)
        if not isinstance(data, dict):
            raise EdgeError(f"{self.url} answered with something other than a JSON object", response.status_code)
        return data

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RouterSelectClient(_EdgeClient):
    url_setting = "router_select_url"

    def select(self, task_type: str, hints: dict | None = None):
        """Ask router-select which executor/provider/model runs ``task_type``."""
        from cogo_pipelines.edge.router import RouteDecision

        body: dict[str, Any] = {"task_type": task_type}
        if hints:
            body["hints"] = hints
        data = self._post(body)
        try:
            return RouteDecision(executor_id=data["executor_id"], provider=data.get("provider"),
                                 model=data.get("model"), reason=data.get("reason", ""))
        except KeyError:
            raise EdgeError(f"{self.url} answered without executor_id") from None


class KeyVaultClient(_EdgeClient):
    url_setting = "key_vault_url"

    def get_key(self, provider: str) -> str:
        """The provider's API key, fetched for immediate use; do not log or persist it."""
        data = self._post({"provider": provider})
        key = data.get("key")
        if not isinstance(key, str):
            raise EdgeError(f"{self.url} answered without a key")
        return key
