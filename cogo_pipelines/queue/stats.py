"""Queue figures for the sidecar's /metrics and the dashboards, read from the jobs table so any
process (not only the runners) can report them."""

from __future__ import annotations

import psycopg

# Prometheus-style upper bounds (seconds) for job durations and claim latency.
DURATION_BUCKETS = (0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600)


def queue_depth(conn: psycopg.Connection) -> list[dict]:
    """Jobs per (executor_id, status), every status present in the table."""
    return conn.execute(
        "SELECT executor_id, status, count(*)::int AS count FROM jobs GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()


def claim_latency_seconds(conn: psycopg.Connection, *, window_s: float = 3600) -> list[dict]:
    """How long claimed jobs waited in the queue (created -> last claim), jobs started in the window."""
    return conn.execute(
        "SELECT executor_id, type, extract(epoch FROM started_at - created_at)::float8 AS seconds FROM jobs"
        " WHERE started_at >= now() - make_interval(secs => %s) ORDER BY started_at",
        (float(window_s),),
    ).fetchall()


def job_durations(conn: psycopg.Connection, *, window_s: float = 86400) -> list[dict]:
    """Run time of jobs finished in the window, for the duration histogram."""
    return conn.execute(
        "SELECT executor_id, type, status, extract(epoch FROM finished_at - started_at)::float8 AS seconds"
        " FROM jobs WHERE finished_at >= now() - make_interval(secs => %s) AND started_at IS NOT NULL"
        " ORDER BY finished_at",
        (float(window_s),),
    ).fetchall()


def oldest_queued_age_seconds(conn: psycopg.Connection) -> list[dict]:
    """Per executor, the age of its oldest queued job: a stalled runner shows up here first."""
    return conn.execute(
        "SELECT executor_id, extract(epoch FROM now() - min(created_at))::float8 AS seconds FROM jobs"
        " WHERE status = 'queued' GROUP BY 1 ORDER BY 1"
    ).fetchall()


def histogram(values: list[float], buckets: tuple[float, ...] = DURATION_BUCKETS) -> dict:
    """Cumulative bucket counts, sum and count, the shape a Prometheus histogram exposes."""
    counts = {b: sum(1 for v in values if v <= b) for b in buckets}
    return {"buckets": counts, "count": len(values), "sum": float(sum(values))}
