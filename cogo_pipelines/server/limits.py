"""Every request body is bounded before a handler sees it: 413 JSON past the limit.

A declared ``Content-Length`` over the limit is refused before a byte is read; a body sent
without one (chunked) or with a lying one is counted as it arrives and refused at the limit.
Edge functions and the login form take small bodies (a provider name, a task type), the REST
API at most ``params.MAX_BODY_BYTES``.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from cogo_pipelines.server.asgi import HttpMiddleware
from cogo_pipelines.server.params import MAX_BODY_BYTES
from cogo_pipelines.server.responses import ApiError, error

SMALL_BODY_BYTES = 65_536
SMALL_BODY_PREFIXES = ("/functions/", "/login", "/logout")


def body_limit(path: str) -> int:
    return SMALL_BODY_BYTES if path.startswith(SMALL_BODY_PREFIXES) else MAX_BODY_BYTES


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body larger than {limit} bytes")


class BodyLimitMiddleware(HttpMiddleware):
    async def handle(self, scope, receive, send) -> None:
        limit = body_limit(scope.get("path", ""))
        declared = Headers(scope=scope).get("content-length", "").strip()
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await error(413, f"body larger than {limit} bytes")(scope, receive, send)
            return
        received = 0

        async def bounded_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)  # an ApiError: the exception handlers answer 413 JSON
            return message

        await self.app(scope, bounded_receive, send)
