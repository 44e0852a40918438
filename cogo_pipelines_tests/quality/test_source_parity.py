"""The two sources of the Q1 gate give one verdict on the same rows: the db source counts in SQL
over the embedded store, the supabase source asks a real HTTP server on 127.0.0.1 that speaks
PostgREST and answers from those same rows (``postgrest.PostgrestOverPostgres``). Infrastructure
failures (timeouts, lost runners, missing working trees, ``outcome: infra``) are told apart by
both: counted, listed, and kept out of Q1 (the supabase source used to count them as code failures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from cogo_pipelines import settings
from cogo_pipelines.quality import categories, supabase_source
from cogo_pipelines.quality.gate import evaluate_q1
from cogo_pipelines.quality.outcomes import infra_sql, is_infra
from cogo_pipelines_tests.quality.postgrest import PostgrestOverPostgres

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
FAKE_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl"
# the kinds of infrastructure failure (error, result; None: SQL NULL), each as its writer words it
INFRA = [
    ("command timed out after 600 s; its process group was killed (log: /x/1.log)", {"timed_out": True}),
    (None, {"outcome": "infra", "reason": "disk full"}),
    ("working tree /w/cart does not exist on this runner (set payload cwd or RUNNER_WORK_DIR)", None),
    ("could not start 'npm': not found on PATH", {"exit_code": None}),
    ("unknown job type 'code.x' for executor 'cogo-work' (it runs: code.build.test)", None),
    ("lease of runner-1 expired at 2025-03-10 (attempt 3/3); re-queued", {}),
    ("exited with code 1", {"timed_out": True}),  # a handler's word counts whatever the error says
]
# code failures, older than every infrastructure failure; NULLs and near misses stay code failures
CODE = [
    ("exited with code 1", {"log_tail": "AssertionError: expected 1 to be 2\n"}),
    (None, None),
    ("working tree does not exist", {"timed_out": False}),
    ("Command timed out in a test's own assertion", {"outcome": "code"}),
]


def _insert(conn, status, error, result, hours_ago, *, job_type="code.build.test", target="cart") -> int:
    finished = NOW - timedelta(hours=hours_ago)
    return conn.execute(
        "INSERT INTO jobs (type, executor_id, status, payload, created_at, started_at, finished_at, error, result)"
        " VALUES (%s, 'cogo-work', %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (job_type, status, json.dumps({"command": "npm test", "target": target}), finished, finished, finished,
         error, None if result is None else json.dumps(result)),
    ).fetchone()["id"]


def _seed(conn) -> dict[str, list[int]]:
    ids = {"infra": [_insert(conn, "failed", *INFRA[n % len(INFRA)], 1 + n / 10) for n in range(41)],
           "code": [_insert(conn, "failed", *row, 20 + n) for n, row in enumerate(CODE)],
           "succeeded": [_insert(conn, "succeeded", None, {"exit_code": 0}, 2 + n) for n in range(3)],
           "flaky": [_insert(conn, "succeeded", None, {"flaky": True, "exit_code": 0}, 3 + n) for n in range(2)]}
    _insert(conn, "failed", "command timed out after 600 s", {"timed_out": True}, 24 * 10)  # out of the window
    _insert(conn, "failed", "exited with code 1", None, 1, job_type="code.debug")  # not a Q1 job type
    _insert(conn, "dead", "lease of runner-1 expired", None, 1)  # never counted
    ids["other"] = [_insert(conn, "failed", "exited with code 1", None, 30, target="other")]
    conn.commit()
    return ids


def _through_both(conn, stand_in, monkeypatch, **kwargs):
    db = evaluate_q1(conn, source="db", now=NOW, threshold=0.5, **kwargs)
    monkeypatch.setenv("SUPABASE_URL", stand_in.url)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", FAKE_KEY)
    settings.reload_settings()
    try:
        sb = evaluate_q1(None, source="supabase", now=NOW, threshold=0.5, **kwargs)
    finally:
        settings.reload_settings()
    return db, sb


def _listed(result) -> dict[str, list[int]]:
    return {c.name: [job["id"] for job in result.jobs.get(c.name, [])] for c in categories.table() if c.jobs}


def _rest_reads(stand_in) -> list[tuple[str, dict[str, list[str]]]]:
    return [(method, parse_qs(urlsplit(path).query)) for method, path in stand_in.requests
            if urlsplit(path).path == "/rest/v1/jobs"]


def test_both_sources_give_the_same_counts_jobs_and_verdict(conn, database_url, monkeypatch):
    ids = _seed(conn)
    with PostgrestOverPostgres(database_url) as stand_in:
        db, sb = _through_both(conn, stand_in, monkeypatch)
    assert db.counts == sb.counts == {"succeeded": 5, "failed": 5, "infra_failed": 41, "flaky": 2}
    assert _listed(db) == _listed(sb)
    assert sb.failing_jobs and [job["id"] for job in sb.failing_jobs] == [*ids["code"], *ids["other"]]
    assert [job["id"] for job in sb.infra_jobs] == ids["infra"][:20]
    assert (db.score, db.passed, db.message) == (sb.score, sb.passed, sb.message) == (
        0.5, True, ("PASS: Q1 0.500 >= threshold 0.50 (5 succeeded, 5 failed); 41 infrastructure failure(s) "
                    "(timeout, missing working tree, runner lost) not counted; 2 flaky (failed, then passed on a "
                    "rerun; counted as succeeded)"))
    # both recorded the same row (the supabase one through the stand-in's insert, into the same table)
    rows = conn.execute("SELECT * FROM quality_runs WHERE id = ANY(%s) ORDER BY id",
                        ([db.run_id, sb.run_id],)).fetchall()
    assert [r["source"] for r in rows] == ["db", "supabase"]
    for key in ("score", "passed", "succeeded", "failed", "window_start", "window_end"):
        assert rows[0][key] == rows[1][key], key
    assert rows[0]["details"] == rows[1]["details"]
    # four counts, then the failed rows (one page: the limit plus the 41 apart), the infra and flaky rows
    reads = _rest_reads(stand_in)
    assert [method for method, _ in reads] == ["HEAD"] * 4 + ["GET"] * 3
    assert reads[2][1]["or"] == [f"({categories.named('infra_failed').rest_any})"]
    assert reads[4][1]["limit"] == ["61"] and "or" not in reads[4][1]


def test_code_failures_behind_many_infra_failures_are_read_page_by_page(conn, database_url, monkeypatch):
    """Pages of the failing limit (PAGE_ROWS lowered): 41 infrastructure failures, then the code
    failures on the third page; a page bound below that lists none, and says no more than it read."""
    _seed(conn)
    monkeypatch.setattr(supabase_source, "PAGE_ROWS", 1)
    with PostgrestOverPostgres(database_url) as stand_in:
        db, sb = _through_both(conn, stand_in, monkeypatch, record=False)
    assert db.counts == sb.counts and _listed(db) == _listed(sb) and len(sb.failing_jobs) == 5
    failed_pages = [q for method, q in _rest_reads(stand_in) if method == "GET" and "r_outcome" in q["select"][0]]
    assert [(q["limit"], q.get("offset")) for q in failed_pages] == [(["20"], None), (["20"], ["20"]),
                                                                      (["20"], ["40"])]

    monkeypatch.setattr(supabase_source, "PAGES", 2)
    with PostgrestOverPostgres(database_url) as stand_in:
        _, bounded = _through_both(conn, stand_in, monkeypatch, record=False)
    assert bounded.counts == db.counts and bounded.failing_jobs == []
    assert len([1 for method, q in _rest_reads(stand_in) if method == "GET" and "r_outcome" in q["select"][0]]) == 2


def test_parity_with_a_target_and_no_infra_failures(conn, database_url, monkeypatch):
    """A target narrows both alike; with no infrastructure failure the failed rows are one read."""
    _insert(conn, "failed", "exited with code 1", None, 5, target="other")
    _insert(conn, "succeeded", None, None, 6, target="other")
    _seed(conn)
    with PostgrestOverPostgres(database_url) as stand_in:
        db, sb = _through_both(conn, stand_in, monkeypatch, target="other", record=False)
    assert db.counts == sb.counts == {"succeeded": 1, "failed": 2, "infra_failed": 0, "flaky": 0}
    assert _listed(db) == _listed(sb) and db.message == sb.message and db.message.startswith("[other] FAIL")
    reads = _rest_reads(stand_in)
    assert [method for method, _ in reads] == ["HEAD"] * 4 + ["GET"]
    assert reads[-1][1]["limit"] == ["20"]


@pytest.mark.parametrize("error", [None, "", "exited with code 1"])
def test_a_failure_with_no_infra_mark_is_a_code_failure_through_both(conn, database_url, monkeypatch, error):
    """NULLs everywhere (error, result) stay code failures: a negated PostgREST filter would drop them."""
    _insert(conn, "failed", error, None, 1)
    conn.commit()
    with PostgrestOverPostgres(database_url) as stand_in:
        db, sb = _through_both(conn, stand_in, monkeypatch, record=False)
    assert db.counts == sb.counts == {"succeeded": 0, "failed": 1, "infra_failed": 0, "flaky": 0}
    assert _listed(db) == _listed(sb) and len(sb.failing_jobs) == 1


def test_the_python_rule_is_the_sql_rule(conn):
    """``is_infra`` (what the supabase source classifies rows with) says what ``infra_sql()`` says
    of every row, over the full result and over the text ``result->>key`` reads."""
    near = ["working tree  does not exist", "lease expired", "lease of x expired", "command timed out",
            " command timed out", "could not start", "could not start x", "unknown job type", "", None]
    for error, result in [*INFRA, *CODE, *((e, None) for e in near), (None, {"timed_out": "true"}),
                          (None, {"timed_out": 1}), (None, {"outcome": "INFRA"}), (None, [1]), (None, "x")]:
        _insert(conn, "failed", error, result, 1)
    rows = conn.execute(f"SELECT error, result, {infra_sql().replace('%%', '%')} AS infra,"
                        " result->>'outcome' AS outcome, result->>'timed_out' AS timed_out FROM jobs").fetchall()
    assert len(rows) == len(INFRA) + len(CODE) + len(near) + 5 and any(r["infra"] for r in rows)
    for row in rows:
        text = {"outcome": row["outcome"], "timed_out": row["timed_out"]}
        assert is_infra(row["error"], row["result"]) == is_infra(row["error"], text) == row["infra"], row
