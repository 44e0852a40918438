from datetime import UTC, datetime, timedelta

import pytest

from cogo_pipelines.quality.gate import GateError, GateQuery, evaluate_q1, judge, measure_q1, q1_score
from cogo_pipelines_tests.quality.helpers import BUILD, seed_jobs


def test_q1_arithmetic_and_verdicts():
    assert q1_score(7, 3) == pytest.approx(0.7)
    assert q1_score(0, 0) is None
    assert judge(7, 3, 0.7, False)[1] is True  # boundary: >= passes
    assert judge(69, 31, 0.7, False)[1] is False
    score, passed, message = judge(0, 0, 0.7, False)
    assert score is None and not passed and "no quality jobs" in message
    score, passed, message = judge(0, 0, 0.7, True)
    assert score is None and passed and "allowed" in message
    assert judge(0, 5, 0.0, False)[1] is True


def test_pass_records_quality_run(conn, database_url):
    seed_jobs(database_url, succeeded=8, failed=2)
    result = evaluate_q1(conn, threshold=0.7)
    assert (result.succeeded, result.failed, result.passed) == (8, 2, True)
    assert result.score == pytest.approx(0.8)
    row = conn.execute("SELECT * FROM quality_runs WHERE id = %s", (result.run_id,)).fetchone()
    assert row["passed"] and row["succeeded"] == 8 and row["failed"] == 2 and row["source"] == "db"
    assert row["score"] == pytest.approx(0.8) and row["threshold"] == pytest.approx(0.7)
    assert row["details"]["job_types"] == [BUILD] and row["details"]["message"] == result.message
    assert row["window_end"] - row["window_start"] == timedelta(days=7)


def test_fail_lists_failing_jobs(conn, database_url):
    failed_ids = seed_jobs(database_url, succeeded=1, failed=3)[1:]
    result = evaluate_q1(conn, threshold=0.7)
    assert not result.passed and result.score == pytest.approx(0.25)
    assert sorted(j["id"] for j in result.failing_jobs) == sorted(failed_ids)
    assert "AssertionError" in result.failing_jobs[0]["error"]
    assert "FAIL" in result.message


def test_window_excludes_old_and_unfinished_jobs(conn, database_url):
    seed_jobs(database_url, succeeded=5, days_ago=1)
    seed_jobs(database_url, failed=20, days_ago=10)  # outside the default 7-day window
    seed_jobs(database_url, status_extra={"queued": 4, "running": 2, "dead": 3}, days_ago=1)
    result = evaluate_q1(conn)
    assert (result.succeeded, result.failed, result.passed) == (5, 0, True)
    wide = evaluate_q1(conn, window_days=14)
    assert (wide.succeeded, wide.failed, wide.passed) == (5, 20, False)


def test_job_type_filter_and_target(conn, database_url):
    seed_jobs(database_url, succeeded=4, failed=1)
    seed_jobs(database_url, failed=9, job_type="code.debug")
    seed_jobs(database_url, failed=3, target="examples/other")
    assert (evaluate_q1(conn).succeeded, evaluate_q1(conn).failed) == (4, 4)
    debug = evaluate_q1(conn, job_types=["code.debug"])
    assert (debug.succeeded, debug.failed) == (0, 9)
    both = evaluate_q1(conn, job_types=[BUILD, "code.debug"])
    assert both.failed == 13
    targeted = evaluate_q1(conn, target="examples/other")
    assert (targeted.succeeded, targeted.failed) == (0, 3) and targeted.message.startswith("[examples/other]")


def test_settings_drive_defaults(conn, database_url, monkeypatch):
    from cogo_pipelines import settings

    seed_jobs(database_url, succeeded=6, failed=4)
    assert not evaluate_q1(conn).passed  # 0.6 < 0.70
    monkeypatch.setenv("Q1_THRESHOLD", "0.5")
    monkeypatch.setenv("Q1_JOB_TYPES", "code.build.test,code.lint")
    settings.reload_settings()
    result = evaluate_q1(conn)
    assert result.passed and result.threshold == 0.5 and result.job_types == [BUILD, "code.lint"]


def test_empty_window_fails_unless_allowed(conn):
    empty = evaluate_q1(conn)
    assert not empty.passed and empty.score is None and "no quality jobs" in empty.message
    allowed = evaluate_q1(conn, allow_empty=True)
    assert allowed.passed and allowed.score is None
    rows = conn.execute("SELECT passed, score, details FROM quality_runs ORDER BY id").fetchall()
    assert [(r["passed"], r["score"], r["details"]["empty"]) for r in rows] == [(False, None, True), (True, None, True)]


@pytest.mark.parametrize("bad", [1.7, -1, float("nan")])
def test_bad_threshold_is_an_error(conn, bad):
    with pytest.raises(GateError, match="threshold"):
        evaluate_q1(conn, threshold=bad)
    assert conn.execute("SELECT count(*) AS n FROM quality_runs").fetchone()["n"] == 0


def test_bad_window_and_source(conn):
    with pytest.raises(GateError, match="window"):
        evaluate_q1(conn, window_days=0)
    with pytest.raises(GateError, match="unknown source"):
        evaluate_q1(conn, source="mysql")


def test_measure_does_not_record(conn, database_url):
    seed_jobs(database_url, succeeded=3, failed=1)
    reading = measure_q1(conn)
    assert reading["score"] == pytest.approx(0.75)
    assert conn.execute("SELECT count(*) AS n FROM quality_runs").fetchone()["n"] == 0


def test_query_window_is_anchored_on_now():
    now = datetime(2025, 3, 10, 12, tzinfo=UTC)
    query = GateQuery.build(window_days=2, job_types=[" code.build.test ", ""], now=now)
    assert query.job_types == (BUILD,) and query.window_start == now - timedelta(days=2)
    with pytest.raises(GateError, match="no job types"):
        GateQuery.build(window_days=2, job_types=[])


def test_a_run_for_one_target_does_not_replace_the_repo_wide_verdict(conn, database_url):
    """A passing ``cogo gate q1 --target web`` after a failed repo-wide run showed "passed" on
    the dashboard, in /metrics, to MCP's gate_status and in the weekly summary."""
    from cogo_pipelines.quality import notify
    from cogo_pipelines.store import code_graph, queries

    seed_jobs(database_url, succeeded=1, failed=9)
    wide = evaluate_q1(conn)
    seed_jobs(database_url, succeeded=9, target="web")
    targeted = evaluate_q1(conn, target="web")
    assert not wide.passed and targeted.passed and targeted.run_id > wide.run_id
    assert queries.latest_gate(conn)["id"] == wide.run_id
    assert code_graph.latest_gate_run(conn)["id"] == wide.run_id
    assert notify.weekly_report(conn)["last_gate"]["id"] == wide.run_id
