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
from cogo_pipelines.server.headers import SECURITY_HEADERS
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


def internal_error(exc: BaseException | None, *, closing: bool = False) -> JSON:
    """The JSON 500 of a failure no inner layer answered, with the headers every answer carries
    (it is sent from outside ``SecurityHeadersMiddleware``); the type only, never the text.
    ``closing``: the server closes the connection after it (so the client does not reuse it)."""
    cause = type(exc).__name__ if exc is not None else "no response"
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    if closing:
        headers["connection"] = "close"
    return error(500, f"internal error ({cause}); see the sidecar log", headers=headers)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's ``ServerErrorMiddleware`` (outside every middleware of the app) answers an
    exception that escaped them with this, instead of its plain-text "Internal Server Error"."""
    return internal_error(exc)


EXCEPTION_HANDLERS = {
    ApiError: api_error_handler,
    HTTPException: http_error_handler,
    StoreUnavailable: store_unavailable_handler,
    Exception: server_error_handler,  # Starlette gives this one to its ServerErrorMiddleware only
}


class _Answer:
    """How much of its answer an app has sent (``send`` passes each message on): a last-resort
    layer may answer only while nothing has started."""

    def __init__(self, send) -> None:
        self._send, self.started, self.complete = send, False, False

    async def send(self, message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete = True
        await self._send(message)


class JsonErrorMiddleware(HttpMiddleware):
    """A bug still answers JSON 500 and keeps the connection usable (Starlette's own last-resort
    handler re-raises, so the server drops the keep-alive connection)."""

    async def handle(self, scope, receive, send) -> None:
        answer = _Answer(send)
        try:
            await self.app(scope, receive, answer.send)
        except Exception as exc:
            # Type only in the line: exception text can carry connection strings or payload fragments.
            log.error("unhandled error on %s %s: %s", scope.get("method"), scope.get("path"), type(exc).__name__,
                      exc_info=exc)
            if answer.started:
                raise
            await internal_error(exc)(scope, receive, send)


class LastResortMiddleware(HttpMiddleware):
    """The app's outermost layer (``app.SidecarApp``), so the server never answers for it:
    uvicorn sends a plain-text 500 when the app raises before answering, or returns without an
    answer (a raw ASGI route such as /mcp can), and nothing inside catches what is not an
    ``Exception`` (a cancellation). Each is the JSON 500 here. An exception after a complete
    answer (Starlette's ``ServerErrorMiddleware`` answers, then re-raises for the server to log)
    is logged and ends here, so the connection stays usable; one after a partial answer, or one
    that is not an ``Exception``, still goes on to the server, which closes the connection."""

    async def handle(self, scope, receive, send) -> None:
        answer = _Answer(send)
        try:
            await self.app(scope, receive, answer.send)
        except BaseException as exc:
            log.error("unhandled error on %s %s: %s", scope.get("method"), scope.get("path"), type(exc).__name__,
                      exc_info=exc)
            fatal = not isinstance(exc, Exception)  # re-raised: the server then closes the connection
            if not answer.started:
                await internal_error(exc, closing=fatal)(scope, receive, send)
            elif not answer.complete:
                raise
            if fatal:
                raise
            return
        if not answer.started:
            log.error("no response on %s %s", scope.get("method"), scope.get("path"))
            await internal_error(None)(scope, receive, send)
