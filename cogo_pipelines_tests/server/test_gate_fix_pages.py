"""gate_fix over HTTP as people and programs get it: HTML for a browser, JSON for a client,
Markdown as text/markdown; a job's log; the summary links the gate_fix of the run it shows."""

from __future__ import annotations

import json

from cogo_pipelines import settings
from cogo_pipelines.quality.gate import evaluate_q1
from cogo_pipelines.quality.gate_fix import write_gate_fix
from cogo_pipelines_tests.quality.helpers import seed_jobs

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_gate_fix_is_html_for_browsers_json_for_programs(sidecar, conn, database_url):
    seed_jobs(database_url, succeeded=1, failed=2, error="<script>alert(1)</script> FAIL  t.ts > a > b\nError: x")
    fix = write_gate_fix(conn, evaluate_q1(conn))
    conn.commit()
    with sidecar.client() as http:
        page = http.get(f"/api/gate-fix/{fix['id']}", headers={"Accept": BROWSER})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f"gate_fix {fix['id']}" in page.text and "<script>alert" not in page.text  # escaped
        as_json = http.get(f"/api/gate-fix/{fix['id']}", headers={"Accept": "application/json"})
        assert as_json.headers["content-type"].startswith("application/json") and as_json.json()["id"] == fix["id"]
        assert http.get(f"/api/gate-fix/{fix['id']}").json()["id"] == fix["id"]  # no Accept: JSON
        md = http.get(f"/api/gate-fix/{fix['id']}", params={"format": "markdown"}, headers={"Accept": BROWSER})
        assert md.headers["content-type"].startswith("text/markdown") and md.text.startswith(f"# gate_fix {fix['id']}")
        assert http.get(f"/api/gate-fix/{fix['id']}", params={"format": "pdf"}).status_code == 400


def test_summary_links_the_gate_fix_of_the_run_it_shows(sidecar, conn, database_url):
    seed_jobs(database_url, succeeded=1, failed=2)
    old = write_gate_fix(conn, evaluate_q1(conn))
    newest = evaluate_q1(conn)
    conn.commit()
    with sidecar.client() as http:
        summary = http.get("/api/summary").json()
        assert summary["gate"]["id"] == newest.run_id and summary["latest_gate_fix"] is None  # not #old
        fix = write_gate_fix(conn, newest)
        conn.commit()
        summary = http.get("/api/summary").json()
        assert summary["latest_gate_fix"]["id"] == fix["id"] != old["id"]
        assert summary["latest_gate_fix"]["quality_run_id"] == newest.run_id
        page = http.get("/dashboard/local").text
        assert f'href="{summary["latest_gate_fix"]["url"]}"' in page


def test_job_log_is_served_from_the_artifacts_folder_only(sidecar, secret_env, conn, database_url):
    folder = settings.get_settings().artifacts_dir / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    (job_id,) = seed_jobs(database_url, failed=1)
    (folder / f"{job_id}.log").write_text(f"FAIL x\nsecret {secret_env['VAULT_MASTER_KEY']}\n")
    (other,) = seed_jobs(database_url, failed=1)
    conn.execute("UPDATE jobs SET result = %s WHERE id = %s", (json.dumps({"log": "/etc/passwd"}), other))
    conn.commit()
    with sidecar.client() as http:
        log = http.get(f"/api/jobs/{job_id}/log")
        assert log.status_code == 200 and log.text.startswith("FAIL x")
        assert secret_env["VAULT_MASTER_KEY"] not in log.text
        assert http.get(f"/api/jobs/{other}/log").status_code == 404
        assert http.get("/api/jobs/999999/log").status_code == 404
