"""The shape the sidecar's pure ASGI middlewares share (body limit, JSON errors, headers):
each works on HTTP requests only and lets every other scope (the lifespan) through untouched.
Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``, which buffers and re-wraps streams."""

from __future__ import annotations


class HttpMiddleware:
    """Calls ``handle`` for an HTTP request; any other scope goes straight to the app."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send) -> None:
        raise NotImplementedError
