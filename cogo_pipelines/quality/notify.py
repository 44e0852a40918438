"""Notifications: the weekly summary and gate-failure alerts, as Slack-compatible JSON.

Payloads are ``{"text", "blocks"}`` (Slack incoming webhooks; Mattermost and Teams' Slack
adapters accept the same). Delivery retries transient failures (transport errors, timeouts,
429, 5xx) with backoff, and every attempt series becomes one ``notifications`` row, so a
silent webhook is visible in the store rather than lost.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg

from cogo_pipelines.quality.gate import measure_q1
from cogo_pipelines.quality.gate_fix import gate_fix_for_run
from cogo_pipelines.quality.snapshot import index_stats
from cogo_pipelines.quality.terminal import strip_terminal
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store.queries import latest_gate

TREND_WEEKS = 4
_BAR = "▁▂▃▄▅▆▇█"


def _week_label(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def q1_trend(conn: psycopg.Connection, *, weeks: int = TREND_WEEKS, now: datetime | None = None) -> list[dict]:
    """Q1 of each of the last ``weeks`` seven-day windows, oldest first (from job history, not gate runs)."""
    now = now or datetime.now(UTC)
    trend = []
    for back in range(weeks - 1, -1, -1):
        end = now - timedelta(days=7 * back)
        reading = measure_q1(conn, window_days=7, now=end)
        trend.append({"week": _week_label(end - timedelta(seconds=1)), "window_end": end.isoformat(),
                      "score": reading["score"], "succeeded": reading["succeeded"], "failed": reading["failed"]})
    return trend


def job_counts(conn: psycopg.Connection, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Jobs of the past week (by last activity) plus every still-open job, per executor and status."""
    since = (now or datetime.now(UTC)) - timedelta(days=7)
    rows = conn.execute(
        "SELECT executor_id, status, count(*) AS count FROM jobs"
        " WHERE coalesce(finished_at, started_at, created_at) >= %s OR status IN ('queued', 'running')"
        " GROUP BY executor_id, status ORDER BY executor_id, status",
        (since,),
    )
    return [dict(r) for r in rows]


def weekly_report(conn: psycopg.Connection, *, now: datetime | None = None) -> dict[str, Any]:
    """The numbers behind the weekly summary (JSON-ready)."""
    now = now or datetime.now(UTC)
    with conn.transaction():
        last_run = latest_gate(conn)  # the repo-wide verdict, not the last run of one target
        if last_run is not None:
            last_run = {k: last_run[k] for k in ("id", "score", "threshold", "passed", "created_at")}
        fix = gate_fix_for_run(conn, last_run["id"]) if last_run and not last_run["passed"] else None
        trend, jobs, index = q1_trend(conn, now=now), job_counts(conn, now=now), index_stats(conn)
    return {
        "generated_at": now.isoformat(),
        "week": _week_label(now),
        "q1_trend": trend,
        "threshold": get_settings().q1_threshold,
        "last_gate": {**last_run, "created_at": last_run["created_at"].isoformat()} if last_run else None,
        "jobs": jobs,
        "index": index,
        # the gate_fix of the run reported above (none when that run passed), never an older run's
        "latest_gate_fix": {"id": fix["id"], "url": fix["url"], "html_url": f"{fix['url']}?format=html",
                            "quality_run_id": fix["quality_run_id"], "created_at": fix["created_at"],
                            "message": fix["content"].get("message")} if fix else None,
    }


def _score(score: float | None) -> str:
    return f"{score:.2f}" if score is not None else "n/a"


def _sparkline(scores: list[float | None]) -> str:
    return "".join(_BAR[min(int(s * len(_BAR)), len(_BAR) - 1)] if s is not None else "·" for s in scores)


