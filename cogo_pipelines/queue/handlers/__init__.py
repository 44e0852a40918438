"""Job handlers and the registry a runner picks them from, by executor.

A handler gets a ``JobContext`` and returns the job's result dict; it raises ``JobFailed`` for
an outcome that is a failure (a red build), ``JobReleased`` to hand the job back untouched
(the runner is stopping). Anything else it raises fails the job with the exception text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from cogo_pipelines.edge.router import PLAN_EXECUTOR, WORK_EXECUTOR
from cogo_pipelines.queue.jobs import Job
from cogo_pipelines.settings import Settings


class JobFailed(Exception):
    def __init__(self, message: str, result: dict | None = None):
        super().__init__(message)
        self.result = result


class JobReleased(Exception):
    """The runner is stopping before the job could finish; it goes back to the queue."""


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


def handlers_for(executor_id: str) -> dict[str, Handler]:
    """The job types ``executor_id`` runs. cogo-plan plans and never builds; cogo-work builds."""
    from cogo_pipelines.queue.handlers import common, plan, work

    table = dict(common.HANDLERS)
    if executor_id == PLAN_EXECUTOR:
        table.update(plan.HANDLERS)
    elif executor_id == WORK_EXECUTOR:
        table.update(work.HANDLERS)
        # Gate aggregation is not a build: the optional quality-runner (cogo-work restricted to
        # quality.* by LIVE_INCLUDE_TYPES) takes it off the server runner.
        table.update({name: h for name, h in plan.HANDLERS.items() if name.startswith("quality.")})
    return table
