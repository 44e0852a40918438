"""The MCP server: the knowledge tools and resources, whatever the transport.

Built with the official SDK (``mcp.server.mcpserver.MCPServer``): each tool's JSON schema comes
from its typed parameters (bounds included, so a client sees ``k ≤ 50`` before it asks). A tool
borrows a connection from ``connections`` (the sidecar's pool, or the warm connection of
``cogo mcp``) and calls ``pipeline.knowledge_tools`` / ``pipeline.graph_tools``: the same answers
as the CLI and the dashboard. Results are one compact JSON text (no indentation, no duplicate
structured copy): an agent pays for every character it receives. Bad input and an unreachable
store are tool errors (``isError``) with one line; the server never goes down over a question.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Annotated, Any

import psycopg
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from cogo_pipelines.pipeline import graph_tools, knowledge_tools
from cogo_pipelines.pipeline.knowledge_tools import ToolInputError
from cogo_pipelines.store.db import StoreError
from cogo_pipelines.store.knowledge import SummaryModel

log = logging.getLogger(__name__)

Connections = Callable[[], AbstractContextManager[psycopg.Connection]]
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
INSTRUCTIONS = (
    "Code knowledge of the indexed TypeScript repositories: hybrid search ranked by entry proximity and "
    "runtime traces, symbols, a call graph checked against the TypeScript compiler, the import graph, and "
    "the Q1 quality gate. Start with search(query); then symbol(name) for a definition, callers/callees/"
    "call_path for the call graph, impact([paths]) before a change, module_graph(path) for imports. "
    "Paths are relative to the repo root; lines are 1-based and inclusive."
)

Repo = Annotated[str | None, Field(description="Only this indexed repo (see the cogo://repos resource); "
                                               "default: every repo", max_length=300)]
Symbol = Annotated[str, Field(description="A symbol name (computeLeaseExpiry, JobQueue.claim), "
                                          "path:Name, or an id from an earlier answer", max_length=300)]
Limit = Annotated[int, Field(ge=1, le=graph_tools.MAX_LIMIT, strict=True, description="Most entries listed")]


class _Server(MCPServer):
    """The SDK's server, with a tool's argument errors as one line (``k: at most 50``), not
    pydantic's report of several lines ending in a documentation URL."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(f"{name}: " + "; ".join(_problem(e) for e in exc.__cause__.errors()[:5])) from None
            raise


def _problem(error: dict) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())) or "arguments"
    return f"{where}: {error.get('msg', 'invalid').replace(chr(10), ' ')}"


def _text(data: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(data, separators=(",", ":"),
                                                                            ensure_ascii=False, default=str))])


