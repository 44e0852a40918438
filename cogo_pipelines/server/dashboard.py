"""GET /dashboard/local: the page a team keeps open. Server-rendered HTML + inline SVG, no
scripts or external assets, refreshed by the browser every ``REFRESH_SECONDS``."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cogo_pipelines.server import charts, redact
from cogo_pipelines.server.api import link_base, summary_data
from cogo_pipelines.store import queries

REFRESH_SECONDS = 15
RECENT_JOBS = 15
TREND_RUNS = 30

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["duration"] = charts.duration_text


def page(request: Request) -> Response:
    base = link_base(request)
    with request.app.state.store.connection() as conn:
        summary = summary_data(conn, base)
        runs = list(reversed(queries.gate_history(conn, limit=TREND_RUNS)))
        recent, _ = queries.list_jobs(conn, limit=RECENT_JOBS)
    html = _env.get_template("dashboard.html").render(
        summary=summary,
        trend=charts.q1_trend(runs),
        queue=charts.queue_depth(summary["queue"]),
        recent=recent,
        colours=charts.STATUS_COLOURS,
        refresh=REFRESH_SECONDS,
        base=base,
    )
    return HTMLResponse(redact.scrub(html), headers={"Cache-Control": "no-store"})


routes = [Route("/dashboard/local", page, methods=["GET"])]
