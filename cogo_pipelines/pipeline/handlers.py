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
