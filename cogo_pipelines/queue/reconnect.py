"""The runner's database connection: opening it, and riding out its loss.

A database restart must not kill a runner. This is the part of the runner that knows how: every
queue statement goes through ``_db``, which on a lost connection reopens it with capped, jittered
backoff (``_reconnect``) and runs the statement again, and after a reconnect ``_revalidate``
checks the runner's leases against the table: a held job whose lease expired meanwhile is stopped
(``JobContext.lease_lost``), and a claim whose commit reply was lost with the connection is handed
back. Kept apart from the claim loop because it is the one piece that reasons about which
statements are safe to repeat.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import TYPE_CHECKING

import psycopg

from cogo_pipelines.queue import jobs
from cogo_pipelines.store import db
from cogo_pipelines.store.db import StoreError

if TYPE_CHECKING:
    from cogo_pipelines.queue.runner import RunnerConfig

# The runner's lines keep the one logger name they always had, whichever part of the runner speaks:
# log filters and the JSON lines' ``logger`` field do not depend on how the code is laid out.
log = logging.getLogger("cogo_pipelines.queue.runner")

RECONNECT_FIRST_S = 0.1  # backoff after a lost connection: doubles per failed try, up to the cap
RECONNECT_CAP_S = 5.0
LOST = (psycopg.OperationalError, psycopg.InterfaceError)  # the connection (or its server) went away


def open_queue_connection(url: str | None = None, *, autocommit: bool = False) -> psycopg.Connection:
    """A migrated connection with the queue schema present, or one clear StoreError."""
    try:
        conn = db.connect(url, autocommit=autocommit)
    except StoreError:
        raise
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"the database has no cogo schema and migrations could not be applied ({detail}); "
            f"run cogo once as a role allowed to create tables, or point DATABASE_URL at the cogo database"
        ) from exc
    try:
        jobs.require_schema(conn)
    except StoreError:
        conn.close()
        raise
    return conn


def first_line(exc: BaseException) -> str:
    """An error's first line (or its type): enough for a log line, never a multi-line dump."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Reconnecting:
    """The runner's statements, retried across a lost connection (a part of ``runner.Runner``).

    Uses the runner's ``conn``, ``config``, ``owner``, ``stopping``, ``reconnects`` and its held
    leases (``_held``, ``_held_lock``, ``_lease_lost``, ``_pending``)."""

    conn: psycopg.Connection
    config: RunnerConfig
    owner: str
    stopping: threading.Event
    reconnects: int
    _held: set[int]
    _held_lock: threading.Lock
    _lease_lost: dict[int, threading.Event]
    _pending: list

    def _db(self, what: str, fn):
        """``fn()`` (which uses ``self.conn``); on a lost connection reconnect and run it again.

        Every queue statement is one guarded transaction, so running it again is safe: a claim
        whose commit was lost leaves rows ``_revalidate`` hands back, and an outcome recorded
        twice is refused by the guard (``_settle`` then finds our own ``job_events`` row)."""
        while True:
            try:
                return fn()
            except LOST as exc:
                if self.conn.closed or self.conn.broken or isinstance(exc, psycopg.InterfaceError):
                    self._reconnect(what, exc)
                else:  # a live connection with a transient error (e.g. a cancelled statement)
                    log.warning("%s failed (%s); retrying", what, first_line(exc), extra={"owner": self.owner})
                    self.stopping.wait(RECONNECT_FIRST_S)
                if self.stopping.is_set() and what in ("claim", "reap"):
                    return [] if what == "claim" else None

    def _reconnect(self, what: str, exc: BaseException) -> None:
        """Reopen ``self.conn`` with capped, jittered backoff, then re-validate the leases. Only a
        stop request while the database is away gives up (held jobs return when their lease
        expires)."""
        started = time.monotonic()
        log.warning("lost the database connection during %s (%s); reconnecting", what, first_line(exc),
                    extra={"owner": self.owner})
        try:
            self.conn.close()
        except psycopg.Error:
            pass
        delay, tries = RECONNECT_FIRST_S, 0
        while True:
            if self.stopping.is_set():
                log.warning("stop requested while the database is away; held jobs return when their lease expires",
                            extra={"owner": self.owner})
                raise exc
            tries += 1
            try:
                self.conn = open_queue_connection(self.config.database_url, autocommit=True)
                self._revalidate()
                break
            except (StoreError, *LOST) as again:
                if tries == 1 or tries % 10 == 0:
                    log.warning("database still unreachable after %.1f s (%d tries): %s",
                                time.monotonic() - started, tries, first_line(again), extra={"owner": self.owner})
                self.stopping.wait(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, RECONNECT_CAP_S)
        self.reconnects += 1
        log.warning("reconnected to the database after %.1f s (%d tries)", time.monotonic() - started, tries,
                    extra={"owner": self.owner})

    def _revalidate(self) -> None:
        """After a reconnect: which leases survived? A held job whose lease is gone is stopped;
        a job leased to us that we do not know (its claim's commit reply was lost) goes back."""
        rows = self.conn.execute("SELECT id FROM jobs WHERE status = 'running' AND lease_owner = %s",
                                 (self.owner,)).fetchall()
        ours = {r["id"] for r in rows}
        with self._held_lock:
            held = set(self._held)
            for job_id in held - ours:
                self._lease_lost.get(job_id, threading.Event()).set()
        pending = {j.id for j, *_ in self._pending}
        for job_id in sorted(held - ours - pending):
            log.warning("lease lost while the database was away; stopping the job",
                        extra={"job_id": job_id, "owner": self.owner})
        for job_id in sorted(ours - held):
            try:
                jobs.release(self.conn, job_id, self.owner, "claimed as the database connection dropped; handed back")
                log.warning("handed back a job claimed as the connection dropped",
                            extra={"job_id": job_id, "owner": self.owner})
            except jobs.LeaseLost:
                pass
        if held & ours:
            jobs.heartbeat(self.conn, held & ours, self.owner, self.config.lease_seconds)
