"""``cogo mcp``: the MCP server over stdin/stdout, for agents that start it as a subprocess
(Claude Code, Cursor, Codex; docs/MCP.md).

The process stays up for the agent's session, so it keeps what a ``cogo search`` process pays
for on every call: the store connection (and the embedded server it may start) and the
embedding model are opened once, in the background as soon as the client connects, and a
tool call costs a query. While it serves, the SDK points fd 1 at stderr, so nothing a library
or a child process prints can corrupt the protocol on stdout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg

from cogo_pipelines.mcp.tools import build_server
from cogo_pipelines.pipeline import knowledge_tools
from cogo_pipelines.store import db

log = logging.getLogger(__name__)


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

    @asynccontextmanager
    async def lifespan(_server) -> AsyncIterator[None]:
        threading.Thread(target=_warm_up, args=(connections,), name="cogo-mcp-warm-up", daemon=True).start()
        try:
            yield
        finally:
            connections.close()

    build_server(connections, lifespan=lifespan).run("stdio")