def summary_payload(report: dict[str, Any]) -> dict[str, Any]:
    trend = report["q1_trend"]
    current = trend[-1] if trend else {"score": None, "succeeded": 0, "failed": 0}
    trend_line = "  ".join(f"{t['week']}: {_score(t['score'])} ({t['succeeded']}/{t['succeeded'] + t['failed']})"
                           for t in trend)
    jobs_line = "\n".join(f"• {r['executor_id']} {r['status']}: {r['count']}" for r in report["jobs"]) or "• no jobs"
    index = report["index"]
    index_line = (f"{index['files']} files, {index['symbols']} symbols, {index['edges']} edges, "
                  f"{index['chunks']} chunks")
    fix = report["latest_gate_fix"]
    last = report.get("last_gate")
    fix_line = (f"<{fix['html_url']}|gate_fix {fix['id']}> of gate run {fix['quality_run_id']} "
                f"({fix['created_at'][:10]})" if fix
                else f"none (gate run {last['id']} passed)" if last and last.get("passed") else "none")
    text = (f"cogo weekly summary {report['week']}: Q1 {_score(current['score'])} "
            f"(threshold {report['threshold']:.2f}); gate_fix of the last gate run: "
            f"{fix['html_url'] if fix else 'none'}")
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"cogo weekly summary {report['week']}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*Q1 this week:* {_score(current['score'])} (threshold {report['threshold']:.2f})\n"
            f"*Trend:* `{_sparkline([t['score'] for t in trend])}`  {trend_line}")}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Jobs by executor/status (7 days + open):*\n{jobs_line}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Index:* {index_line}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Last gate run's gate_fix:* {fix_line}"}},
    ]
    return {"text": text, "blocks": blocks}


def weekly_summary(conn: psycopg.Connection, *, now: datetime | None = None) -> dict[str, Any]:
    """The Slack-compatible weekly payload (also served at GET /api/notify/weekly)."""
    return summary_payload(weekly_report(conn, now=now))


def gate_failure_payload(run: dict[str, Any], fix: dict[str, Any] | None) -> dict[str, Any]:
    details = run.get("details") or {}
    message = slack_text(details.get("message") or f"Q1 gate failed (score {_score(run.get('score'))})")[:1000]
    link = f"<{fix['url']}?format=html|gate_fix {fix['id']}>" if fix else "no gate_fix artifact"
    text = f"cogo Q1 gate failed (run {run['id']}): {message}"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f":red_circle: *Q1 gate failed* (run {run['id']})\n{message}"}},
    ]
    what = _what_failed((fix or {}).get("content") or {})
    if what:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": what}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"What to fix: {link}"}]})
    return {"text": text, "blocks": blocks}


# Slack reads `<…>` as links and mentions (`<!channel>`, `<http://x|Click me>`) and `&` as an
# entity: text from a build log is escaped as its docs say (https://api.slack.com/reference/surfaces/formatting)
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
SECTION_CHARS = 3000  # Slack refuses a section's text past this (invalid_blocks: the alert would be lost)


def slack_text(text: str) -> str:
    """Text from a build log or a test name, safe in Slack mrkdwn: no terminal escapes, no
    markup that pings a channel or disguises a link."""
    return strip_terminal(text).translate(_SLACK_ESCAPES)


def _what_failed(content: dict[str, Any], limit: int = 5) -> str:
    """The first failing tests/errors and where they point, for the alert itself (escaped, and
    within a section's size)."""
    lines = []
    for job in content.get("failing_jobs") or []:
        if job.get("same_error_as"):
            continue
        names = [slack_text(f["name"])[:200] for f in job.get("failures") or []][:3]
        top = (job.get("locations") or [None])[0]
        where = f" → `{slack_text(top['path'])}` {slack_text(top.get('symbol') or '')}".rstrip() if top else ""
        excerpt = (job.get("error_excerpt") or "").splitlines()
        label = ", ".join(names) or (slack_text(excerpt[-1])[:120] if excerpt else "failed")
        target = f" ({slack_text(job['target'])[:100]})" if job.get("target") else ""
        lines.append(f"• job {job.get('id')}{target}: {label}{where}")
        if len(lines) >= limit:
            break
    text = "*What failed:*\n" + "\n".join(lines) if lines else ""
    return text if len(text) <= SECTION_CHARS else text[:SECTION_CHARS - 2] + " …"


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def deliver(
    conn: psycopg.Connection,
    payload: dict[str, Any],
    *,
    kind: str,
    url: str | None = None,
    attempts: int = 3,
    timeout: float = 5.0,
    backoff: float = 0.5,
    dedupe_key: str | None = None,
    quality_run_id: int | None = None,
) -> dict[str, Any]:
    """POST ``payload`` to the webhook (NOTIFY_WEBHOOK_URL by default); records and returns the row.

    Status is ``sent``, ``failed`` (after retries, or a 4xx that retrying cannot fix) or ``skipped``
    (no webhook configured). The webhook URL carries a token, so it never appears in the row.
    """
    url = url or get_settings().notify_webhook_url
    tries, error, status = 0, None, "skipped"
    if not url:
        error = "NOTIFY_WEBHOOK_URL is not set"
    else:
        status = "failed"
        with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
            for tries in range(1, max(attempts, 1) + 1):
                try:
                    response = client.post(url, json=payload)
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {str(exc).replace(url, '<webhook>') or 'no detail'}"
                    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.RemoteProtocolError):
                        # the message may have been delivered: a retry would post it again (a slow
                        # webhook got three copies); only a connection that never carried it is retried
                        break
                else:
                    if response.is_success:
                        status, error = "sent", None
                        break
                    error = f"HTTP {response.status_code}: {response.text[:200].strip()}"
                    if not _retryable(response.status_code):
                        break
                if tries < attempts:
                    time.sleep(backoff * 2 ** (tries - 1))
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO notifications (kind, channel, status, attempts, error, payload, dedupe_key, quality_run_id)"
            " VALUES (%s, 'webhook', %s, %s, %s, %s, %s, %s) RETURNING id, created_at",
            (kind, status, tries, error, json.dumps(payload), dedupe_key, quality_run_id),
        ).fetchone()
    return {"id": row["id"], "kind": kind, "status": status, "attempts": tries, "error": error,
            "created_at": row["created_at"].isoformat()}


