"""Keeping a runner's leases: the heartbeat thread.

A claimed job is the runner's only while its lease lasts. This thread, on its own connection,
extends every held lease each lease/3 seconds, marks a job whose lease was lost so the job stops
(its outcome would be refused), rides out a database that is away by retrying, and hands a
batch's unstarted jobs back to the queue once the job ahead of them runs past ``SLOW_JOB_S``, so
other runners take them instead of waiting behind a long job.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import psycopg

from cogo_pipelines.queue import jobs
from cogo_pipelines.queue.reconnect import first_line
from cogo_pipelines.store import db
from cogo_pipelines.store.db import StoreError

if TYPE_CHECKING:
    from cogo_pipelines.queue.runner import RunnerConfig

# The runner's lines keep the one logger name they always had, whichever part of the runner speaks:
# log filters and the JSON lines' ``logger`` field do not depend on how the code is laid out.
log = logging.getLogger("cogo_pipelines.queue.runner")

SLOW_JOB_S = 1.0  # a job longer than this hands its batch's unstarted jobs back to the queue
TICK_S = 0.25  # the lease thread's cadence for the hand-back check (heartbeats: lease/3)


class LeaseKeeping:
    """The heartbeat and the slow-job hand-back (a part of ``runner.Runner``).

    Shares the runner's held leases (``_held``, ``_lease_lost``, ``_unstarted``, ``_job_started``,
    all under ``_held_lock``) with the main loop, and records hand-backs with ``_record``."""

    config: RunnerConfig
    owner: str
    handed_back: int
    _done: threading.Event
    _held: set[int]
    _held_lock: threading.Lock
    _lease_lost: dict[int, threading.Event]
    _unstarted: list[jobs.Job]
    _job_started: float | None

    def _take_unstarted_if_slow(self) -> list[jobs.Job]:
        """The batch's unstarted jobs once its current job has run past SLOW_JOB_S (fairness:
        other runners take them instead of waiting behind a long job)."""
        with self._held_lock:
            if not self._unstarted or self._job_started is None:
                return []
            if time.monotonic() - self._job_started <= SLOW_JOB_S:
                return []
            rest, self._unstarted = self._unstarted, []
            return rest

    def _hand_back(self, conn: psycopg.Connection, rest: list[jobs.Job]) -> None:
        for i, job in enumerate(rest):
            try:
                jobs.release(conn, job.id, self.owner, "handed back: the job before it in its batch runs long")
                self._record(job, "released", None, "handed back behind a long job")
                self.handed_back += 1
            except jobs.LeaseLost as exc:
                self._record(job, "lease_lost", None, str(exc))
            except (StoreError, psycopg.Error):  # keep the rest: the main loop runs them in turn
                with self._held_lock:
                    self._unstarted = rest[i:] + self._unstarted
                raise

    def _heartbeat_loop(self, url: str | None) -> None:
        """Extends the held leases every lease/3 s, and hands back a batch's unstarted jobs when
        the job ahead of them runs long."""
        every = max(0.2, self.config.lease_seconds / 3)
        conn: psycopg.Connection | None = None
        failing_since: float | None = None
        next_beat = time.monotonic() + every
        while not self._done.wait(min(TICK_S, every)):
            rest = self._take_unstarted_if_slow()
            if rest:
                try:
                    conn = conn or db.connect(url, autocommit=True)
                except (StoreError, psycopg.Error):
                    with self._held_lock:
                        self._unstarted = rest + self._unstarted
                    continue
                try:
                    self._hand_back(conn, rest)
                except (StoreError, psycopg.Error):
                    conn.close()
                    conn = None
            if time.monotonic() < next_beat:
                continue
            next_beat = time.monotonic() + (every if failing_since is None else min(every, 1.0))
            with self._held_lock:
                held = set(self._held)
            if not held:
                continue
            try:
                conn = conn or db.connect(url, autocommit=True)
                still = jobs.heartbeat(conn, held, self.owner, self.config.lease_seconds)
            except (StoreError, psycopg.Error) as exc:  # the database is away: keep trying
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning("heartbeat failed (%s); retrying", first_line(exc), extra={"owner": self.owner})
                if conn is not None:
                    conn.close()
                conn = None
                continue
            if failing_since is not None:
                log.warning("heartbeat resumed after %.1f s", time.monotonic() - failing_since,
                            extra={"owner": self.owner})
                failing_since = None
            for lost in held - still:
                with self._held_lock:
                    if lost not in self._held:
                        continue  # finished meanwhile
                    event = self._lease_lost.get(lost)
                    if event is not None:
                        event.set()
                log.warning("lease lost; stopping the job (its outcome would be refused)",
                            extra={"job_id": lost, "owner": self.owner})
        if conn is not None:
            conn.close()
