"""The job types each executor runs: the queue's own handlers plus the planning ones.

The plan handlers compose the queue and the quality gate, so the table lives here, above both,
and is handed to the ``Runner``; the queue itself never imports ``quality``.
"""

from __future__ import annotations

from cogo_pipelines.edge.router import PLAN_EXECUTOR, WORK_EXECUTOR
from cogo_pipelines.queue.handlers import Handler


def handlers_for(executor_id: str) -> dict[str, Handler]:
    """The job types ``executor_id`` runs. cogo-plan plans and never builds; cogo-work builds."""
    from cogo_pipelines.pipeline import plan
    from cogo_pipelines.queue.handlers import common, work

    table = dict(common.HANDLERS)
    if executor_id == PLAN_EXECUTOR:
        table.update(plan.HANDLERS)
    elif executor_id == WORK_EXECUTOR:
        table.update(work.HANDLERS)
        # Gate aggregation is not a build: the optional quality-runner (cogo-work restricted to
        # quality.* by LIVE_INCLUDE_TYPES) takes it off the server runner.
        table.update({name: h for name, h in plan.HANDLERS.items() if name.startswith("quality.")})
    return table


def unhandled_warning(executor_id: str, job_type: str) -> str | None:
    """A line to show when a job is queued for one of the built-in executors that has no handler
    for its type (a typo, most often): the job is queued all the same (another runner of that
    executor may register more types) and fails with "unknown job type" when claimed."""
    if executor_id not in (PLAN_EXECUTOR, WORK_EXECUTOR):
        return None
    known = handlers_for(executor_id)
    if job_type in known:
        return None
    return (f"no built-in handler of {executor_id} runs {job_type!r} (it runs: {', '.join(sorted(known))}); "
            "the job fails when a runner claims it unless that runner registers the type")
