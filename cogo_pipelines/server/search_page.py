"""GET /dashboard/search: the search box of the dashboard, server-rendered, no scripts or
external assets. It asks ``pipeline.knowledge_tools.search``, the function the MCP tool
answers from, so a person sees what an agent gets: repo (when several), path:lines, symbol,
kind, score and the snippet lines that match. Input it cannot take (a ``k`` out of range, an
unknown repo or kind, an over-long query) is said on the page, with status 400."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cogo_pipelines.pipeline import knowledge_tools
from cogo_pipelines.server import redact

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
DEFAULT_K = 10
KINDS = knowledge_tools.CHUNK_TYPES + knowledge_tools.SYMBOL_KINDS


def _ask(request: Request) -> tuple[dict, int]:
    args = request.query_params
    query = args.get("q") or ""
    repo = args.get("repo") or None
    kind = args.get("kind") or None
    view = {"q": query, "repo": repo or "", "kind": kind or "", "k": args.get("k") or str(DEFAULT_K),
            "kinds": KINDS, "answer": None, "error": None, "repos": []}
    status = 200
    with request.app.state.store.connection() as conn:
        view["repos"] = [r["repo"] for r in knowledge_tools.repos(conn)]
        if query.strip():
            try:
                k = int(view["k"]) if view["k"].strip().isdigit() else view["k"]
                view["answer"] = knowledge_tools.search(conn, query, knowledge_tools.check_k(k), repo, kind,
                                                        summary=request.app.state.summary)
            except knowledge_tools.ToolInputError as exc:
                view["error"], status = str(exc), 400
    view["several"] = not repo and len(view["repos"]) > 1
    return view, status


async def page(request: Request) -> Response:
    view, status = await run_in_threadpool(_ask, request)
    html = _env.get_template("search.html").render(**view)
    return HTMLResponse(redact.scrub(html), status_code=status, headers={"Cache-Control": "no-store"})


routes = [Route("/dashboard/search", page, methods=["GET"])]
