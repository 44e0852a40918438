"""Alerts on failed Q1 gate runs, whichever face ran the gate."""

import dagster as dg

from cogo_pipelines.defs.quality.jobs import gate_failure_notify_job
from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.quality import gate_runs


@dg.sensor(job=gate_failure_notify_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def q1_gate_failure_sensor(context: dg.SensorEvaluationContext, postgres: PostgresResource):
    """One alert per failed quality_runs row, from the CLI, CI or Dagster alike.

    The cursor is the highest quality_runs id seen; without one (first tick) only the last
    day's failures are alerted, so turning the sensor on does not replay history.
    """
    last_seen = int(context.cursor) if context.cursor else None
    with postgres.connect() as conn:
        failures, newest = gate_runs.failed_runs_after(conn, last_seen)
    context.update_cursor(str(max(newest or 0, last_seen or 0)))
    if not failures:
        return dg.SkipReason("no new failed Q1 gate runs")
    return [
        dg.RunRequest(run_key=f"q1-gate-failure-{run_id}", tags={"cogo/quality_run_id": str(run_id)},
                      run_config={"ops": {"notify_gate_failure": {"config": {"quality_run_id": run_id}}}})
        for run_id in failures
    ]


defs = dg.Definitions(sensors=[q1_gate_failure_sensor])
