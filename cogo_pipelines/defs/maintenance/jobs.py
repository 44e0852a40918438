"""``store_upkeep_job`` and its daily schedule: thin wiring over ``pipeline/upkeep.py``.

Index runs do the same upkeep when it is due, but a server whose store only queues jobs and
records gates may go weeks without one; the schedule (03:30, after the nightly snapshot; STOPPED
unless ``COGO_SCHEDULES_RUNNING=1``, as every schedule here) covers it. A run on a day an index
run already pruned finds nothing due in the store. It also deletes Dagster's own finished runs
past ``RETENTION_HISTORY_DAYS``, which Dagster keeps for ever (its tick history is bounded in
``dagster.yaml``).
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.pipeline import upkeep
from cogo_pipelines.settings import get_settings

RUNS_PER_TICK = 1000  # a long-neglected instance is emptied over several days, not in one run
_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


class UpkeepConfig(dg.Config):
    force: bool = False  # prune even when today's upkeep already ran
    # Dagster's own finished runs are kept this many days; unset: as the store keeps its history
    # (RETENTION_HISTORY_DAYS)
    dagster_run_days: int | None = None


@dg.op(description="Delete the rows the store keeps no longer (stale cache rows, queue history past "
       "RETENTION_HISTORY_DAYS, records past RETENTION_RECORDS_DAYS), once a day; and Dagster's own finished "
       "runs past RETENTION_HISTORY_DAYS.")
def store_upkeep(context: dg.OpExecutionContext, config: UpkeepConfig, postgres: PostgresResource) -> dg.Output[dict]:
    with postgres.connect() as conn:
        pruned = upkeep.run_upkeep(conn, force=config.force)
    # Dagster keeps every run and its event log for ever (it purges only ticks: dagster.yaml's
    # retention); finished runs past their days go here, this run never
    days = config.dagster_run_days if config.dagster_run_days is not None else upkeep.policy().history.days
    cutoff = datetime.now(UTC) - timedelta(days=days)
    old_runs = context.instance.get_run_records(
        filters=dg.RunsFilter(statuses=_FINISHED, created_before=cutoff), limit=RUNS_PER_TICK)
    deleted = 0
    for record in old_runs:
        if record.dagster_run.run_id != context.run_id:
            context.instance.delete_run(record.dagster_run.run_id)
            deleted += 1
    if deleted:
        pruned["dagster runs"] = deleted
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
