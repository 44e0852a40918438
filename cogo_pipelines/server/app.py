"""The sidecar application: /healthz, /metrics, /api, /dashboard/local, /functions/v1, /login, /mcp.

/api, /dashboard and /mcp are behind ``COGO_API_TOKEN`` (``auth``); every body is bounded (``limits``).

``create_app`` only assembles; the store opens lazily on the first request that needs it, so
the server starts (and /metrics answers) even while the database is still coming up.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from cogo_pipelines.mcp import http as mcp_http
from cogo_pipelines.pipeline.summaries import SummaryEncoder
from cogo_pipelines.server import api, auth, dashboard, functions, openapi, redact, search_page
from cogo_pipelines.server.headers import SecurityHeadersMiddleware
from cogo_pipelines.server.limits import BodyLimitMiddleware
from cogo_pipelines.server.metrics import HttpMetricsMiddleware, SidecarMetrics
from cogo_pipelines.server.responses import EXCEPTION_HANDLERS, JsonErrorMiddleware, LastResortMiddleware
from cogo_pipelines.server.store import SidecarStore
from cogo_pipelines.settings import Settings, get_settings


async def metrics(request: Request) -> Response:
    body = await run_in_threadpool(request.app.state.metrics.render)
    return Response(redact.scrub_bytes(body), media_type=CONTENT_TYPE_LATEST)


def root(request: Request) -> Response:
    return RedirectResponse("/dashboard/local")


class SidecarApp(Starlette):
    """Starlette with ``LastResortMiddleware`` outside its whole stack (its own
    ``ServerErrorMiddleware`` included): no failure reaches the server's plain-text 500."""

    def build_middleware_stack(self):
        return LastResortMiddleware(super().build_middleware_stack())


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    redact.register(settings.secret_values())
    store = SidecarStore(settings)
    sidecar_metrics = SidecarMetrics(store)
    summary = SummaryEncoder()  # its own autocommit connection, not one of the pool's for minutes
    mcp_endpoint = mcp_http.endpoint(store.connection, summary)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        summary.start()  # loads in the background: searches rank without the summary list meanwhile
        try:
            async with mcp_endpoint.running():
                yield
        finally:
            summary.stop()
            await run_in_threadpool(store.close)

    routes = [
        Route("/", root, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *api.routes,  # /healthz and /api
        openapi.ENDPOINT.route(),
        *dashboard.routes,
        *search_page.routes,
        *functions.routes,
        *auth.routes,
        Route(mcp_http.PATH, mcp_endpoint.app, methods=["POST"]),
    ]
    app = SidecarApp(
        routes=routes,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(SecurityHeadersMiddleware), Middleware(HttpMetricsMiddleware, metrics=sidecar_metrics.http),
                    Middleware(JsonErrorMiddleware),
                    Middleware(auth.AuthMiddleware, settings=settings), Middleware(BodyLimitMiddleware)],
        lifespan=lifespan,
    )
    # Starlette answers /api/jobs/ with a redirect to an absolute URL built from the Host header
    # (``Host: evil.example`` got ``Location: http://evil.example/api/jobs``, on the open /healthz/
    # too); without it such a path is the JSON 404 of any unknown path.
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = sidecar_metrics
    app.state.summary = summary
    return app