def send_weekly_summary(conn: psycopg.Connection, **delivery: Any) -> dict[str, Any]:
    return deliver(conn, weekly_summary(conn), kind="weekly_summary", **delivery)


def alert_key(run: dict[str, Any], fix_content: dict[str, Any] | None) -> str:
    """What an alert is about: the gate_fix's failure signature (failing tests/errors + target);
    a run without a gate_fix is keyed on its target and message."""
    details = run.get("details") or {}
    if fix_content and fix_content.get("signature"):
        return f"q1:{fix_content['signature']}"
    return f"q1:{details.get('target') or ''}:{details.get('message') or 'failed'}"


def already_alerted(conn: psycopg.Connection, key: str, run_id: int) -> dict[str, Any] | None:
    """The alert already sent for this failure since the gate last passed (a new breakage after a
    green run alerts again, the same breakage seen by later runs does not)."""
    return conn.execute(
        "SELECT n.id, n.quality_run_id FROM notifications n"
        " WHERE n.kind = 'gate_failure' AND n.dedupe_key = %s AND n.status IN ('sent', 'skipped')"
        "   AND n.created_at > coalesce((SELECT max(created_at) FROM quality_runs"
        "                                 WHERE gate = 'q1' AND passed AND id < %s), '-infinity')"
        " ORDER BY n.id DESC LIMIT 1",
        (key, run_id),
    ).fetchone()


def notify_gate_failure(conn: psycopg.Connection, quality_run_id: int, **delivery: Any) -> dict[str, Any]:
    """Alert about one failed gate run, linking the gate_fix written for it (if any) — once per
    failure: a run whose failure signature was already alerted records a ``duplicate`` row and
    sends nothing. Call it on an idle connection: the per-signature lock lasts until the
    surrounding transaction ends."""
    with conn.transaction():
        run = conn.execute(
            "SELECT id, score, threshold, passed, details FROM quality_runs WHERE id = %s", (quality_run_id,)
        ).fetchone()
        fix_row = conn.execute(
            "SELECT id, content FROM gate_fixes WHERE quality_run_id = %s ORDER BY id DESC LIMIT 1", (quality_run_id,)
        ).fetchone()
    if run is None:
        raise ValueError(f"quality run {quality_run_id} does not exist")
    fix = None
    if fix_row:
        from cogo_pipelines.quality.gate_fix import gate_fix_url

        fix = {"id": fix_row["id"], "url": gate_fix_url(fix_row["id"]), "content": fix_row["content"]}
    key = alert_key(dict(run), fix["content"] if fix else None)
    with conn.transaction():  # held through delivery: two notifiers of one failure send once
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
        previous = already_alerted(conn, key, quality_run_id)
        if previous is None:
            return deliver(conn, gate_failure_payload(dict(run), fix), kind="gate_failure", dedupe_key=key,
                           quality_run_id=quality_run_id, **delivery)
        row = conn.execute(
            "INSERT INTO notifications (kind, channel, status, attempts, error, payload, dedupe_key, quality_run_id)"
            " VALUES ('gate_failure', 'webhook', 'duplicate', 0, %s, '{}'::jsonb, %s, %s)"
            " RETURNING id, created_at",
            (f"same failure as notification {previous['id']} (quality run {previous['quality_run_id']})",
             key, quality_run_id),
        ).fetchone()
    return {"id": row["id"], "kind": "gate_failure", "status": "duplicate", "attempts": 0,
            "error": None, "duplicate_of": previous["id"], "created_at": row["created_at"].isoformat()}
