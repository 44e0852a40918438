"""The runner loop: claim -> run the handler -> complete/fail, with a heartbeat thread keeping
the leases alive and every runner reaping expired ones.

Idle runners sleep on ``LISTEN cogo_jobs`` (the jobs trigger notifies on every queued row), so
a new job starts at once; the slow poll (``poll_seconds``) is only the fallback for a missed
notification, a dependency that became claimable, and the reaper's cadence. SIGTERM/SIGINT stop
the loop: a handler that can stop early hands its job back (``release``); the rest finish.
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
from cogo_pipelines.queue.handlers import Handler, JobContext, JobFailed, JobReleased
from cogo_pipelines.settings import Settings, get_settings
from cogo_pipelines.store import db
from cogo_pipelines.store.db import StoreError

log = logging.getLogger(__name__)

CHANNEL = "cogo_jobs"
FLUSH_AFTER_S = 1.0  # batch mode: a finished job's outcome waits at most this long for its batch


def runner_identity(executor_id: str) -> str:
    """``executor/host/pid/nonce``: unique per process, and says where a lease holder runs."""
    return f"{executor_id}/{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


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


@dataclass
class RunnerConfig:
    executor_id: str
    include_types: list[str] = field(default_factory=list)
    lease_seconds: float = 60.0
    poll_seconds: float | None = None  # None: min(5, lease/2)
    batch: int = 1
    once: bool = False
    exit_when_idle: bool = False
    database_url: str | None = None

    @property
    def poll(self) -> float:
        return self.poll_seconds if self.poll_seconds else max(0.2, min(5.0, self.lease_seconds / 2))


class Runner:
    def __init__(self, config: RunnerConfig, *, handlers: dict[str, Handler], settings: Settings | None = None):
        jobs.validate_executor(config.executor_id)
        if config.lease_seconds <= 0:
            raise jobs.QueueError("lease seconds must be positive")
        if config.batch < 1:
            raise jobs.QueueError("batch must be at least 1")
        self.config = config
        self.settings = settings or get_settings()
        self.handlers = handlers  # by job type: pipeline.handlers.handlers_for(executor_id)
        self.owner = runner_identity(config.executor_id)
        self.stopping = threading.Event()
        self.outcomes: dict[str, int] = {}
        self.claim_log: list[tuple[float, float, int]] = []  # (at, seconds, jobs) per claim call
        self.claimed_ids: list[int] = []
        self._held: set[int] = set()
        self._held_lock = threading.Lock()
        self._pending: list[tuple[jobs.Job, str, dict | None, str | None, float]] = []
        self._done = threading.Event()

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
        listen = db.connect(url, autocommit=True)
        listen.execute(f"LISTEN {CHANNEL}")
        beat = threading.Thread(target=self._heartbeat_loop, args=(url,), name="cogo-heartbeat", daemon=True)
        beat.start()
        log.info("runner started (include types: %s)", ",".join(self.config.include_types) or "all",
                 extra={"executor": self.config.executor_id, "owner": self.owner})
        try:
            self._loop(listen)
        finally:
            self._done.set()
            beat.join(timeout=5)
            listen.close()
            self.conn.close()
            log.info("runner stopped: %s", self.outcomes, extra={"owner": self.owner})
        return dict(self.outcomes)

    def _loop(self, listen: psycopg.Connection) -> None:
        cfg = self.config
        reap_every = max(0.5, min(cfg.lease_seconds / 2, 30.0))
        next_reap = 0.0
        while not self.stopping.is_set():
            if time.monotonic() >= next_reap:
                jobs.reap(self.conn)
                next_reap = time.monotonic() + reap_every
            batch = self._claim(1 if cfg.once else cfg.batch)
            if not batch:
                if cfg.once or cfg.exit_when_idle:
                    return
                self._wait(listen, cfg.poll)
                continue
            for i, job in enumerate(batch):
                if self.stopping.is_set():
                    self._flush()
                    for rest in batch[i:]:
                        self._settle(rest, "released", lambda j=rest: jobs.release(self.conn, j.id, self.owner))
                    return
                self._process(job)
            self._flush()
            if cfg.once:
                return

    def _claim(self, limit: int) -> list[jobs.Job]:
        started = time.perf_counter()
        batch = jobs.claim(self.conn, self.config.executor_id, self.owner,
                           include_types=self.config.include_types, limit=limit,
                           lease_seconds=self.config.lease_seconds)
        self.claim_log.append((started, time.perf_counter() - started, len(batch)))
        if batch:
            with self._held_lock:
                self._held.update(j.id for j in batch)
            self.claimed_ids.extend(j.id for j in batch)
        return batch

    def _wait(self, listen: psycopg.Connection, timeout: float) -> None:
        """Sleep until a notification, a stop request or ``timeout``."""
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for _ in listen.notifies(timeout=min(left, 0.5), stop_after=1):
                return

    # --- one job ------------------------------------------------------------------------
    def _process(self, job: jobs.Job) -> None:
        fields = {"job_id": job.id, "job_type": job.type, "executor": job.executor_id, "attempt": job.attempts}
        log.info("job claimed", extra=fields)
        started = time.monotonic()
        handler = self.handlers.get(job.type)
        if handler is None:
            known = ", ".join(sorted(self.handlers))
            error = f"unknown job type {job.type!r} for executor {self.config.executor_id!r} (it runs: {known})"
            self._outcome(job, "failed", None, error, started)
            return
        ctx = JobContext(job=job, conn=self.conn, settings=self.settings, stopping=self.stopping)
        try:
            if handler.transactional:
                with self.conn.transaction():
                    result = handler.fn(ctx)
                    jobs.complete(self.conn, job.id, self.owner, result)
                self._record(job, "succeeded", started)
            else:
                result = handler.fn(ctx)
                self._end_transaction(commit=True)
                self._outcome(job, "succeeded", result, None, started)
        except JobReleased as exc:
            reason = str(exc)
            self._end_transaction(commit=False)
            self._settle(job, "released", lambda: jobs.release(self.conn, job.id, self.owner, reason), started)
        except JobFailed as exc:
            self._end_transaction(commit=False)
            self._outcome(job, "failed", exc.result, str(exc), started)
        except jobs.LeaseLost as exc:
            self._end_transaction(commit=False)
            self._record(job, "lease_lost", started, str(exc))
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise  # the store went away: exit; the lease expires and another runner takes the job
        except Exception as exc:  # a handler bug fails its job, never the runner
            self._end_transaction(commit=False)
            error = f"{type(exc).__name__}: {exc}"
            log.exception("handler raised", extra=fields)
            self._outcome(job, "failed", None, error, started)

    def _outcome(self, job: jobs.Job, status: str, result: dict | None, error: str | None, started: float) -> None:
        """Record a finished job now, or (batch mode) with the rest of its batch: one commit per
        batch. A buffered job stays held, so its lease keeps being extended until then."""
        if self.config.batch > 1:
            self._pending.append((job, status, result, error, started))
            if time.monotonic() - self._pending[0][4] > FLUSH_AFTER_S:
                self._flush()
            return
        if status == "succeeded":
            action = lambda: jobs.complete(self.conn, job.id, self.owner, result)
        else:
            action = lambda: jobs.fail(self.conn, job.id, self.owner, error or "failed", result=result)
        self._settle(job, status, action, started, error)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        refused = jobs.finish_many(self.conn, self.owner, [(j.id, st, res, err) for j, st, res, err, _ in pending])
        for job, status, _result, error, started in pending:
            if job.id in refused:
                self._record(job, "lease_lost", started, "lease lost before the batch's outcomes were recorded")
            else:
                self._record(job, status, started, error)

    def _end_transaction(self, *, commit: bool) -> None:
        """Close what a non-transactional handler left open on the shared connection."""
        if self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            return
        if commit and self.conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            self.conn.commit()
        else:
            self.conn.rollback()

    def _settle(self, job: jobs.Job, status: str, action, started: float | None = None,
                error: str | None = None) -> None:
        try:
            action()
        except jobs.LeaseLost as exc:
            status, error = "lease_lost", str(exc)
        self._record(job, status, started, error)

    def _record(self, job: jobs.Job, status: str, started: float | None, error: str | None = None) -> None:
        with self._held_lock:
            self._held.discard(job.id)
        self.outcomes[status] = self.outcomes.get(status, 0) + 1
        fields = {"job_id": job.id, "job_type": job.type, "executor": job.executor_id, "status": status,
                  "attempt": job.attempts,
                  "duration_s": round(time.monotonic() - started, 3) if started is not None else None}
        level = logging.INFO if status in ("succeeded", "released") else logging.WARNING
        log.log(level, "job %s%s", status, f": {error}" if error else "", extra=fields)

    # --- leases -------------------------------------------------------------------------
    def _heartbeat_loop(self, url: str | None) -> None:
        every = max(0.2, self.config.lease_seconds / 3)
        conn: psycopg.Connection | None = None
        while not self._done.wait(every):
            with self._held_lock:
                held = set(self._held)
            if not held:
                continue
            try:
                conn = conn or db.connect(url, autocommit=True)
                still = jobs.heartbeat(conn, held, self.owner, self.config.lease_seconds)
            except psycopg.Error as exc:
                log.warning("heartbeat failed (%s); retrying", exc, extra={"owner": self.owner})
                conn = None
                continue
            for lost in held - still:
                with self._held_lock:
                    if lost not in self._held:
                        continue  # finished meanwhile
                log.warning("lease lost; the job's outcome will be refused", extra={"job_id": lost, "owner": self.owner})
        if conn is not None:
            conn.close()
