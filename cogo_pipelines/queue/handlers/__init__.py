"""Job handlers: what a runner calls for a job (the table by executor is ``pipeline/handlers``).

A handler gets a ``JobContext`` and returns the job's result dict; it raises ``JobFailed`` for
an outcome that is a failure (a red build), ``JobReleased`` to hand the job back untouched
(the runner is stopping). Anything else it raises fails the job with the exception text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from cogo_pipelines.queue.jobs import Job
from cogo_pipelines.settings import Settings


class JobFailed(Exception):
    def __init__(self, message: str, result: dict | None = None):
        super().__init__(message)
        self.result = result


class JobReleased(Exception):
    """The runner is stopping before the job could finish; it goes back to the queue.

    ``counted``: the job's command had started (its side effects may have happened), so the
    attempt counts towards ``max_attempts``. Otherwise a command that signals its own runner to
    stop (it can find it: it is the command's grandparent) was given back and run again for ever,
    stopping every runner of its executor in turn."""

    def __init__(self, reason: str, *, counted: bool = False) -> None:
        super().__init__(reason)
        self.counted = counted


@dataclass
class JobContext:
    job: Job
    conn: psycopg.Connection
    settings: Settings
    stopping: threading.Event = field(default_factory=threading.Event)
    # Set by the runner's heartbeat when this job's lease is gone: a long handler stops its work
    # (a command's process group is killed) rather than run on beside the job's next holder.
    lease_lost: threading.Event = field(default_factory=threading.Event)

    @property
    def payload(self) -> dict:
        return self.job.payload or {}


@dataclass(frozen=True)
class Handler:
    fn: Callable[[JobContext], dict]
    # True: runs in the same transaction as the job's completion, so what it enqueues is
    # committed exactly when the job is (a lost lease rolls it back). Only for quick handlers.
    transactional: bool = False
