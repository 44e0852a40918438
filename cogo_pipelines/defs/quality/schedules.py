"""When the quality jobs run: the nightly snapshot, the weekly plan and the weekly summary.

They start STOPPED (Dagster's default) unless ``COGO_SCHEDULES_RUNNING=1``: loading the
definitions on a laptop must not start queueing builds. The time zone is ``SCHEDULE_TIMEZONE``
(settings), read when the module loads.
"""

from datetime import UTC, datetime

import dagster as dg

from cogo_pipelines.defs.quality.jobs import nightly_snapshot_job, weekly_queue_job, weekly_summary_job
from cogo_pipelines.quality import weekly
from cogo_pipelines.settings import get_settings

TIMEZONE = get_settings().schedule_timezone
RUNNING = dg.DefaultScheduleStatus.RUNNING if get_settings().schedules_running else dg.DefaultScheduleStatus.STOPPED


nightly_snapshot_schedule = dg.ScheduleDefinition(
    name="nightly_snapshot_schedule", job=nightly_snapshot_job, cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE, default_status=RUNNING,
)

weekly_summary_schedule = dg.ScheduleDefinition(
    name="weekly_summary_schedule", job=weekly_summary_job, cron_schedule="0 8 * * 1",
    execution_timezone=TIMEZONE, default_status=RUNNING,
)


@dg.schedule(job=weekly_queue_job, cron_schedule="0 6 * * 1", execution_timezone=TIMEZONE, default_status=RUNNING)
def weekly_queue_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Pins the tick's ISO week in the run config, so a re-executed tick queues the same week."""
    week = weekly.iso_week(context.scheduled_execution_time or datetime.now(UTC))
    return dg.RunRequest(run_key=f"weekly-queue-{week}", tags={"cogo/week": week},
                         run_config={"ops": {"weekly_queue": {"config": {"week": week}}}})


defs = dg.Definitions(schedules=[nightly_snapshot_schedule, weekly_queue_schedule, weekly_summary_schedule])
