"""``store_upkeep_job`` and its daily schedule: thin wiring over ``pipeline/upkeep.py``.

Index runs do the same upkeep when it is due, but a server whose store only queues jobs and
records gates may go weeks without one; the schedule (03:30, after the nightly snapshot; STOPPED
unless ``COGO_SCHEDULES_RUNNING=1``, as every schedule here) covers it. A run on a day an index
run already pruned finds nothing due and deletes nothing.
"""

import dagster as dg

from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.pipeline import upkeep
from cogo_pipelines.settings import get_settings


class UpkeepConfig(dg.Config):
    force: bool = False  # prune even when today's upkeep already ran


@dg.op(description="Delete the rows the store keeps no longer (stale cache rows, queue history past 90 days, "
       "records past 395 days), once a day.")
def store_upkeep(context: dg.OpExecutionContext, config: UpkeepConfig, postgres: PostgresResource) -> dg.Output[dict]:
    with postgres.connect() as conn:
        pruned = upkeep.run_upkeep(conn, force=config.force)
    context.log.info(f"pruned {sum(pruned.values())} rows" if pruned else "nothing to prune (or not due)")
    return dg.Output(pruned, metadata={"rows_pruned": dg.MetadataValue.json(pruned)})


@dg.job(description="The store's daily upkeep: what no retention rule keeps is deleted.", tags={"cogo/area": "store"})
def store_upkeep_job():
    store_upkeep()


store_upkeep_schedule = dg.ScheduleDefinition(
    name="store_upkeep_schedule", job=store_upkeep_job, cron_schedule="30 3 * * *",
    execution_timezone=get_settings().schedule_timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING if get_settings().schedules_running else dg.DefaultScheduleStatus.STOPPED,
)

defs = dg.Definitions(jobs=[store_upkeep_job], schedules=[store_upkeep_schedule])
