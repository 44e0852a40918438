"""Dagster wiring with Dagster's testing APIs: schedules, the failure sensor, the jobs in-process."""

import importlib
from datetime import UTC, datetime

import dagster as dg
import pytest

from cogo_pipelines import settings
from cogo_pipelines.defs.quality import jobs as quality_jobs
from cogo_pipelines.defs.quality import schedules as quality_schedules
from cogo_pipelines.defs.quality import sensors as quality_sensors
from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.quality.gate import evaluate_q1
from cogo_pipelines_tests.quality.helpers import seed_jobs


def _resources(url):
    return {"postgres": PostgresResource(database_url=url)}


def test_definitions_expose_quality_jobs_schedules_sensor():
    from cogo_pipelines.definitions import defs

    for job in ("q1_gate_job", "nightly_snapshot_job", "weekly_queue_job", "weekly_summary_job",
                "gate_failure_notify_job"):
        assert defs.resolve_job_def(job).name == job
    assert defs.resolve_schedule_def("nightly_snapshot_schedule").cron_schedule == "0 2 * * *"
    assert defs.resolve_schedule_def("weekly_queue_schedule").cron_schedule == "0 6 * * 1"
    assert defs.resolve_schedule_def("weekly_summary_schedule").cron_schedule == "0 8 * * 1"
    assert defs.resolve_sensor_def("q1_gate_failure_sensor").job_name == "gate_failure_notify_job"


def test_run_configs_validate():
    assert dg.validate_run_config(quality_jobs.q1_gate_job, {})
    config = {"ops": {"q1_gate": {"config": {"threshold": 0.8, "allow_empty": True, "window_days": 3}}}}
    assert dg.validate_run_config(quality_jobs.q1_gate_job, config)
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(quality_jobs.q1_gate_job, {"ops": {"q1_gate": {"config": {"threshold": "high"}}}})
    assert dg.validate_run_config(quality_jobs.nightly_snapshot_job, {})
    with pytest.raises(dg.DagsterInvalidConfigError):
        dg.validate_run_config(quality_jobs.gate_failure_notify_job, {})


def test_schedule_timezone_comes_from_settings(monkeypatch):
    assert quality_schedules.nightly_snapshot_schedule.execution_timezone == "UTC"
    monkeypatch.setenv("SCHEDULE_TIMEZONE", "Asia/Seoul")
    settings.reload_settings()
    try:
        reloaded = importlib.reload(quality_schedules)
        assert reloaded.nightly_snapshot_schedule.execution_timezone == "Asia/Seoul"
        assert reloaded.weekly_queue_schedule.execution_timezone == "Asia/Seoul"
    finally:
        monkeypatch.delenv("SCHEDULE_TIMEZONE")
        settings.reload_settings()
        importlib.reload(quality_schedules)


def test_nightly_schedule_tick():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 4, 2, tzinfo=UTC))
    data = quality_schedules.nightly_snapshot_schedule.evaluate_tick(context)
    assert len(data.run_requests) == 1
    assert dg.validate_run_config(quality_jobs.nightly_snapshot_job, data.run_requests[0].run_config)


def test_weekly_schedule_pins_the_iso_week():
    monday = datetime(2025, 1, 6, 6, tzinfo=UTC)
    request = quality_schedules.weekly_queue_schedule(dg.build_schedule_context(scheduled_execution_time=monday))
    assert request.run_key == "weekly-queue-2025-W02"
    assert request.run_config == {"ops": {"weekly_queue": {"config": {"week": "2025-W02"}}}}
    assert dg.validate_run_config(quality_jobs.weekly_queue_job, request.run_config)


def test_weekly_queue_job_dedupes_per_week(conn, database_url):
    def run(week):
        result = quality_jobs.weekly_queue_job.execute_in_process(
            run_config={"ops": {"weekly_queue": {"config": {"week": week}}}}, resources=_resources(database_url))
        assert result.success
        return result.output_for_node("weekly_queue")

    first = run("2025-W02")
    assert first["created"] and first["dedupe_key"] == "weekly:2025-W02"
    job = conn.execute("SELECT type, executor_id, payload, dedupe_key FROM jobs WHERE id = %s",
                       (first["job_id"],)).fetchone()
    assert job["type"] == "plan.quality" and job["executor_id"] == "cogo-plan"
    assert job["payload"]["targets"] == ["examples/cogo-sample"] and job["payload"]["week"] == "2025-W02"
    again = run("2025-W02")
    assert (again["created"], again["job_id"]) == (False, first["job_id"])
    conn.execute("UPDATE jobs SET status = 'succeeded', finished_at = now() WHERE id = %s", (first["job_id"],))
    conn.commit()
    after_done = run("2025-W02")  # the week's job already ran: a re-run still queues nothing
    assert (after_done["created"], after_done["status"]) == (False, "succeeded")
    assert run("2025-W03")["created"]
    assert conn.execute("SELECT count(*) AS n FROM jobs WHERE type = 'plan.quality'").fetchone()["n"] == 2


