"""Alerts on failed Q1 gate runs, whichever face ran the gate."""

import dagster as dg

from cogo_pipelines.defs.quality.jobs import gate_failure_notify_job
from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.quality import gate_runs
from cogo_pipelines.settings import get_settings

SENSOR_STATUS = (dg.DefaultSensorStatus.RUNNING if get_settings().schedules_running
                 else dg.DefaultSensorStatus.STOPPED)


# The job by name, not by object: Definitions binds the shared ``postgres`` resource to an op job
# and, for a sensor holding that job object, rebuilds the sensor, which Dagster 1.13 does through
# the beta ``owners`` parameter (a BetaWarning in every load). A name resolves to the same bound job.
@dg.sensor(job_name=gate_failure_notify_job.name, minimum_interval_seconds=60, default_status=SENSOR_STATUS)
def q1_gate_failure_sensor(context: dg.SensorEvaluationContext, postgres: PostgresResource):
    """Alerts for failed quality_runs rows newer than the cursor (CLI with --notify, CI, queue, Dagster).

    First tick (no cursor): the cursor is set to the newest run and nothing is sent, so turning
    the sensor on never replays history. Runs recorded with ``notify: false`` (``cogo gate q1``
    reproductions) are skipped; the alert itself is deduplicated on the failure's signature.
    Starts STOPPED unless ``COGO_SCHEDULES_RUNNING=1``.
    """
    last_seen = int(context.cursor) if context.cursor else None
    with postgres.connect() as conn:
        failures, newest = gate_runs.failed_runs_after(conn, last_seen)
    context.update_cursor(str(max(newest or 0, last_seen or 0)))
    if last_seen is None:
        return dg.SkipReason(f"first tick: starting after quality run {newest or 0}, no replay of older runs")
    if not failures:
        return dg.SkipReason("no new failed Q1 gate runs")
    return [
        dg.RunRequest(run_key=f"q1-gate-failure-{run_id}", tags={"cogo/quality_run_id": str(run_id)},
                      run_config={"ops": {"notify_gate_failure": {"config": {"quality_run_id": run_id}}}})
        for run_id in failures
    ]


defs = dg.Definitions(sensors=[q1_gate_failure_sensor])
