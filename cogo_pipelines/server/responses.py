"""JSON in and out: one encoder (timestamps as ISO 8601) and one error shape for every 4xx/5xx.

Errors are ``{"error": "<message>", "status": <code>}`` so clients and the OpenAPI document
share a single schema.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
from pathlib import PurePath
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cogo_pipelines.server import redact
from cogo_pipelines.server.asgi import HttpMiddleware
from cogo_pipelines.server.store import StoreUnavailable

log = logging.getLogger(__name__)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return None  # never ship raw bytes (ciphertexts); no endpoint needs them
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_default, allow_nan=False))


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return redact.scrub_bytes(json.dumps(content, default=_default, ensure_ascii=False, allow_nan=False,
                                             separators=(",", ":")).encode("utf-8"))


class ApiError(Exception):
    """Raised by handlers for a clear 4xx/503 with a message meant for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSON:
    return JSON({"error": message, "status": status}, status_code=status, headers=headers)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error(exc.status, exc.message)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"no route for {request.url.path}", 405: f"method {request.method} not allowed here"}.get(
        exc.status_code, str(exc.detail))
    return error(exc.status_code, message, headers=getattr(exc, "headers", None))


async def store_unavailable_handler(request: Request, exc: Exception) -> Response:
    return error(503, f"the store is unavailable: {exc}")


EXCEPTION_HANDLERS = {
    ApiError: api_error_handler,
    HTTPException: http_error_handler,
    StoreUnavailable: store_unavailable_handler,
}


class JsonErrorMiddleware(HttpMiddleware):
    """A bug still answers JSON 500 and keeps the connection usable (Starlette's own last-resort
    handler re-raises, so the server drops the keep-alive connection)."""

    async def handle(self, scope, receive, send) -> None:
        started = False

        async def tracking_send(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            # Type only in the line: exception text can carry connection strings or payload fragments.
            log.error("unhandled error on %s %s: %s", scope.get("method"), scope.get("path"), type(exc).__name__,
                      exc_info=exc)
            if started:
                raise
            response = error(500, f"internal error ({type(exc).__name__}); see the sidecar log")
            await response(scope, receive, send)
