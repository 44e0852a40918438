"""Run keys: one gate run, one ``quality_runs`` row, however many faces evaluate it — also when
two of them record it at the same moment (the unique index of migration 095)."""

from __future__ import annotations

import threading
import time

import pytest

from cogo_pipelines.pipeline.gate import run_q1_gate
from cogo_pipelines.quality.gate import GateError, evaluate_q1
from cogo_pipelines.store import db
from cogo_pipelines_tests.quality.helpers import seed_jobs


def _count(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM quality_runs").fetchone()["n"]


def test_a_second_evaluation_under_a_run_key_reports_the_first(conn, database_url):
    seed_jobs(database_url, succeeded=2, failed=1)
    first = run_q1_gate(conn, threshold=0.7, run_key="plan:7")
    assert not first.result.passed and not first.result.reported and first.fix is not None

    seed_jobs(database_url, succeeded=5)  # new evidence, and other options: still the same run
    again = run_q1_gate(conn, threshold=0.5, run_key="plan:7")
    assert again.result.reported and again.result.run_id == first.result.run_id
    assert (again.result.passed, again.result.succeeded, again.result.failed) == (False, 2, 1)
    assert (again.result.threshold, again.result.score) == (0.7, 0.666667)
    assert again.result.message == first.result.message == "FAIL: Q1 0.667 < threshold 0.70 (2 succeeded, 1 failed)"
    assert again.fix is not None and again.fix["id"] == first.fix["id"]  # its recorder's gate_fix, not a new one
    assert _count(conn) == 1
    assert conn.execute("SELECT count(*) AS n FROM gate_fixes").fetchone()["n"] == 1

    other = evaluate_q1(conn, threshold=0.5, run_key="plan:8")
    assert not other.reported and other.passed and (other.succeeded, other.failed) == (7, 1)
    unkeyed = [evaluate_q1(conn, threshold=0.5) for _ in range(2)]  # without a key: a point each, as before
    assert [r.reported for r in unkeyed] == [False, False]
    assert _count(conn) == 4
    keys = [r["k"] for r in conn.execute("SELECT details->>'run_key' AS k FROM quality_runs ORDER BY id")]
    assert keys == ["plan:7", "plan:8", None, None]


def test_two_recorders_of_one_run_at_once_insert_one_row(conn, database_url):
    seed_jobs(database_url, succeeded=3)
    other = db.connect(database_url)
    holder: dict = {}
    try:
        with conn.transaction():  # the first recorder has inserted but not committed
            first = evaluate_q1(conn, run_key="ci:42")
            pid = other.execute("SELECT pg_backend_pid() AS p").fetchone()["p"]
            other.commit()
            racer = threading.Thread(target=lambda: holder.update(r=evaluate_q1(other, run_key="ci:42")))
            racer.start()
            deadline = time.monotonic() + 60
            while not conn.execute("SELECT wait_event_type = 'Lock' AS w FROM pg_stat_activity WHERE pid = %s",
                                   (pid,)).fetchone()["w"]:
                assert time.monotonic() < deadline, "the second recorder never waited on the first's row"
                time.sleep(0.05)
        racer.join(timeout=60)
        second = holder["r"]
        assert second.reported and second.run_id == first.run_id and not first.reported
        assert _count(conn) == 1
    finally:
        other.close()


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "a\nb", 7])
def test_a_bad_run_key_is_one_clear_error(conn, key):
    with pytest.raises(GateError, match="run key"):
        evaluate_q1(conn, run_key=key)
    assert _count(conn) == 0


def test_run_keys_live_in_the_store_only():
    with pytest.raises(GateError, match="run key needs the db source"):
        evaluate_q1(None, source="supabase", run_key="plan:1")
