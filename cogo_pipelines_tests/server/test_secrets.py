"""Configured secrets never leave the server: not in its log (debug level), /metrics, the
dashboard, REST responses, edge-function responses or the gate_fix artifacts — even when a
job's error text or a request URL carries one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cogo_pipelines.edge.auth import edge_headers
from cogo_pipelines_tests.server.conftest import SECRETS, auth_headers, free_socket
from cogo_pipelines_tests.server.seed import seed

PROVIDER_KEY = "sk-live-Xy4Fg7-PROVIDER-KEY-VALUE"


def _cogo(args: list[str], env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cogo_pipelines.cli", *args], check=False, input=stdin, capture_output=True,
                          text=True, timeout=180, env=env)


def test_no_secret_in_any_output(secret_env, database_url, conn, tmp_path):
    env = {**os.environ, "LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"}
    ids = seed(conn)
    leaky = f"npm test\nSUPABASE_SERVICE_ROLE_KEY={SECRETS['SUPABASE_SERVICE_ROLE_KEY']}\n" \
            f"vault={SECRETS['VAULT_MASTER_KEY']} Error: expected 1 to be 2 at src/queue/lease.ts:12"
    conn.execute("UPDATE jobs SET error = %s WHERE id = %s", (leaky, ids["job_ids"][2]))
    conn.commit()

    outputs: dict[str, str] = {}
    stored = _cogo(["vault", "set", "openai"], env, stdin=PROVIDER_KEY + "\n")
    assert stored.returncode == 0, stored.stderr
    outputs["vault set"] = stored.stdout + stored.stderr
    gate = _cogo(["gate", "q1"], env)
    assert gate.returncode == 1, gate.stdout + gate.stderr  # 2/3 < 0.70: fails and writes a gate_fix
    outputs["gate q1"] = gate.stdout + gate.stderr

    log_path = tmp_path / "serve.log"
    server, port = _serve(env, log_path)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, server)
        good = edge_headers(SECRETS["SUPABASE_ANON_KEY"], SECRETS["SUPABASE_PUBLISHABLE_KEY"])
        with httpx.Client(base_url=base, timeout=30) as anonymous:
            # Without the token (none, empty, wrong, the token in a query string): 401, the token nowhere.
            for name, headers in {"none": {}, "empty": {"Authorization": ""}, "bearer only": {"Authorization": "Bearer"},
                                  "wrong": {"Authorization": "Bearer " + SECRETS["COGO_API_TOKEN"][:-1]},
                                  "basic": {"Authorization": "Basic " + SECRETS["COGO_API_TOKEN"]}}.items():
                reply = anonymous.get("/api/jobs", headers=headers)
                assert reply.status_code == 401, (name, reply.text)
                outputs[f"401 {name}"] = _text(reply)
            reply = anonymous.get(f"/api/summary?token={SECRETS['COGO_API_TOKEN']}")
            assert reply.status_code == 401
            outputs["401 token in query"] = _text(reply)
            login = anonymous.post("/login", data={"token": SECRETS["COGO_API_TOKEN"], "next": "/dashboard/local"})
            assert login.status_code == 303 and "cogo_session" in login.cookies
            outputs["login"] = _text(login)
            outputs["login form"] = _text(anonymous.get("/login"))
            outputs["dashboard via cookie"] = _text(anonymous.get("/dashboard/local"))
            assert "<svg" in outputs["dashboard via cookie"]
        with httpx.Client(base_url=base, timeout=30, headers=auth_headers()) as http:
            for path in ["/healthz", "/api/summary", "/api/jobs", f"/api/jobs/{ids['job_ids'][2]}",
                         "/api/gate/latest", "/api/gate/history", "/api/snapshots", "/api/index/stats",
                         "/api/gate-fix/latest", "/api/gate-fix/latest?format=markdown", "/api/notify/weekly",
                         f"/api/search?q={SECRETS['SUPABASE_ANON_KEY']}", f"/api/{SECRETS['VAULT_MASTER_KEY']}",
                         f"/api/jobs?type={SECRETS['NEO4J_PASSWORD']}", "/api/openapi.json", "/dashboard/local"]:
                outputs[f"GET {path}"] = _text(http.get(path))
            enqueued = http.post("/api/jobs", json={"type": "code.debug", "executor_id": "cogo-work",
                                                    "payload": {"command": "true"}})
            assert enqueued.status_code == 201, enqueued.text
            outputs["enqueue"] = _text(enqueued)
            outputs["router-select"] = _text(http.post("/functions/v1/router-select", headers=good,
                                                       json={"task_type": "code.build.test"}))
            vault = http.post("/functions/v1/key-vault", headers={**good, "X-Cogo-Actor": "dev-pc-1"},
                              json={"provider": "openai"})
            assert vault.json()["key"] == PROVIDER_KEY
            for wrong in ({"Authorization": f"Bearer {SECRETS['SUPABASE_PUBLISHABLE_KEY']}",
                           "apikey": SECRETS["SUPABASE_ANON_KEY"]},
                          {"Authorization": f"Bearer {SECRETS['SUPABASE_SERVICE_ROLE_KEY']}", "apikey": "x"}):
                outputs[f"401 {wrong}"] = _text(http.post("/functions/v1/key-vault", headers=wrong,
                                                          json={"provider": "openai",
                                                                "master_key": SECRETS["VAULT_MASTER_KEY"]}))
            outputs["metrics"] = http.get("/metrics").text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    outputs["server log"] = log_path.read_text()
    artifacts = Path(os.environ["COGO_HOME"]) / "artifacts"
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in files) and any(p.suffix == ".md" for p in files)
    for path in files:
        outputs[f"artifact {path.name}"] = path.read_text()
    outputs["vault_audit"] = repr(conn.execute("SELECT * FROM vault_audit").fetchall())
    outputs["gate_fixes"] = repr(conn.execute("SELECT * FROM gate_fixes").fetchall())

    # The outputs are real: the log has access lines, the job's error survived (redacted).
    assert "GET /api/summary" in outputs["server log"]
    assert "[redacted]" in outputs[f"GET /api/jobs/{ids['job_ids'][2]}"]
    assert "no route for /api/[redacted]" in outputs[f"GET /api/{SECRETS['VAULT_MASTER_KEY']}"]
    assert "GET /api/[redacted]" in outputs["server log"]  # the access-log line, scrubbed
    assert "<svg" in outputs["GET /dashboard/local"] and "cogo_queue_jobs" in outputs["metrics"]
    leaks = [(where, name) for where, text in outputs.items() for name, value in
             [*SECRETS.items(), ("provider key", PROVIDER_KEY)] if value in text]
    assert leaks == [], f"secrets found in outputs: {leaks}"


def test_a_database_url_the_server_cannot_parse_is_not_quoted_with_its_password(tmp_path):
    """libpq quotes a URL it cannot parse whole (a misspelt scheme): the open /healthz answered
    the password to anyone, and the log kept it, since a URL setting was no secret."""
    password = "S3cretPW-audit-42"
    env = {**os.environ, "DATABASE_URL": f"postgress://cogo:{password}@127.0.0.1:5432/cogo",
           "COGO_API_TOKEN": SECRETS["COGO_API_TOKEN"], "COGO_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "serve.log"
    server, port = _serve(env, log_path)
    try:
        deadline, reply = time.monotonic() + 60, None
        while reply is None and time.monotonic() < deadline:
            assert server.poll() is None, log_path.read_text()
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert reply is not None and reply.status_code == 503
        assert "DATABASE_URL is not a connection string" in reply.json()["error"] and "\n" not in reply.json()["error"]
        api = httpx.get(f"http://127.0.0.1:{port}/api/summary", headers=auth_headers(), timeout=10)
        assert api.status_code == 503
        for text in (reply.text, api.text, httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text):
            assert password not in text
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    assert password not in log_path.read_text()


def _serve(env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    """``cogo serve`` on a free port, its output in ``log_path``."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "cogo_pipelines.cli", "serve", "--port", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
    return server, port


def _text(response: httpx.Response) -> str:
    return f"{response.status_code} {response.headers} {response.text}"


def _wait(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "cogo serve exited early"
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("cogo serve did not become healthy in 60 s")
