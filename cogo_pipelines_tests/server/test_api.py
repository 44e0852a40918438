"""The REST API over real HTTP: reads of a seeded store, enqueue, and JSON 4xx errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from cogo_pipelines.pipeline import upkeep
from cogo_pipelines.store import index_runs
from cogo_pipelines_tests.server.seed import seed


@pytest.fixture
def seeded(sidecar, conn):
    return seed(conn)


def test_jobs_list_filter_and_detail(sidecar, seeded):
    with sidecar.client() as http:
        everything = http.get("/api/jobs").json()
        assert everything["total"] == 8 and len(everything["jobs"]) == 8
        assert [j["id"] for j in everything["jobs"]] == sorted(seeded["job_ids"], reverse=True)
        queued = http.get("/api/jobs", params={"status": "queued", "executor_id": "cogo-work"}).json()
        assert queued["total"] == 2 and {j["status"] for j in queued["jobs"]} == {"queued"}
        page = http.get("/api/jobs", params={"limit": 3, "offset": 3}).json()
        assert len(page["jobs"]) == 3 and page["offset"] == 3
        by_type = http.get("/api/jobs", params={"type": "plan.quality"}).json()
        assert by_type["total"] == 1 and by_type["jobs"][0]["duration_seconds"] == pytest.approx(0.4, abs=0.01)
        job = http.get(f"/api/jobs/{seeded['job_ids'][2]}").json()
        assert job["status"] == "failed" and job["error"].startswith("TypeError") and job["payload"] == {"seq": 2}


def test_a_job_list_bounds_each_payload_and_result_the_job_has_them_whole(sidecar, conn):
    """500 listed jobs with 1 MB payloads were a 300 MB answer (6 GB of server memory for eight
    readers); a list now shows a big payload or result as its size, and a result without its
    log tail (the job's own page has both)."""
    from cogo_pipelines.store import queries

    big = {"blob": "x" * (2 * queries.LISTED_FIELD_BYTES)}
    with sidecar.client() as http:
        created = http.post("/api/jobs", json={"type": "noop", "payload": big}).json()["job"]
    conn.execute("UPDATE jobs SET result = %s WHERE id = %s",
                 (json.dumps({"exit_code": 1, "log_tail": "y" * 60_000}), created["id"]))
    conn.commit()
    with sidecar.client() as http:
        [listed] = http.get("/api/jobs").json()["jobs"]
        whole = http.get(f"/api/jobs/{created['id']}").json()
    assert listed["payload"] == {"truncated": True, "bytes": len(json.dumps(big))}
    assert listed["result"] == {"exit_code": 1}
    assert whole["payload"] == big and len(whole["result"]["log_tail"]) == 60_000


def test_enqueue_routes_and_dedupes(sidecar, conn):
    with sidecar.client() as http:
        created = http.post("/api/jobs", json={"type": "code.build.test", "payload": {"command": "true"},
                                               "dedupe_key": "build-main"})
        assert created.status_code == 201, created.text
        job = created.json()["job"]
        assert job["executor_id"] == "cogo-work"  # router-select decided
        assert job["status"] == "queued" and job["payload"] == {"command": "true"}
        again = http.post("/api/jobs", json={"type": "code.build.test", "payload": {"command": "true"},
                                             "dedupe_key": "build-main"})
        assert again.status_code == 200 and again.json() == {"job": job, "deduplicated": True}
        plan = http.post("/api/jobs", json={"type": "plan.quality", "priority": 5}).json()["job"]
        assert plan["executor_id"] == "cogo-plan" and plan["priority"] == 5
        typo = http.post("/api/jobs", json={"type": "plan.qualty"})  # queued, with a warning
        assert typo.status_code == 201 and "cogo-plan runs 'plan.qualty' (it runs: noop, plan.quality" in typo.json()["warning"]
    rows = conn.execute("SELECT type, executor_id FROM jobs ORDER BY id").fetchall()
    assert [(r["type"], r["executor_id"]) for r in rows] == [("code.build.test", "cogo-work"),
                                                             ("plan.quality", "cogo-plan"), ("plan.qualty", "cogo-plan")]


def test_gate_snapshots_summary_index(sidecar, seeded, conn):
    with sidecar.client() as http:
        latest = http.get("/api/gate/latest").json()
        assert latest["score"] == pytest.approx(0.66) and latest["passed"] is False
        history = http.get("/api/gate/history", params={"limit": 3}).json()["runs"]
        assert [round(r["score"], 2) for r in history] == [0.66, 0.8, 0.75]
        assert http.get("/api/snapshots").json()["snapshots"][0]["q1"] == pytest.approx(0.66)
        summary = http.get("/api/summary").json()
        assert summary["jobs"] == {"queued": 2, "running": 1, "succeeded": 3, "failed": 1, "dead": 1}
        assert summary["index"]["symbols"] == 7
        assert summary["latest_gate_fix"]["url"].endswith(f"/api/gate-fix/{seeded['gate_fix_id']}")
        assert summary["store_upkeep_at"] is None  # no upkeep yet
        assert "Store upkeep (daily prune of expired history and unused caches): not run yet" in http.get(
            "/dashboard/local").text
        upkeep.run_upkeep(conn)
        done = datetime.fromisoformat(http.get("/api/summary").json()["store_upkeep_at"])
        assert abs((datetime.now(UTC) - done).total_seconds()) < 600
        assert f"Store upkeep (daily prune of expired history and unused caches): {done:%Y-%m-%d %H:%M}" in http.get(
            "/dashboard/local").text
        stats = http.get("/api/index/stats", params={"repo": "cogo-sample"}).json()
        assert (stats["files"], stats["symbols"], stats["edges"], stats["chunks"]) == (3, 7, 5, 4)
        assert http.get("/api/index/stats", params={"repo": "other"}).json()["files"] == 0
        index_runs.record_run(conn, "cogo-sample", datetime.now(UTC), 1.5, {})
        assert http.get("/api/index/stats").json()["last_index"]["repo"] == "cogo-sample"
        other = http.get("/api/index/stats", params={"repo": "other"}).json()
        assert other["files"] == 0 and other["last_index"] is None  # not the last run of another repo


def test_gate_fix_artifact(sidecar, seeded):
    with sidecar.client() as http:
        fix = http.get(f"/api/gate-fix/{seeded['gate_fix_id']}").json()
        assert fix["content"]["failing_jobs"][0]["id"] == seeded["job_ids"][2]
        assert http.get("/api/gate-fix/latest").json()["id"] == seeded["gate_fix_id"]
        md = http.get(f"/api/gate-fix/{seeded['gate_fix_id']}", params={"format": "markdown"})
        assert md.headers["content-type"].startswith("text/markdown") and "Q1 0.660" in md.text and "npm test" in md.text


def test_links_never_come_from_the_host_header(sidecar, seeded):
    """Any client chooses its Host header: ``Host: evil.example`` made the dashboard, the summary,
    the gate_fix page, the OpenAPI servers and a trailing-slash redirect point at that host.
    Links are relative, or start with PUBLIC_BASE_URL when it is configured."""
    fix_id = seeded["gate_fix_id"]
    evil = {"Host": "evil.example"}
    with sidecar.client(headers=evil) as http:
        pages = {path: http.get(path, headers=headers) for path, headers in [
            ("/dashboard/local", {}), ("/api/summary", {}), ("/api/openapi.json", {}),
            (f"/api/gate-fix/{fix_id}", {"Accept": "text/html"}), ("/api/jobs/", {}), ("/healthz/", {})]}
        assert http.get("/api/summary").json()["latest_gate_fix"]["url"] == f"/api/gate-fix/{fix_id}"
        assert "servers" not in http.get("/api/openapi.json").json()  # OpenAPI: "/" of the document's host
    for path, reply in pages.items():
        assert reply.status_code < 500 and "evil.example" not in reply.text + str(reply.headers), path
    assert pages["/api/jobs/"].status_code == 404 and pages["/api/jobs/"].json()["status"] == 404
    assert f'href="/api/gate-fix/{fix_id}"' in pages["/dashboard/local"].text

    from cogo_pipelines.server import create_app
    from cogo_pipelines_tests.server.conftest import auth_headers, start_server, stop_server

    public = "https://cogo.example.com/"
    server, thread, url = start_server(create_app(sidecar.settings.model_copy(update={"public_base_url": public})))
    try:
        with httpx.Client(base_url=url, timeout=30, headers={**evil, **auth_headers()}) as http:
            assert http.get("/api/summary").json()["latest_gate_fix"]["url"] == (
                f"https://cogo.example.com/api/gate-fix/{fix_id}")
            assert http.get("/api/openapi.json").json()["servers"] == [{"url": "https://cogo.example.com"}]
            page = http.get(f"/api/gate-fix/{fix_id}", headers={"Accept": "text/html"}).text
            assert f'href="https://cogo.example.com/api/gate-fix/{fix_id}?format=json"' in page
            assert "evil.example" not in page
    finally:
        stop_server(server, thread)


def test_weekly_payload(sidecar, seeded):
    with sidecar.client() as http:
        response = http.get("/api/notify/weekly")
    assert response.status_code == 200, response.text
    assert "Q1" in response.json()["text"]


def test_search_on_an_empty_index_is_a_clear_409(sidecar):
    with sidecar.client() as http:
        response = http.get("/api/search", params={"q": "lease renewal"})
    assert response.status_code == 409
    assert "cogo index" in response.json()["error"]


def test_search_reads_vectors_beside_keywords_and_answers_as_the_store_does(sidecar, seeded_conn, sample_repo_path):
    """The sidecar lends a spare pool connection for the vector read; its answer is the one
    ``knowledge.search`` gives on a single connection."""
    from cogo_pipelines.pipeline import index_run
    from cogo_pipelines.store import knowledge

    index_run.run_index(seeded_conn, sample_repo_path)
    seeded_conn.commit()
    for query in ("exponential backoff with jitter for retries", "qqzzxv wibblequark"):
        # first in-process: the static model is made in this test's COGO_HOME before the request
        expected = knowledge.search(seeded_conn, query, k=5, repo="cogo-sample")
        with sidecar.client() as http:
            response = http.get("/api/search", params={"q": query, "k": 5, "repo": "cogo-sample"})
        assert response.status_code == 200, response.text
        assert [(h["path"], h["start_line"]) for h in response.json()["hits"]] == [
            (h.path, h.start_line) for h in expected
        ] and expected


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "needle"), [
    ("GET", "/api/jobs", {"params": {"status": "sleeping"}}, 400, "status must be one of"),
    ("GET", "/api/jobs", {"params": {"limit": "ten"}}, 400, "limit must be an integer"),
    ("GET", "/api/jobs", {"params": {"limit": "\u0665"}}, 400, "limit must be an integer"),  # an Arabic-Indic 5
    ("GET", "/api/jobs", {"params": {"limit": " 5"}}, 400, "limit must be an integer"),
    ("GET", "/api/jobs", {"params": {"limit": 0}}, 400, "between"),
    ("GET", "/api/jobs", {"params": {"executor_id": "bad id!"}}, 400, "executor_id must be"),
    ("GET", "/api/jobs/abc", {}, 400, "positive integer"),
    ("GET", "/api/jobs/99999999999999999999999", {}, 404, "no such id"),
    ("GET", "/api/jobs/424242", {}, 404, "no job 424242"),
    ("GET", "/api/gate/latest", {}, 404, "has not run yet"),
    ("GET", "/api/gate-fix/77", {}, 404, "no gate_fix artifact 77"),
    ("GET", "/api/gate-fix/1", {"params": {"format": "pdf"}}, 400, "format must be"),
    ("GET", "/api/search", {}, 400, "'q' is required"),
    ("GET", "/api/search", {"params": {"q": "x", "k": 1000}}, 400, "k must be between"),
    ("GET", "/api/nowhere", {}, 404, "no route for /api/nowhere"),
    ("DELETE", "/api/jobs", {}, 405, "not allowed"),
    ("POST", "/api/jobs", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400,
     "not valid JSON"),
    ("POST", "/api/jobs", {"content": b"type=x", "headers": {"content-type": "text/plain"}}, 415, "application/json"),
    ("POST", "/api/jobs", {"json": []}, 400, "JSON object"),
    ("POST", "/api/jobs", {"json": {"type": "code.build.test", "payload": {"x": "a" * 1_100_000}}}, 413, "larger"),
    ("POST", "/api/jobs", {"json": {}}, 400, "type is required"),
    ("POST", "/api/jobs", {"json": {"type": "code.build.test", "payload": [1]}}, 400, "payload must be"),
    ("POST", "/api/jobs", {"json": {"type": "noop", "priority": "high"}}, 400, "priority must be"),
    ("POST", "/api/jobs", {"json": {"type": "noop", "executor_id": "nobody"}}, 400, "unknown executor"),
    ("POST", "/api/jobs", {"json": {"type": "code.build.test", "payload": {"command": "true", "timeout_s": 1e308}}},
     400, "payload.timeout_s must be"),
    ("POST", "/api/jobs", {"json": {"type": "code.build.test", "payload": {"x": "a\u0000b"}}}, 400, "NUL"),
    ("POST", "/api/jobs", {"content": b'{"type": "x", "priority": NaN}',
                           "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
])
def test_errors_are_json_4xx(shared_sidecar, method, path, kwargs, status, needle):
    with shared_sidecar.client() as http:
        response = http.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and needle in body["error"]


def test_every_response_tells_browsers_not_to_sniff_or_frame_it(sidecar):
    """A stored <script> served as text/markdown could be sniffed into HTML, and any site could
    frame the dashboard: every answer, error or not, now says no to both."""
    from cogo_pipelines.server.headers import SECURITY_HEADERS

    with sidecar.client() as http:
        replies = [http.get(path) for path in ("/healthz", "/metrics", "/api/summary", "/dashboard/local",
                                               "/api/nothing-here", "/api/gate-fix/latest?format=markdown")]
    with httpx.Client(base_url=sidecar.url, timeout=30) as anonymous:
        replies.append(anonymous.get("/api/summary"))  # 401
    for reply in replies:
        for name, value in SECURITY_HEADERS:
            assert reply.headers.get(name.decode()) == value.decode(), (reply.url, reply.status_code, name)
