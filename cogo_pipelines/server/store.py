"""The sidecar's connections: one small pool, opened lazily, migrated once.

A request borrows a connection for its duration (autocommit, dict rows). When the database
is unreachable the sidecar keeps serving — /healthz and /metrics say so, the API answers 503 —
instead of failing to start, so a restarted database is picked up without a restart.

A database restart leaves every pooled connection dead, and the pool's own reconnect backs off
for up to minutes (each request meanwhile waiting 5 s for a 503). So a checkout validates its
connection (``check``), and a request that meets a dead server drops the whole pool: the next
request probes the database at once (a refused connection fails in microseconds) and builds a
fresh pool as soon as it answers.

The liveness probe (``ping``) uses none of this: it runs on the event loop, on a fresh
connection, within ``PING_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from cogo_pipelines.settings import Settings
from cogo_pipelines.store import db

log = logging.getLogger(__name__)
PING_TIMEOUT_S = 1.0


class StoreUnavailable(RuntimeError):
    """The database cannot be reached right now (mapped to 503)."""


class SidecarStore:
    def __init__(self, settings: Settings, *, max_size: int = 8) -> None:
        self._settings = settings
        self._max_size = max_size
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()
        self._url: str | None = settings.database_url  # the embedded store's once it is started
        self._starting: asyncio.Future | None = None

    def _open(self) -> ConnectionPool:
        with self._lock:
            if self._pool is not None:
                return self._pool
            try:
                url = self._url = db.database_url(self._settings)
                db.connect(url).close()  # applies pending migrations once
            except (db.StoreError, psycopg.Error) as exc:
                # one line: libpq's own ends in a newline; a URL it cannot parse is quoted whole,
                # password included, which the body scrubber removes (``Settings.secret_values``)
                raise StoreUnavailable((str(exc).strip().splitlines() or [type(exc).__name__])[0]) from None
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=self._max_size,
                kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 5},
                timeout=5,
                open=True,
                name="cogo-sidecar",
                check=ConnectionPool.check_connection,
            )
            return self._pool

    def _discard(self, pool: ConnectionPool, why: str) -> None:
        with self._lock:
            if self._pool is not pool:
                return
            self._pool = None
        log.warning("database unreachable (%s); the next request reconnects", why)
        pool.close(timeout=1.0)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        pool = self._open()
        try:
            with pool.connection() as conn:
                yield conn
        except PoolTimeout:
            self._discard(pool, "no connection within 5 s")
            raise StoreUnavailable("no database connection available within 5 s") from None
        except psycopg.OperationalError as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self._discard(pool, detail)
            raise StoreUnavailable(f"database error: {detail}") from None

    @contextmanager
    def spare_connection(self, wait_s: float = 0.01) -> Iterator[psycopg.Connection | None]:
        """A second connection for work a request can do in parallel (a hybrid search's vector
        read), or None when none is free within ``wait_s``: the request then does it on its own
        connection, so a busy pool never makes a request wait for a second one."""
        pool = self._pool
        if pool is None:
            yield None
            return
        try:
            conn = pool.getconn(timeout=wait_s)
        except (PoolTimeout, psycopg.Error):
            yield None
            return
        try:
            yield conn
        finally:
            pool.putconn(conn)

    async def ping(self, timeout_s: float = PING_TIMEOUT_S) -> str | None:
        """None when the database answers within ``timeout_s``, else why not (one line). Called on
        the event loop and never in the thread pool, so slow handlers holding every worker thread
        and pooled connection cannot hold it up, and a silent database costs ``timeout_s``, not
        libpq's connect timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                await db.ping(self._url or await self._started_url())
        except TimeoutError:
            starting = " (the embedded store is still starting)" if self._url is None else ""
            return f"no answer within {timeout_s:g} s{starting}"
        except (db.StoreError, StoreUnavailable) as exc:
            return str(exc)
        return None

    async def _started_url(self) -> str:
        """The embedded store has a URL once it runs. The first probe starts it as the first
        request always did (``_open``: start, migrate, pool), in a thread of the loop's own
        executor, not the request thread pool; a probe that times out leaves it going, and the
        next one waits for the same start."""
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(asyncio.to_thread(self._open))
            self._starting.add_done_callback(lambda done: done.cancelled() or done.exception())
        await asyncio.shield(self._starting)
        assert self._url is not None
        return self._url

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
