"""GET /metrics against a seeded store: the values come from the database, the text is valid
Prometheus exposition (promtool), and request metrics use route templates."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cogo_pipelines.server import metrics
from cogo_pipelines.server.metrics import StoreCollector
from cogo_pipelines.server.store import SidecarStore
from cogo_pipelines_tests.server.seed import seed


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_reflect_the_store(sidecar, conn):
    ids = seed(conn)
    with sidecar.client() as http:
        http.get(f"/api/jobs/{ids['job_ids'][0]}")
        http.get("/api/jobs/999999")
        response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    m = _samples(response.text)
    assert m[("cogo_store_up", ())] == 1
    assert m[("cogo_queue_jobs", (("executor_id", "cogo-work"), ("status", "queued")))] == 2
    assert m[("cogo_queue_jobs", (("executor_id", "cogo-plan"), ("status", "dead")))] == 1
    assert m[("cogo_queue_jobs", (("executor_id", "cogo-plan"), ("status", "queued")))] == 0
    # Durations: code.build.test succeeded in 12.5 s and 3 s.
    key = (("status", "succeeded"), ("type", "code.build.test"))
    assert m[("cogo_job_duration_seconds_count", key)] == 2
    assert m[("cogo_job_duration_seconds_sum", key)] == pytest.approx(15.5, abs=0.01)
    assert m[("cogo_job_duration_seconds_bucket", (("le", "5.0"),) + key)] == 1
    assert m[("cogo_job_duration_seconds_bucket", (("le", "+Inf"),) + key)] == 2
    assert m[("cogo_job_claims_total", (("executor_id", "cogo-work"),))] == 1 + 1 + 2 + 1
    assert m[("cogo_q1_score", ())] == pytest.approx(0.66)
    assert m[("cogo_q1_threshold", ())] == pytest.approx(0.7)
    assert m[("cogo_q1_gate_passed", ())] == 0
    for name, value in (("files", 3), ("symbols", 7), ("edges", 5), ("chunks", 4)):
        assert m[(f"cogo_index_{name}", (("repo", "cogo-sample"),))] == value
    # Route templates, never raw paths (bounded label cardinality).
    assert m[("cogo_http_requests_total", (("method", "GET"), ("route", "/api/jobs/{id}"), ("status", "200")))] == 1
    assert m[("cogo_http_requests_total", (("method", "GET"), ("route", "/api/jobs/{id}"), ("status", "404")))] == 1
    assert "999999" not in response.text
    assert any(name == "cogo_http_request_duration_seconds_bucket" for name, _ in m)
    assert ("cogo_store_upkeep_last_timestamp_seconds", ()) not in m  # no upkeep has run yet


def test_metrics_say_when_the_store_last_did_its_upkeep(sidecar, conn):
    from cogo_pipelines.pipeline import upkeep

    upkeep.run_upkeep(conn)
    done = conn.execute("SELECT extract(epoch FROM done_at) AS t FROM store_maintenance").fetchone()["t"]
    with sidecar.client() as http:
        m = _samples(http.get("/metrics").text)
    assert m[("cogo_store_upkeep_last_timestamp_seconds", ())] == pytest.approx(float(done), abs=0.001)
    assert abs(float(done) - time.time()) < 600


def test_job_types_clients_make_up_do_not_grow_the_series_without_bound(sidecar, conn):
    """A job's type is the enqueuer's text: 60 made-up types made 60 label sets of the duration
    histogram. The most run types keep their names, the rest are summed under one label."""
    from cogo_pipelines.store import queries

    conn.execute(
        "INSERT INTO jobs (type, executor_id, status, payload, started_at, finished_at)"
        " SELECT 'plan.made-up-' || i, 'cogo-plan', 'failed', '{}', now() - interval '2 s', now()"
        " FROM generate_series(1, 60) i")
    conn.execute(
        "INSERT INTO jobs (type, executor_id, status, payload, started_at, finished_at)"
        " SELECT 'code.build.test', 'cogo-work', 'succeeded', '{}', now() - interval '1 s', now()"
        " FROM generate_series(1, 5)")
    conn.commit()
    with sidecar.client() as http:
        families = {f.name: f for f in text_string_to_metric_families(http.get("/metrics").text)}
    types = {s.labels["type"] for s in families["cogo_job_duration_seconds"].samples}
    assert len(types) == queries.MAX_TYPE_LABELS + 1 and "code.build.test" in types and queries.OTHER_TYPES in types
    other = [s for s in families["cogo_job_duration_seconds"].samples
             if s.labels["type"] == queries.OTHER_TYPES and s.name.endswith("_count")]
    assert [s.value for s in other] == [60 - (queries.MAX_TYPE_LABELS - 1)]


def test_promtool_accepts_the_output(sidecar, conn, tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is required in CI (Debian package `prometheus`, installed by .ci/run)")
        pytest.skip("promtool not installed (apt-get install prometheus); CI=true makes this a failure")
    seed(conn)
    from cogo_pipelines.pipeline import upkeep

    upkeep.run_upkeep(conn)  # every family present, the upkeep's too
    with sidecar.client() as http:
        http.get("/api/summary")
        text = http.get("/metrics").text
    assert "cogo_store_upkeep_last_timestamp_seconds" in text
    result = subprocess.run([promtool, "check", "metrics"], check=False, input=text, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # promtool prints lint findings (naming, units) even with exit 0: we want none.
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr


def test_store_values_are_cached_briefly(database_url, conn, monkeypatch):
    """A scrape storm costs one set of queries per cache window; an expired cache is refreshed
    for the scrape that finds it so, which waits at most FRESH_WAIT_SECONDS for a slow store."""
    now = [100.0]
    from cogo_pipelines.settings import get_settings

    store = SidecarStore(get_settings())
    collector = StoreCollector(store, cache_seconds=2.0, clock=lambda: now[0])
    try:
        def queued() -> float:
            for family in collector.collect():
                if family.name == "cogo_queue_jobs":
                    return sum(s.value for s in family.samples if s.labels["status"] == "queued")
            return 0.0

        assert queued() == 0
        conn.execute("INSERT INTO jobs (type, executor_id) VALUES ('code.build.test', 'cogo-work')")
        conn.commit()
        now[0] += 1.0
        assert queued() == 0  # still cached
        now[0] += 1.5
        assert queued() == 1  # expired: refreshed for this scrape
        conn.execute("INSERT INTO jobs (type, executor_id) VALUES ('code.build.test', 'cogo-work')")
        conn.commit()
        real = metrics.read_store_snapshot

        def slow(store):
            time.sleep(2.0)
            return real(store)

        monkeypatch.setattr(metrics, "read_store_snapshot", slow)
        now[0] += 2.5
        started = time.monotonic()
        assert queued() == 1  # a slow store: the last values, without waiting for it
        assert time.monotonic() - started < 1.5
        collector.wait_for_refresh()
        assert queued() == 2
    finally:
        store.close()


def test_metrics_survive_an_unreachable_store(monkeypatch, tmp_path):
    """No database → /metrics still answers, with cogo_store_up 0 (never a 500)."""
    import httpx

    from cogo_pipelines.server import create_app
    from cogo_pipelines.settings import Settings
    from cogo_pipelines_tests.server.conftest import start_server, stop_server

    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", cogo_home=tmp_path)
    server, thread, url = start_server(create_app(settings))
    try:
        client = httpx.Client(base_url=url, timeout=30)
        response = client.get("/metrics")
        assert response.status_code == 200
        assert "cogo_store_up 0.0" in response.text
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == 503
        assert client.get("/api/summary").status_code == 503
        client.close()
    finally:
        stop_server(server, thread)