def test_q1_gate_job_in_process(conn, database_url):
    seed_jobs(database_url, succeeded=9, failed=1)
    ok = quality_jobs.q1_gate_job.execute_in_process(resources=_resources(database_url))
    assert ok.success and ok.output_for_node("q1_gate")["score"] == pytest.approx(0.9)

    failed = quality_jobs.q1_gate_job.execute_in_process(
        run_config={"ops": {"q1_gate": {"config": {"threshold": 0.95}}}}, resources=_resources(database_url),
        raise_on_error=False)
    assert not failed.success
    failure = next(e for e in failed.all_events if e.event_type_value == "STEP_FAILURE")
    info = failure.step_failure_data.user_failure_data
    assert "FAIL: Q1 0.900 < threshold 0.95" in info.description
    # the CI log shows the description: it says where the gate_fix is (only the metadata did)
    assert f"gate_fix 1 at {info.metadata['gate_fix'].value}" in info.description
    assert info.metadata["gate_fix_id"].value == 1 and info.metadata["passed"].value is False
    assert conn.execute("SELECT count(*) AS n FROM gate_fixes").fetchone()["n"] == 1

    bad = quality_jobs.q1_gate_job.execute_in_process(
        run_config={"ops": {"q1_gate": {"config": {"threshold": 1.7}}}}, resources=_resources(database_url),
        raise_on_error=False)
    assert not bad.success


def test_nightly_snapshot_job_in_process(conn, database_url):
    seed_jobs(database_url, succeeded=1, failed=1)
    result = quality_jobs.nightly_snapshot_job.execute_in_process(resources=_resources(database_url))
    assert result.success
    row = conn.execute("SELECT kind, q1, content FROM snapshots").fetchone()
    assert row["kind"] == "nightly" and row["q1"] == pytest.approx(0.5) and "index" in row["content"]


def _evaluate_sensor(database_url, cursor):
    with dg.build_sensor_context(cursor=cursor, resources=_resources(database_url)) as context:
        return quality_sensors.q1_gate_failure_sensor.evaluate_tick(context)


def test_failure_sensor_starts_after_history_and_skips_reproductions(conn, database_url):
    seed_jobs(database_url, failed=1)
    old = evaluate_q1(conn)
    evaluate_q1(conn)

    first = _evaluate_sensor(database_url, None)  # turning the sensor on replays nothing
    assert not first.run_requests and "no replay" in first.skip_message
    assert first.cursor == str(old.run_id + 1)

    quiet = _evaluate_sensor(database_url, first.cursor)
    assert not quiet.run_requests and "no new failed" in quiet.skip_message and quiet.cursor == first.cursor

    evaluate_q1(conn, threshold=0.0)  # a passing run is not alerted
    evaluate_q1(conn, threshold=1.0, notify=False)  # a `cogo gate q1` reproduction is not alerted
    newer = evaluate_q1(conn, threshold=1.0)
    again = _evaluate_sensor(database_url, quiet.cursor)
    assert [r.run_key for r in again.run_requests] == [f"q1-gate-failure-{newer.run_id}"]
    assert dg.validate_run_config(quality_jobs.gate_failure_notify_job, again.run_requests[0].run_config)
    assert again.cursor == str(newer.run_id)


def test_schedules_and_sensor_default_to_stopped_unless_turned_on(monkeypatch):
    def statuses():
        schedules, sensors = importlib.reload(quality_schedules), importlib.reload(quality_sensors)
        return ({s.default_status for s in (schedules.nightly_snapshot_schedule, schedules.weekly_summary_schedule,
                                             schedules.weekly_queue_schedule)},
                sensors.q1_gate_failure_sensor.default_status)

    try:
        monkeypatch.delenv("COGO_SCHEDULES_RUNNING", raising=False)
        settings.reload_settings()
        assert statuses() == ({dg.DefaultScheduleStatus.STOPPED}, dg.DefaultSensorStatus.STOPPED)
        monkeypatch.setenv("COGO_SCHEDULES_RUNNING", "1")
        settings.reload_settings()
        assert statuses() == ({dg.DefaultScheduleStatus.RUNNING}, dg.DefaultSensorStatus.RUNNING)
    finally:
        monkeypatch.delenv("COGO_SCHEDULES_RUNNING", raising=False)
        settings.reload_settings()
        importlib.reload(quality_schedules)
        importlib.reload(quality_sensors)


