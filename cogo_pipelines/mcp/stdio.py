"""``cogo mcp``: the MCP server over stdin/stdout, for agents that start it as a subprocess
(Claude Code, Cursor, Codex; docs/MCP.md).

The process stays up for the agent's session, so it keeps what a ``cogo search`` process pays
for on every call: the store connection (and the embedded server it may start) and the
embedding model are opened once, in the background as soon as the client connects, and a
tool call costs a query. While it serves, the SDK points fd 1 at stderr, so nothing a library
or a child process prints can corrupt the protocol on stdout.

A client may write its requests and close stdin at once (``printf … | cogo mcp``, a script):
the SDK ends the session at the end of stdin and cancels the calls still running, so their
answers were lost. Here the end of stdin reaches the session only once every request read
has been answered (or ``DRAIN_SECONDS`` have passed).

A line that is not a JSON-RPC message is answered with the JSON-RPC error it calls for (-32700
parse error, -32600 invalid request; id null): the SDK passed it to the session, which dropped it
without a word, so a client waited for ever for the answer to what it had sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import anyio
import psycopg
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError, JSONRPCRequest, JSONRPCResponse
from pydantic import ValidationError

from cogo_pipelines.mcp.tools import build_server
from cogo_pipelines.pipeline import knowledge_tools
from cogo_pipelines.pipeline.summaries import SummaryEncoder
from cogo_pipelines.store import db

log = logging.getLogger(__name__)
DRAIN_SECONDS = 120.0  # how long answers still due may take after stdin ended


class WarmConnection:
    """One autocommit connection for the life of the process, reopened when the database
    restarted under it. Tool calls take turns on it (an agent asks one question at a time)."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = db.connect(self._url, autocommit=True)
            try:
                yield self._conn
            except psycopg.OperationalError:
                self.close_locked()
                raise

    def close_locked(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


def _warm_up(connections: WarmConnection) -> None:
    """Open the store and load the query model before the first question needs them."""
    try:
        with connections() as conn:
            vectors = knowledge_tools.needs_query_model(conn)
        if vectors:
            from cogo_pipelines.indexing.embedding import encode_query

            encode_query("warm up")
    except Exception as exc:  # the first tool call reports it properly  # noqa: BLE001
        log.warning("warm-up failed: %s", exc)


def serve_stdio() -> None:
    connections = WarmConnection()
    summary = SummaryEncoder()

    @asynccontextmanager
    async def lifespan(_server) -> AsyncIterator[None]:
        threading.Thread(target=_warm_up, args=(connections,), name="cogo-mcp-warm-up", daemon=True).start()
        summary.start()  # the summary model loads beside the first questions, which rank without it
        try:
            yield
        finally:
            summary.stop()
            connections.close()

    server = build_server(connections, lifespan=lifespan, summary=summary)
    anyio.run(_serve, server)


async def _serve(server) -> None:
    """The SDK's stdio transport and session, with a stream pair between them that holds the
    end of stdin back until every request read has been answered."""
    # the low-level server: MCPServer.run("stdio") joins the same two objects (mcp 2.3, pinned;
    # tests/mcp holds the behaviour)
    session_server = server._lowlevel_server
    async with stdio_server() as (transport_in, transport_out):
        to_session, session_in = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        session_out, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        due: set = set()  # ids of the requests read and not yet answered

        async def inbound() -> None:
            async with to_session:
                async for message in transport_in:
                    if isinstance(message, Exception):  # the transport could not read the line as a message
                        await transport_out.send(SessionMessage(rejection(message)))
                        continue
                    if isinstance(message.message, JSONRPCRequest):
                        due.add(message.message.id)
                    await to_session.send(message)
                deadline = time.monotonic() + DRAIN_SECONDS
                while due and time.monotonic() < deadline:
                    await anyio.sleep(0.02)

        async def outbound() -> None:
            async with transport_out:
                async for message in from_session:
                    await transport_out.send(message)
                    # only once the writer holds it: the drain ends when nothing is due, and the
                    # session's end then cancels this task, so an answer counted as gone before
                    # its hand-over was lost (the last of a piped batch, under load)
                    if isinstance(message.message, JSONRPCResponse | JSONRPCError):
                        due.discard(message.message.id)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(inbound)
            tasks.start_soon(outbound)
            await session_server.run(session_in, session_out, session_server.create_initialization_options())
            tasks.cancel_scope.cancel()


def rejection(problem: Exception) -> JSONRPCError:
    """The JSON-RPC 2.0 answer to a line the transport could not read as a message: -32700 when
    it is not JSON, -32600 when it is JSON but no request, notification or response. The id is
    null, as the specification asks when the request's id cannot be known."""
    not_json = not isinstance(problem, ValidationError) or any(e["type"] == "json_invalid" for e in problem.errors())
    code, what = (PARSE_ERROR, "Parse error: the line is not JSON") if not_json else (
        INVALID_REQUEST, "Invalid Request: the line is JSON but not a JSON-RPC 2.0 message")
    log.warning("stdin: %s", what)
    return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=what))
