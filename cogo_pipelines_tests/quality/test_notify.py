"""Snapshots, the weekly summary and webhook delivery against a real local HTTP receiver."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from cogo_pipelines.quality.gate import evaluate_q1
from cogo_pipelines.quality.gate_fix import write_gate_fix
from cogo_pipelines.quality.notify import (
    deliver,
    notify_gate_failure,
    q1_trend,
    weekly_report,
    weekly_summary,
)
from cogo_pipelines.quality.snapshot import latest_snapshot, take_snapshot
from cogo_pipelines_tests.quality.helpers import seed_jobs


def _notifications(conn):
    return conn.execute("SELECT kind, status, attempts, error, payload FROM notifications ORDER BY id").fetchall()


def test_snapshot_row(conn, database_url):
    seed_jobs(database_url, succeeded=3, failed=1)
    seed_jobs(database_url, status_extra={"queued": 2})
    conn.execute("INSERT INTO files (repo, path, language, content_hash) VALUES ('r', 'a.ts', 'typescript', 'h')")
    conn.commit()
    snap = take_snapshot(conn)
    assert snap["q1"] == pytest.approx(0.75)
    assert snap["content"]["index"] == {"files": 1, "symbols": 0, "edges": 0, "chunks": 0, "embedded_chunks": 0,
                                        "repos": 1}
    assert {(q["executor_id"], q["status"], q["count"]) for q in snap["content"]["queue"]} == {
        ("cogo-work", "succeeded", 3), ("cogo-work", "failed", 1), ("cogo-work", "queued", 2)}
    stored = latest_snapshot(conn)
    assert stored["id"] == snap["id"] and stored["q1"] == pytest.approx(0.75)
    assert stored["content"]["q1"]["succeeded"] == 3


def test_q1_trend_per_week(conn, database_url):
    seed_jobs(database_url, succeeded=4, days_ago=1)
    seed_jobs(database_url, failed=2, days_ago=8)
    seed_jobs(database_url, succeeded=1, failed=1, days_ago=16)
    trend = q1_trend(conn, weeks=4)
    assert [t["score"] for t in trend] == [None, 0.5, 0.0, 1.0]
    assert len({t["week"] for t in trend}) == 4


def test_weekly_summary_payload(conn, database_url):
    seed_jobs(database_url, succeeded=1, failed=3)
    fix = write_gate_fix(conn, evaluate_q1(conn))
    report = weekly_report(conn)
    assert report["latest_gate_fix"]["id"] == fix["id"]
    assert report["last_gate"]["passed"] is False
    payload = weekly_summary(conn)
    assert set(payload) == {"text", "blocks"}
    assert f"/api/gate-fix/{fix['id']}" in payload["text"]
    blob = str(payload["blocks"])
    assert "Q1 this week:* 0.25" in blob and "cogo-work failed: 3" in blob and "0 chunks" in blob
    assert f"http://127.0.0.1:3100/api/gate-fix/{fix['id']}?format=html|gate_fix {fix['id']}" in blob


def test_weekly_summary_links_the_gate_fix_of_the_run_it_reports(conn, database_url):
    seed_jobs(database_url, succeeded=1, failed=3)
    old = write_gate_fix(conn, evaluate_q1(conn))
    newer_run = evaluate_q1(conn)  # a later failed run without an artifact yet
    report = weekly_report(conn)
    assert report["last_gate"]["id"] == newer_run.run_id and report["latest_gate_fix"] is None
    newer = write_gate_fix(conn, newer_run)
    assert weekly_report(conn)["latest_gate_fix"]["id"] == newer["id"] != old["id"]
    passing = evaluate_q1(conn, threshold=0.1)
    report = weekly_report(conn)
    assert report["last_gate"]["id"] == passing.run_id and report["latest_gate_fix"] is None
    assert f"none (gate run {passing.run_id} passed)" in str(weekly_summary(conn)["blocks"])


def test_delivery_success(conn, receiver):
    row = deliver(conn, {"text": "hello"}, kind="weekly_summary", url=receiver.url)
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 1, None)
    assert receiver.requests == [{"path": "/hooks/T000/B000/secret-token", "json": {"text": "hello"},
                                  "content_type": "application/json"}]
    assert [(n["kind"], n["status"], n["attempts"]) for n in _notifications(conn)] == [("weekly_summary", "sent", 1)]


def test_delivery_retries_after_500(conn, receiver):
    receiver.behaviours = [(500, 0), (503, 0)]
    row = deliver(conn, {"text": "x"}, kind="weekly_summary", url=receiver.url, attempts=3, backoff=0.01)
    assert (row["status"], row["attempts"]) == ("sent", 3)
    assert len(receiver.requests) == 3


def test_delivery_gives_up_and_records_error(conn, receiver):
    receiver.behaviours = [(500, 0)] * 3
    row = deliver(conn, {"text": "x"}, kind="weekly_summary", url=receiver.url, attempts=3, backoff=0.01)
    assert (row["status"], row["attempts"]) == ("failed", 3) and row["error"].startswith("HTTP 500")
    stored = _notifications(conn)[0]
    assert stored["status"] == "failed" and stored["error"].startswith("HTTP 500") and stored["payload"] == {"text": "x"}


def test_delivery_does_not_retry_client_errors(conn, receiver):
    receiver.behaviours = [(404, 0)]
    row = deliver(conn, {"text": "x"}, kind="weekly_summary", url=receiver.url, attempts=3, backoff=0.01)
    assert (row["status"], row["attempts"]) == ("failed", 1) and len(receiver.requests) == 1


def test_a_webhook_that_answers_too_late_is_not_posted_again(conn, receiver):
    """A slow webhook got the same message three times: the request had arrived, only its answer
    was late. A read timeout is now recorded as failed (the message may be there), never sent again."""
    receiver.behaviours = [(200, 1.5), (200, 0.0), (200, 0.0)]  # slower than the timeout, then quick
    started = time.monotonic()
    row = deliver(conn, {"text": "x"}, kind="weekly_summary", url=receiver.url, attempts=3, timeout=0.3, backoff=0.01)
    assert (row["status"], row["attempts"]) == ("failed", 1) and "ReadTimeout" in row["error"]
    assert len(receiver.requests) == 1 and time.monotonic() - started < 1.4


def test_delivery_timeout_exhausted(conn, receiver):
    receiver.behaviours = [(200, 1.0), (200, 1.0)]
    row = deliver(conn, {"text": "x"}, kind="weekly_summary", url=receiver.url, attempts=2, timeout=0.2, backoff=0.01)
    assert row["status"] == "failed" and "Timeout" in row["error"] and row["attempts"] == 1
    assert receiver.url not in row["error"] and "secret-token" not in row["error"]


def test_unreachable_webhook_and_unset_url(conn, monkeypatch):
    row = deliver(conn, {"text": "x"}, kind="weekly_summary", url="http://127.0.0.1:9/hook/tok", attempts=2,
                  backoff=0.01)
    assert row["status"] == "failed" and row["attempts"] == 2 and "tok" not in row["error"]
    monkeypatch.delenv("NOTIFY_WEBHOOK_URL", raising=False)
    skipped = deliver(conn, {"text": "x"}, kind="weekly_summary")
    assert (skipped["status"], skipped["attempts"]) == ("skipped", 0) and "NOTIFY_WEBHOOK_URL" in skipped["error"]


def test_gate_failure_alert_links_gate_fix(conn, database_url, receiver):
    seed_jobs(database_url, failed=2)
    result = evaluate_q1(conn)
    fix = write_gate_fix(conn, result)
    row = notify_gate_failure(conn, result.run_id, url=receiver.url)
    assert row["status"] == "sent"
    sent = receiver.requests[0]["json"]
    assert f"run {result.run_id}" in sent["text"] and "FAIL: Q1 0.000" in sent["text"]
    assert f"/api/gate-fix/{fix['id']}" in str(sent["blocks"])
    with pytest.raises(ValueError, match="does not exist"):
        notify_gate_failure(conn, 9999, url=receiver.url)


def test_trend_is_anchored_on_now(conn, database_url):
    seed_jobs(database_url, succeeded=1, days_ago=30)
    past = datetime.now(UTC) - timedelta(days=27)
    assert q1_trend(conn, weeks=1, now=past)[0]["score"] == 1.0


def test_log_text_in_an_alert_cannot_ping_a_channel_or_disguise_a_link():
    """Test names went into the Slack alert as they were: `<!channel>` would ping everyone and
    `<http://evil.example|Click me>` show a disguised link; terminal escapes came along too; and
    five long names made a section past Slack's 3,000 characters (the alert refused)."""
    from cogo_pipelines.quality.notify import SECTION_CHARS, gate_failure_payload

    hostile = "<!channel> fix <http://evil.example|Click me> & \x1b]0;pwned\x07\x1b[31mred\x1b[0m"
    content = {"failing_jobs": [{"id": n, "target": "<!here>", "failures": [{"name": hostile + " " + "x" * 900}],
                                 "locations": [{"path": "src/<a>.ts", "symbol": "f"}]} for n in range(5)]}
    payload = gate_failure_payload({"id": 7, "details": {"message": "FAIL <!everyone>"}},
                                   {"id": 3, "url": "http://127.0.0.1:3100/api/gate-fix/3", "content": content})
    texts = [block["text"]["text"] for block in payload["blocks"] if block["type"] == "section"]
    for text in texts:
        assert "<!" not in text and "<http" not in text and "\x1b" not in text and "\x07" not in text
        assert len(text) <= SECTION_CHARS
    assert "&lt;!channel&gt;" in texts[1] and "&amp;" in texts[1] and "&lt;!everyone&gt;" in texts[0]