def build_server(connections: Connections, *, name: str = "cogo",
                 lifespan: Callable[[MCPServer], AbstractAsyncContextManager[Any]] | None = None,
                 summary: SummaryModel | None = None) -> MCPServer:
    """The MCP server answering from the store that ``connections`` opens; ``summary``: the
    process's summary model (search adds the file summary list once it is loaded)."""
    # the SDK configures the root logger when a server is made (basicConfig with a rich handler);
    # the process's logging stays what its own entry point set up
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    server = _Server(name, instructions=INSTRUCTIONS, version=_version(), log_level="WARNING", lifespan=lifespan)
    root.handlers[:], root.level = handlers, level

    def answer(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> CallToolResult:
        try:
            with connections() as conn:
                return _text(fn(conn, *args, **kwargs))
        except ToolInputError as exc:
            raise ToolError(str(exc)) from None
        except (StoreError, psycopg.Error, RuntimeError) as exc:
            log.warning("knowledge tool %s: store error: %s", fn.__name__, exc)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ToolError(f"the store is unavailable: {first}") from None

    @server.tool(annotations=READ_ONLY)
    def search(
        query: Annotated[str, Field(description="Words, identifiers or a path: what the code you look for does "
                                                "or is called", max_length=knowledge_tools.MAX_QUERY_CHARS)],
        k: Annotated[int, Field(ge=1, le=knowledge_tools.MAX_K, strict=True, description="Number of results")] = 8,
        repo: Repo = None,
        kind: Annotated[str | None, Field(description="Keep one chunk type (code, markdown, sql) or symbol kind "
                                                      "(function, class, method, interface, type, enum, const)",
                                          max_length=40)] = None,
    ) -> CallToolResult:
        """Hybrid code search (keyword BM25F + vectors, boosted by graph rank): the same ranking as
        `cogo search`. Each result: path, lines, symbol, kind, score and the lines that matter."""
        return answer(knowledge_tools.search, query, k, repo, kind, summary=summary)

    @server.tool(annotations=READ_ONLY)
    def symbol(name_or_id: Symbol, repo: Repo = None) -> CallToolResult:
        """A symbol's definition: path, lines, kind, signature, doc comment, source (trimmed) and,
        for a class, its members. A file path gives the file's symbol outline."""
        return answer(knowledge_tools.symbol, name_or_id, repo)

    @server.tool(annotations=READ_ONLY)
    def callers(symbol: Symbol, repo: Repo = None, limit: Limit = graph_tools.DEFAULT_LIMIT) -> CallToolResult:
        """Who calls or renders a symbol. confidence: certain (resolved), observed (runtime trace),
        maybe (called through an interface or base class it implements: `via` shows the call)."""
        return answer(graph_tools.callers, symbol, repo, limit)

    @server.tool(annotations=READ_ONLY)
    def callees(symbol: Symbol, repo: Repo = None, limit: Limit = graph_tools.DEFAULT_LIMIT) -> CallToolResult:
        """What a symbol calls, with certain/observed/maybe marked; calls into built-ins and
        packages are listed by name under outside_repo."""
        return answer(graph_tools.callees, symbol, repo, limit)

    @server.tool(annotations=READ_ONLY)
    def call_path(
        source: Annotated[str, Field(description="The symbol where the chain starts", max_length=300)],
        target: Annotated[str, Field(description="The symbol it should arrive at", max_length=300)],
        repo: Repo = None,
        max_depth: Annotated[int, Field(ge=1, le=graph_tools.MAX_DEPTH, strict=True,
                                        description="Most calls in the chain")] = 6,
    ) -> CallToolResult:
        """The shortest chain of calls from one symbol to another (path: null when there is none
        within max_depth)."""
        return answer(graph_tools.call_path, source, target, repo, max_depth)

    @server.tool(annotations=READ_ONLY)
    def impact(
        paths_or_symbols: Annotated[list[str], Field(min_length=1, max_length=graph_tools.MAX_TARGETS,
                                                     description="Changed files (repo-relative) or symbols")],
        repo: Repo = None,
        max_depth: Annotated[int, Field(ge=1, le=graph_tools.MAX_DEPTH, strict=True, description="Steps walked back")] = 4,
        limit: Limit = graph_tools.DEFAULT_LIMIT,
    ) -> CallToolResult:
        """What a change can break: files whose code calls, references, imports, extends or
        implements the given files or symbols (transitively, nearest first), and the entries and
        test files that reach them."""
        return answer(graph_tools.impact, paths_or_symbols, repo, max_depth, limit)

    @server.tool(annotations=READ_ONLY)
    def module_graph(
        path: Annotated[str, Field(description="A file, relative to the repo root (src/core/lease.ts)",
                                   max_length=300)],
        repo: Repo = None,
        limit: Limit = graph_tools.DEFAULT_LIMIT,
    ) -> CallToolResult:
        """The files a file imports (import, type, reexport, dynamic, require, reference, maybe)
        and the files that import it, at most `limit` of each (`imports_total`/`importers_total`
        when there are more)."""
        return answer(graph_tools.module_graph, path, repo, limit)

    @server.tool(annotations=READ_ONLY)
    def gate_status() -> CallToolResult:
        """The latest Q1 quality gate run (score, threshold, passed) and, when it failed, its
        gate_fix: the failing jobs, their first error line and the code locations it points at."""
        return answer(knowledge_tools.gate_status)

    def read(fn: Callable[..., Any], *args: Any) -> str:
        try:
            with connections() as conn:
                return json.dumps(fn(conn, *args), separators=(",", ":"), default=str)
        except ToolInputError as exc:
            return json.dumps({"error": str(exc)})

    @server.resource("cogo://repos", name="repos", mime_type="application/json",
                     description="The indexed repos: files, symbols, chunks, when last indexed")
    def repos_resource() -> str:
        return read(knowledge_tools.repos)

    @server.resource("cogo://stats", name="stats", mime_type="application/json",
                     description="Index sizes over every repo: files, symbols, edges, chunks, embedded chunks")
    def stats_resource() -> str:
        return read(knowledge_tools.index_stats)

    @server.resource("cogo://stats/{repo}", name="repo-stats", mime_type="application/json",
                     description="Index sizes of one repo")
    def repo_stats_resource(repo: str) -> str:
        return read(knowledge_tools.index_stats, repo)

    return server


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cogo-pipelines")
    except PackageNotFoundError:
        return "0"
