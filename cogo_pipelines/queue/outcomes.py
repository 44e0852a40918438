"""One claimed job: run its handler, then record how it ended, exactly once.

This is the part of the runner that turns a handler's return or exception into a queue outcome
(succeeded, failed, released, lease lost), commits it on its own or with the rest of its batch
(one commit per batch, ``FLUSH_AFTER_S`` at most), and, when the database refuses an outcome,
tells a lost lease from an earlier try of ours whose commit reply was lost (its ``job_events``
row). A handler bug fails its job, never the runner.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import psycopg

from cogo_pipelines.queue import capture, jobs
from cogo_pipelines.queue.handlers import Handler, JobContext, JobFailed, JobReleased
from cogo_pipelines.queue.reconnect import LOST
from cogo_pipelines.settings import Settings

if TYPE_CHECKING:
    from cogo_pipelines.queue.runner import RunnerConfig

# The runner's lines keep the one logger name they always had, whichever part of the runner speaks:
# log filters and the JSON lines' ``logger`` field do not depend on how the code is laid out.
log = logging.getLogger("cogo_pipelines.queue.runner")

FLUSH_AFTER_S = 1.0  # batch mode: a finished job's outcome waits at most this long for its batch


class Outcomes:
    """Running a job's handler and recording its outcome (a part of ``runner.Runner``).

    Uses the runner's ``conn``, ``config``, ``settings``, ``handlers``, ``owner``, ``stopping``,
    ``outcomes``, its held leases and its store calls (``_db``, ``_reconnect``)."""

    conn: psycopg.Connection
    config: RunnerConfig
    settings: Settings
    handlers: dict[str, Handler]
    owner: str
    stopping: threading.Event
    outcomes: dict[str, int]
    _held: set[int]
    _held_lock: threading.Lock
    _lease_lost: dict[int, threading.Event]
    _pending: list[tuple[jobs.Job, str, dict | None, str | None, float]]
    _secrets: list[str]  # command_env.known_secrets: masked out of every result and error stored

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
            reason, counted = str(exc), exc.counted
            self._end_transaction(commit=False)
            self._settle(job, "released", lambda: jobs.release(self.conn, job.id, self.owner, reason, counted=counted),
                         started)
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
        batch. A buffered job stays held, so its lease keeps being extended until then. Secrets
        are masked first: a result repeats the command and working tree it was given, an error
        quotes them, and either may quote what the command printed."""
        secrets = self._secrets
        result, error = capture.mask(result, secrets), capture.mask(error, secrets)
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