def test_gate_failure_notify_job_delivers(conn, database_url, receiver, monkeypatch):
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", receiver.url)
    settings.reload_settings()
    seed_jobs(database_url, failed=1)
    run_id = evaluate_q1(conn).run_id
    result = quality_jobs.gate_failure_notify_job.execute_in_process(
        run_config={"ops": {"notify_gate_failure": {"config": {"quality_run_id": run_id}}}},
        resources=_resources(database_url))
    assert result.success and result.output_for_node("notify_gate_failure")["status"] == "sent"
    assert f"run {run_id}" in receiver.requests[0]["json"]["text"]


def test_weekly_summary_job(conn, database_url, receiver, monkeypatch):
    dry = quality_jobs.weekly_summary_job.execute_in_process(
        run_config={"ops": {"weekly_summary": {"config": {"dry_run": True}}}}, resources=_resources(database_url))
    assert dry.success and dry.output_for_node("weekly_summary")["text"].startswith("cogo weekly summary")
    assert receiver.requests == []

    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", receiver.url)
    settings.reload_settings()
    sent = quality_jobs.weekly_summary_job.execute_in_process(resources=_resources(database_url))
    assert sent.success and len(receiver.requests) == 1

    receiver.behaviours = [(500, 0)] * 3
    failed = quality_jobs.weekly_summary_job.execute_in_process(resources=_resources(database_url),
                                                                raise_on_error=False)
    assert not failed.success
    statuses = [r["status"] for r in conn.execute("SELECT status FROM notifications ORDER BY id")]
    assert statuses == ["sent", "failed"]


def _gate_failure(database_url, config=None):
    result = quality_jobs.q1_gate_job.execute_in_process(
        run_config={"ops": {"q1_gate": {"config": config or {}}}}, resources=_resources(database_url),
        raise_on_error=False)
    assert not result.success
    return next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").step_failure_data


def test_q1_gate_job_tells_a_failed_gate_from_one_not_evaluated(conn, database_url):
    """A score below the threshold is the gate's verdict; a gate that could not be computed is an
    error that says what is missing. Both fail the run, so the description says which (CI reads it,
    `.ci/gate-verdict`), and the metadata too (`outcome`)."""
    seed_jobs(database_url, succeeded=6, failed=4)
    failed = _gate_failure(database_url).user_failure_data
    assert failed.description.startswith("Q1 gate failed: FAIL: Q1 0.600 < threshold 0.70 (6 succeeded, 4 failed)")
    assert f"what to fix: gate_fix 1 at {failed.metadata['gate_fix'].value}" in failed.description
    assert failed.metadata["outcome"].value == "failed"

    empty = _gate_failure(database_url, {"target": "no-such-target"}).user_failure_data  # no data: DESIGN §5
    assert empty.description.startswith("Q1 gate failed: [no-such-target] no quality jobs finished in the window")
    assert empty.metadata["outcome"].value == "failed"

    bad = _gate_failure(database_url, {"threshold": 1.7}).user_failure_data
    assert bad.description == "Q1 gate not evaluated: threshold must be between 0 and 1, got 1.7"
    assert bad.metadata["outcome"].value == "error"

    runs_before = conn.execute("SELECT count(*) AS n FROM quality_runs").fetchone()["n"]
    conn.execute("ALTER TABLE jobs RENAME TO jobs_moved")  # a broken input: the job history is gone
    conn.commit()
    broken = _gate_failure(database_url)
    assert broken.user_failure_data is not None, broken.error.message  # a Failure that says so, not a crash
    description = broken.user_failure_data.description
    assert description.startswith("Q1 gate not evaluated: database error while evaluating the gate: UndefinedTable")
    assert 'relation "jobs" does not exist' in description and "\n" not in description
    assert broken.user_failure_data.metadata["outcome"].value == "error"
    assert conn.execute("SELECT count(*) AS n FROM quality_runs").fetchone()["n"] == runs_before
