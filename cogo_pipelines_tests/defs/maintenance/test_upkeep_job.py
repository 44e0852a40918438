"""``store_upkeep_job`` prunes the store in Dagster, once a day unless forced."""

from __future__ import annotations

import psycopg

from cogo_pipelines.defs.maintenance import jobs as maintenance_jobs
from cogo_pipelines.defs.shared.resources import PostgresResource


def test_the_upkeep_job_prunes_old_queue_history_once_a_day(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO jobs (type, executor_id, status, created_at, finished_at) VALUES"
                     " ('t', 'cogo-work', 'failed', now() - interval '100 days', now() - interval '100 days'),"
                     " ('t', 'cogo-work', 'queued', now() - interval '100 days', NULL)")
    resources = {"postgres": PostgresResource(database_url=database_url)}

    def run(force: bool = False) -> dict:
        result = maintenance_jobs.store_upkeep_job.execute_in_process(
            resources=resources, run_config={"ops": {"store_upkeep": {"config": {"force": force}}}})
        assert result.success
        return result.output_for_node("store_upkeep")

    assert run() == {"jobs": 1}
    assert run() == {}  # not due again today
    assert run(force=True) == {}  # due, and nothing left: the queued job stays
    with psycopg.connect(database_url) as conn:
        assert [r[0] for r in conn.execute("SELECT status FROM jobs")] == ["queued"]


def test_the_upkeep_schedule_is_defined_and_stopped_by_default():
    from cogo_pipelines.definitions import defs

    schedule = defs.get_schedule_def("store_upkeep_schedule")
    assert schedule.job_name == "store_upkeep_job" and schedule.cron_schedule == "30 3 * * *"
    assert schedule.default_status.value == "STOPPED"


def test_the_upkeep_job_deletes_dagster_runs_past_their_days_and_never_itself(database_url):
    import dagster as dg

    resources = {"postgres": PostgresResource(database_url=database_url)}
    with dg.instance_for_test() as instance:
        first = maintenance_jobs.store_upkeep_job.execute_in_process(resources=resources, instance=instance)
        assert first.success and instance.get_run_by_id(first.run_id) is not None
        # runs created before now are "past 0 days": the first run goes, the running one stays
        second = maintenance_jobs.store_upkeep_job.execute_in_process(
            resources=resources, instance=instance,
            run_config={"ops": {"store_upkeep": {"config": {"dagster_run_days": 0}}}})
        assert second.output_for_node("store_upkeep") == {"dagster runs": 1}
        assert instance.get_run_by_id(first.run_id) is None and instance.get_run_by_id(second.run_id) is not None
