"""The runner loop: claim -> run the handler -> complete/fail, with a heartbeat thread keeping
the leases alive and every runner reaping expired ones.

Idle runners sleep on ``LISTEN cogo_jobs`` (the jobs trigger notifies on every queued row), so
a new job starts at once; the slow poll (``poll_seconds``) is only the fallback for a missed
notification, a dependency that became claimable, and the reaper's cadence. SIGTERM/SIGINT stop
the loop: a handler that can stop early hands its job back (``release``); the rest finish.

A database restart is ridden out, not fatal: a lost connection is reopened with capped,
jittered backoff (``_reconnect``), the statement that failed is run again, and the runner then
re-validates its leases against the table (``_revalidate``): a job it holds keeps running, a
lease that expired meanwhile stops its job (``JobContext.lease_lost``; a command's process
group is killed), and a claim whose commit was lost with the connection is handed back. An
outcome whose commit acknowledgement was lost is recognised by its ``job_events`` row, so every
job still ends exactly once.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

import psycopg

from cogo_pipelines.queue import jobs
from cogo_pipelines.queue.command_env import known_secrets
from cogo_pipelines.queue.handlers import Handler
from cogo_pipelines.queue.leases import SLOW_JOB_S, LeaseKeeping
from cogo_pipelines.queue.outcomes import Outcomes
from cogo_pipelines.queue.reconnect import LOST, Reconnecting, open_queue_connection
from cogo_pipelines.settings import Settings, get_settings
from cogo_pipelines.store import db
from cogo_pipelines.store.db import StoreError

log = logging.getLogger(__name__)

CHANNEL = "cogo_jobs"
DEFAULT_BATCH = 16  # see docs/OPERATIONS_RUNBOOK.md (runner section): why 16, and when to use 1


def runner_identity(executor_id: str) -> str:
    """``executor/host/pid/nonce``: unique per process, and says where a lease holder runs."""
    return f"{executor_id}/{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


@dataclass
class RunnerConfig:
    executor_id: str
    include_types: list[str] = field(default_factory=list)
    lease_seconds: float = 60.0
    poll_seconds: float | None = None  # None: min(5, lease/2)
    batch: int = DEFAULT_BATCH
    once: bool = False
    exit_when_idle: bool = False
    database_url: str | None = None

    @property
    def poll(self) -> float:
        return self.poll_seconds if self.poll_seconds else max(0.2, min(5.0, self.lease_seconds / 2))


class Runner(Reconnecting, Outcomes, LeaseKeeping):
    """The claim loop; its other parts live beside it: ``reconnect`` (statements retried across a
    lost connection), ``outcomes`` (one job's handler and its recorded outcome) and ``leases``
    (the heartbeat thread and the slow-job hand-back)."""

    def __init__(self, config: RunnerConfig, *, handlers: dict[str, Handler], settings: Settings | None = None):
        jobs.validate_executor(config.executor_id)
        if config.lease_seconds <= 0:
            raise jobs.QueueError("lease seconds must be positive")
        if config.batch < 1:
            raise jobs.QueueError("batch must be at least 1")
        self.config = config
        self.settings = settings or get_settings()
        self._secrets = known_secrets(self.settings, os.environ)
        self.handlers = handlers  # by job type: pipeline.handlers.handlers_for(executor_id)
        self.owner = runner_identity(config.executor_id)
        self.stopping = threading.Event()
        self.outcomes: dict[str, int] = {}
        self.claim_log: list[tuple[float, float, int]] = []  # (at, seconds, jobs) per claim call
        self.claimed_ids: list[int] = []
        self._held: set[int] = set()
        self._held_lock = threading.Lock()
        self._pending: list[tuple[jobs.Job, str, dict | None, str | None, float]] = []
        self._lease_lost: dict[int, threading.Event] = {}  # per held job, set by the heartbeat
        self._done = threading.Event()
        self.reconnects = 0
        self._listen: psycopg.Connection | None = None
        self._claim_size = 1
        self._unstarted: list[jobs.Job] = []  # claimed in this batch, not started yet
        self._job_started: float | None = None  # when the batch's current job started
        self.handed_back = 0

    # --- lifecycle ----------------------------------------------------------------------
    def request_stop(self, *_args: object) -> None:
        if not self.stopping.is_set():
            log.info("stop requested; finishing or releasing the current job", extra={"owner": self.owner})
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run(self) -> dict[str, int]:
        """Process jobs until stopped (or one job with ``once``); returns outcome counts."""
        url = self.config.database_url
        # autocommit: a stray read can never leave an implicit transaction that would turn the
        # next claim/complete into an uncommitted savepoint; multi-statement work uses transaction().
        self.conn = open_queue_connection(url, autocommit=True)
        self._listen = self._open_listen()
        beat = threading.Thread(target=self._heartbeat_loop, args=(url,), name="cogo-heartbeat", daemon=True)
        beat.start()
        log.info("runner started (include types: %s)", ",".join(self.config.include_types) or "all",
                 extra={"executor": self.config.executor_id, "owner": self.owner})
        try:
            self._loop()
        finally:
            self._done.set()
            beat.join(timeout=5)
            for c in (self._listen, self.conn):
                if c is not None:
                    c.close()
            log.info("runner stopped: %s", self.outcomes, extra={"owner": self.owner})
        return dict(self.outcomes)

    def _loop(self) -> None:
        cfg = self.config
        reap_every = max(0.5, min(cfg.lease_seconds / 2, 30.0))
        next_reap = 0.0
        while not self.stopping.is_set():
            if time.monotonic() >= next_reap:
                self._db("reap", lambda: jobs.reap(self.conn))
                next_reap = time.monotonic() + reap_every
            batch = self._claim(1 if cfg.once else self._claim_size)
            if not batch:
                if cfg.once or cfg.exit_when_idle:
                    return
                self._wait(cfg.poll)
                continue
            slow = False
            with self._held_lock:
                self._unstarted = list(batch)
            while True:
                with self._held_lock:
                    if not self._unstarted:
                        break
                    job = self._unstarted.pop(0)
                    self._job_started = time.monotonic()
                if self.stopping.is_set():
                    with self._held_lock:
                        rest, self._unstarted = [job, *self._unstarted], []
                    self._flush()
                    for j in rest:
                        self._settle(j, "released", lambda j=j: jobs.release(self.conn, j.id, self.owner))
                    return
                self._process(job)
                slow |= time.monotonic() - self._job_started > SLOW_JOB_S
            with self._held_lock:
                self._job_started = None
            self._flush()
            # Slow start: a batch of quick jobs doubles the next claim (up to --batch); one slow
            # job brings it back to 1, so a runner busy with long jobs does not sit on queued ones.
            self._claim_size = 1 if slow else min(self._claim_size * 2, cfg.batch)
            if cfg.once:
                return

    def _claim(self, limit: int) -> list[jobs.Job]:
        started = time.perf_counter()
        batch = self._db("claim", lambda: jobs.claim(
            self.conn, self.config.executor_id, self.owner, include_types=self.config.include_types, limit=limit,
            lease_seconds=self.config.lease_seconds))
        self.claim_log.append((started, time.perf_counter() - started, len(batch)))
        if batch:
            with self._held_lock:
                self._held.update(j.id for j in batch)
                for j in batch:
                    self._lease_lost[j.id] = threading.Event()
            self.claimed_ids.extend(j.id for j in batch)
        return batch

    def _open_listen(self) -> psycopg.Connection:
        listen = db.connect(self.config.database_url, autocommit=True)
        listen.execute(f"LISTEN {CHANNEL}")
        return listen

    def _wait(self, timeout: float) -> None:
        """Sleep until a notification, a stop request or ``timeout``. A lost LISTEN connection
        is reopened at the next wait; until then this is a plain sleep (the slow poll)."""
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._listen is None:
                try:
                    self._listen = self._open_listen()
                except (StoreError, *LOST):
                    self.stopping.wait(left)
                    return
            try:
                for _ in self._listen.notifies(timeout=min(left, 0.5), stop_after=1):
                    return
            except LOST:
                self._listen.close()
                self._listen = None
