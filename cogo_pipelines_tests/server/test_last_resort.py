"""The sidecar never answers uvicorn's or Starlette's plain-text "Internal Server Error": a
failure anywhere (a handler, a middleware outside the JSON error layer, a raw ASGI route that
returns without answering, an exception that is not an ``Exception``) is the API's JSON 500,
with the headers every answer carries; the connection stays usable where the answer was whole.

A real server over HTTP: the production app, plus test routes and one outer test middleware
that fail in each of those ways."""

from __future__ import annotations

import json

import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from cogo_pipelines import settings as settings_module
from cogo_pipelines.server import create_app
from cogo_pipelines_tests.server.conftest import auth_headers, start_server, stop_server


class Abort(BaseException):
    """Not an ``Exception``: what a ``except Exception`` layer lets through (cancellation, exit)."""


class FaultyOuterMiddleware:
    """Outermost of the app's middlewares, outside its JSON error layer: a fault here reached
    Starlette's plain-text 500 (or, returning without an answer, uvicorn's)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if path == "/test/outer-raises":
            raise RuntimeError("outer middleware bug")
        if path == "/test/outer-silent":
            return
        await self.app(scope, receive, send)


class SilentApp:
    """A raw ASGI route (as the /mcp mount is; an instance, so Starlette does not wrap it as a
    request handler) that returns without starting a response."""

    async def __call__(self, scope, receive, send) -> None:
        return None


async def aborting_route(request):
    raise Abort()


async def raising_route(request):
    raise ValueError("handler bug")


async def fine_route(request):
    return PlainTextResponse("fine")


@pytest.fixture
def faulty_sidecar(secret_env, database_url):
    app = create_app(settings_module.get_settings())
    app.router.routes.extend([
        Route("/test/silent", SilentApp()), Route("/test/aborts", aborting_route),
        Route("/test/raises", raising_route), Route("/test/fine", fine_route)])
    app.add_middleware(FaultyOuterMiddleware)
    server, thread, url = start_server(app, log_level="critical")
    try:
        yield url
    finally:
        stop_server(server, thread)


@pytest.mark.parametrize("path", ["/test/raises", "/test/silent", "/test/aborts", "/test/outer-raises",
                                  "/test/outer-silent"])
def test_every_failure_is_a_json_500(faulty_sidecar, path):
    import httpx

    with httpx.Client(base_url=faulty_sidecar, headers=auth_headers(), timeout=30) as client:
        reply = client.get(path)
        assert reply.status_code == 500, (path, reply.status_code, reply.text)
        assert reply.headers["content-type"] == "application/json", (path, reply.headers, reply.text)
        body = json.loads(reply.text)
        assert body["status"] == 500 and body["error"].startswith("internal error ("), body
        assert body["error"].endswith("see the sidecar log") and "bug" not in body["error"]
        assert reply.headers["x-content-type-options"] == "nosniff" and reply.headers["x-frame-options"] == "DENY"
        again = client.get("/test/fine")  # the same client: the connection, or a new one, still serves
        assert again.status_code == 200 and again.text == "fine"
