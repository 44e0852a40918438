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
import random
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
DEFAULT_BATCH = 16  # see docs/OPERATIONS_RUNBOOK.md (runner section): why 16, and when to use 1
SLOW_JOB_S = 1.0  # a job longer than this hands its batch's unstarted jobs back to the queue
TICK_S = 0.25  # the lease thread's cadence for the hand-back check (heartbeats: lease/3)
RECONNECT_FIRST_S = 0.1  # backoff after a lost connection: doubles per failed try, up to the cap
RECONNECT_CAP_S = 5.0
LOST = (psycopg.OperationalError, psycopg.InterfaceError)  # the connection (or its server) went away


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
    batch: int = DEFAULT_BATCH
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

    # --- a lost database connection -----------------------------------------------------
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
                    log.warning("%s failed (%s); retrying", what, _first_line(exc), extra={"owner": self.owner})
                    self.stopping.wait(RECONNECT_FIRST_S)
                if self.stopping.is_set() and what in ("claim", "reap"):
                    return [] if what == "claim" else None

    def _reconnect(self, what: str, exc: BaseException) -> None:
        """Reopen ``self.conn`` with capped, jittered backoff, then re-validate the leases. Only a
        stop request while the database is away gives up (held jobs return when their lease
        expires)."""
        started = time.monotonic()
        log.warning("lost the database connection during %s (%s); reconnecting", what, _first_line(exc),
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
                                time.monotonic() - started, tries, _first_line(again), extra={"owner": self.owner})
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
        with self._held_lock:
            lease_lost = self._lease_lost.setdefault(job.id, threading.Event())
        ctx = JobContext(job=job, conn=self.conn, settings=self.settings, stopping=self.stopping,
                         lease_lost=lease_lost)
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
        except LOST as exc:  # the store went away under a handler that used it: its work rolled back
            if not (self.conn.closed or self.conn.broken):
                self._end_transaction(commit=False)
            self._reconnect(f"job {job.id}", exc)
            self._settle(job, "released", lambda: jobs.release(
                self.conn, job.id, self.owner, "the database connection was lost while the job ran"), started)
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
        outcomes = [(j.id, st, res, err) for j, st, res, err, _ in pending]
        refused = self._db("record outcomes", lambda: jobs.finish_many(self.conn, self.owner, outcomes))
        for job, status, _result, error, started in pending:
            if job.id in refused and self._db("check outcome", lambda j=job: jobs.recorded_outcome(
                    self.conn, j.id, self.owner)) != status:
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
            self._db(f"record job {job.id}", action)
        except jobs.LeaseLost as exc:
            # Refused. Ours already, when an earlier try committed but its reply was lost?
            recorded = self._db("check outcome", lambda: jobs.recorded_outcome(self.conn, job.id, self.owner))
            if recorded is None:
                status, error = "lease_lost", str(exc)
            else:
                status = recorded
        self._record(job, status, started, error)

    def _record(self, job: jobs.Job, status: str, started: float | None, error: str | None = None) -> None:
        with self._held_lock:
            self._held.discard(job.id)
            self._lease_lost.pop(job.id, None)
            self.outcomes[status] = self.outcomes.get(status, 0) + 1
        fields = {"job_id": job.id, "job_type": job.type, "executor": job.executor_id, "status": status,
                  "attempt": job.attempts,
                  "duration_s": round(time.monotonic() - started, 3) if started is not None else None}
        level = logging.INFO if status in ("succeeded", "released") else logging.WARNING
        log.log(level, "job %s%s", status, f": {error}" if error else "", extra=fields)

    # --- leases -------------------------------------------------------------------------
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
                    log.warning("heartbeat failed (%s); retrying", _first_line(exc), extra={"owner": self.owner})
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
