"""The API token, the browser session, the cross-origin guard and the body limits, against a
real uvicorn sidecar (and `cogo serve` for the bind rule)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from cogo_pipelines import settings as settings_module
from cogo_pipelines.commands.server import bind_refusal
from cogo_pipelines.server import auth, create_app
from cogo_pipelines_tests.server.conftest import API_TOKEN, SECRETS, start_server, stop_server

PROTECTED = ["/api/jobs", "/api/summary", "/api/search?q=x", "/api/openapi.json", "/dashboard/local",
             "/dashboard/search?q=lease", "/mcp", "/mcp/anything", "/api/no-such-route"]


def _json_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status"] == 401 and API_TOKEN not in response.text


def test_protected_routes_need_the_token(shared_sidecar):
    with shared_sidecar.anonymous() as http:
        for path in PROTECTED:
            _json_401(http.get(path))
        _json_401(http.post("/api/jobs", json={"type": "code.debug", "payload": {"command": "id"}}))
        _json_401(http.post("/mcp", json={"jsonrpc": "2.0", "method": "tools/list", "id": 1}))
        # Open: liveness and metrics (no secret, no source), and the login form.
        assert http.get("/healthz").status_code == 200
        assert http.get("/metrics").status_code == 200
        assert http.get("/login").status_code == 200
    with shared_sidecar.client() as http:
        assert http.get("/api/jobs").status_code == 200
        assert http.get("/dashboard/local").status_code == 200
        assert http.get("/mcp").status_code == 405  # authenticated; the MCP endpoint takes POST only


@pytest.mark.parametrize("authorization", [
    "", "Bearer", "bearer x", "Basic " + API_TOKEN, "Bearer " + API_TOKEN[:-1], "Bearer " + API_TOKEN + "x",
    "Bearer " + API_TOKEN.upper(), "Token " + API_TOKEN, "Bearer \u00e9\u00e8", "Bearer " + "A" * 10_000,
])
def test_wrong_tokens_are_401_never_500(shared_sidecar, authorization):
    with shared_sidecar.anonymous() as http:
        request = http.build_request("GET", "/api/summary")
        request.headers["Authorization"] = authorization.encode("latin-1").decode("latin-1")
        _json_401(http.send(request))


def test_bearer_scheme_is_case_insensitive(shared_sidecar):
    with shared_sidecar.anonymous() as http:
        assert http.get("/api/summary", headers={"Authorization": f"bearer {API_TOKEN}"}).status_code == 200


def test_browser_is_sent_to_login_and_the_session_cookie_works(shared_sidecar):
    with shared_sidecar.anonymous(follow_redirects=False) as http:
        page = http.get("/dashboard/local?x=1", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fdashboard%2Flocal%3Fx%3D1"
        link = http.get("/api/gate-fix/latest", headers={"Accept": "text/html,application/xhtml+xml"})
        assert link.status_code == 303 and link.headers["location"] == "/login?next=%2Fapi%2Fgate-fix%2Flatest"
        assert http.get("/api/gate-fix/latest", headers={"Accept": "*/*"}).status_code == 401
        wrong = http.post("/login", data={"token": "nope", "next": "/dashboard/local"})
        assert wrong.status_code == 401 and "cogo_session" not in wrong.cookies and "nope" not in wrong.text
        # An open redirect is not possible: next must be a local path.
        evil = http.post("/login", data={"token": API_TOKEN, "next": "//evil.example/"})
        assert evil.status_code == 303 and evil.headers["location"] == "/dashboard/local"
        set_cookie = evil.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=strict" in set_cookie and API_TOKEN.lower() not in set_cookie
        assert http.get("/api/summary").status_code == 200  # the cookie authenticates the browser's API reads
        http.post("/logout")
        _json_401(http.get("/api/summary"))


def test_forged_and_expired_cookies_are_refused(shared_sidecar):
    expired = auth.session_value(API_TOKEN, now=time.time() - auth.SESSION_SECONDS - 5)
    forged = auth.session_value("some-other-token-value")
    far = f"{int(time.time()) + 10**9}.{'0' * 64}"
    for value in (expired, forged, far, "garbage", "9" * 40 + ".x", ""):
        with shared_sidecar.anonymous(cookies={"cogo_session": value}) as http:
            _json_401(http.get("/api/summary"))
    with shared_sidecar.anonymous(cookies={"cogo_session": auth.session_value(API_TOKEN)}) as http:
        assert http.get("/api/summary").status_code == 200


def test_foreign_origin_cannot_change_state(shared_sidecar):
    body = {"type": "code.debug", "executor_id": "cogo-work", "payload": {"command": "true"}}
    with shared_sidecar.client() as http:
        for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Origin": shared_sidecar.url.replace("127.0.0.1", "localhost")}):
            refused = http.post("/api/jobs", json=body, headers=headers)
            assert refused.status_code == 403 and refused.json()["status"] == 403, headers
        # The login form is state-changing too.
        assert http.post("/login", data={"token": API_TOKEN}, headers={"Origin": "https://evil.example"}).status_code == 403
        # Its own pages and programs (no Origin) may; reads are not affected.
        assert http.post("/api/jobs", json=body, headers={"Origin": shared_sidecar.url}).status_code == 201
        assert http.post("/api/jobs", json=body).status_code == 201
        assert http.get("/api/jobs", headers={"Origin": "https://evil.example"}).status_code == 200


def test_bodies_are_bounded_on_every_route(shared_sidecar):
    big = b'{"type": "' + b"a" * 2_000_000 + b'"}'

    def chunks():
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    anon = {"Authorization": f"Bearer {SECRETS['SUPABASE_ANON_KEY']}", "apikey": SECRETS["SUPABASE_PUBLISHABLE_KEY"]}
    with shared_sidecar.client() as http:
        for path, headers in (("/api/jobs", {}), ("/functions/v1/router-select", anon),
                              ("/functions/v1/key-vault", anon), ("/login", {}), ("/api/summary", {}), ("/mcp", {})):
            for content in (big, chunks()):  # declared length, and chunked (no Content-Length)
                reply = http.post(path, content=content, headers={"Content-Type": "application/json", **headers})
                assert reply.status_code in (413, 405), (path, reply.status_code, reply.text[:200])
                assert reply.headers["content-type"].startswith("application/json")
        # router-select: a 900 KB task_type no longer comes back; a long one is a short 400.
        reply = http.post("/functions/v1/router-select", headers=anon, json={"task_type": "x" * 900_000})
        assert reply.status_code == 413 and len(reply.content) < 200
        reply = http.post("/functions/v1/router-select", headers=anon, json={"task_type": "x" * 5000})
        assert reply.status_code == 400 and "x" * 300 not in reply.text
        reply = http.post("/functions/v1/router-select", headers=anon, json={"task_type": "code.build.test"})
        assert reply.status_code == 200


@pytest.fixture
def tokenless_sidecar(database_url, monkeypatch):
    monkeypatch.delenv("COGO_API_TOKEN", raising=False)
    settings = settings_module.reload_settings()
    assert settings.api_token is None
    server, thread, url = start_server(create_app(settings))
    try:
        yield url
    finally:
        stop_server(server, thread)
        settings_module.reload_settings()


def test_without_a_token_only_loopback_hosts_are_served(tokenless_sidecar):
    with httpx.Client(base_url=tokenless_sidecar, timeout=30) as http:
        assert http.get("/api/summary").status_code == 200
        assert http.get("/api/summary", headers={"Host": "localhost:3100"}).status_code == 200
        # DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host.
        rebinding = http.get("/api/summary", headers={"Host": "evil.example:3100"})
        assert rebinding.status_code == 403 and rebinding.json()["status"] == 403
        assert http.get("/healthz", headers={"Host": "evil.example"}).status_code == 200
        # names that only start like a loopback address are DNS names an attacker can rebind
        for name in ("127.0.0.1.evil.example:3100", "127.attacker.example", "127.0.0.1.nip.io"):
            assert http.get("/api/summary", headers={"Host": name}).status_code == 403, name
            queued = http.post("/api/jobs", headers={"Host": name, "Origin": f"http://{name}"},
                               json={"type": "code.build.test", "executor_id": "cogo-work",
                                     "payload": {"command": "true"}})
            assert queued.status_code == 403, name
        for name in ("127.0.0.2:3100", "[::1]:3100", "app.localhost"):
            assert http.get("/api/summary", headers={"Host": name}).status_code == 200, name


def test_bind_rule():
    assert bind_refusal("127.0.0.1", None) is None
    assert bind_refusal("localhost", None) is None
    assert bind_refusal("::1", None) is None
    assert "without COGO_API_TOKEN" in bind_refusal("0.0.0.0", None)
    assert "without COGO_API_TOKEN" in bind_refusal("192.168.1.5", None)
    assert "shorter than" in bind_refusal("0.0.0.0", "short")
    assert bind_refusal("0.0.0.0", API_TOKEN) is None


@pytest.mark.parametrize("token", [None, "", "   ", "short"])
def test_cogo_serve_refuses_a_public_bind_without_a_token(tmp_path, token):
    env = {k: v for k, v in os.environ.items() if k != "COGO_API_TOKEN"}
    env["COGO_HOME"] = str(tmp_path)
    if token is not None:
        env["COGO_API_TOKEN"] = token
    started = subprocess.run([sys.executable, "-m", "cogo_pipelines.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
                             capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, check=False)
    assert started.returncode == 2
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cogo: error: "), started.stderr
    assert "Traceback" not in started.stderr
