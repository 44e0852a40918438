"""The local edge functions over real HTTP: Supabase-style auth, router-select, key-vault."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from cogo_pipelines import settings as settings_module
from cogo_pipelines.edge.auth import edge_headers
from cogo_pipelines.edge.client import EdgeError, KeyVaultClient, RouterSelectClient
from cogo_pipelines.edge.router import RouteDecision
from cogo_pipelines_tests.server.conftest import SECRETS

ROUTER = "/functions/v1/router-select"
VAULT = "/functions/v1/key-vault"
GOOD = edge_headers(SECRETS["SUPABASE_ANON_KEY"], SECRETS["SUPABASE_PUBLISHABLE_KEY"])
PROVIDER_KEY = "sk-test-Qv9Rt3-PROVIDER-KEY-VALUE"


def cogo(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cogo_pipelines.cli", *args], check=False, input=stdin, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ))


@pytest.mark.parametrize("path", [ROUTER, VAULT])
@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": GOOD["Authorization"]},
    {"apikey": GOOD["apikey"]},
    {"Authorization": "Bearer wrong", "apikey": GOOD["apikey"]},
    {"Authorization": GOOD["Authorization"], "apikey": "wrong"},
    {"Authorization": GOOD["Authorization"].replace("Bearer", "Basic"), "apikey": GOOD["apikey"]},
    {"Authorization": f"Bearer {SECRETS['SUPABASE_PUBLISHABLE_KEY']}", "apikey": SECRETS["SUPABASE_ANON_KEY"]},
], ids=["none", "no-apikey", "no-bearer", "bad-bearer", "bad-apikey", "basic-scheme", "swapped"])
def test_edge_functions_require_both_keys(shared_sidecar, path, headers):
    with shared_sidecar.client() as http:
        response = http.post(path, json={"task_type": "code.build.test", "provider": "openai"}, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == 401 and body["error"]
    for secret in SECRETS.values():
        assert secret not in response.text


def test_edge_functions_are_off_without_configured_keys(monkeypatch, database_url, tmp_path):
    from cogo_pipelines.server import create_app
    from cogo_pipelines_tests.server.conftest import start_server, stop_server

    monkeypatch.delenv("SUPABASE_ANON_KEY", raising=False)
    monkeypatch.delenv("SUPABASE_PUBLISHABLE_KEY", raising=False)
    server, thread, url = start_server(create_app(settings_module.reload_settings()))
    try:
        response = httpx.post(url + ROUTER, json={"task_type": "x"}, headers={"Authorization": "Bearer x", "apikey": "x"})
        assert response.status_code == 401 and "SUPABASE_ANON_KEY" in response.json()["error"]
    finally:
        stop_server(server, thread)


def test_router_select(shared_sidecar):
    with shared_sidecar.client(headers=GOOD) as http:
        work = http.post(ROUTER, json={"task_type": "code.build.test"}).json()
        assert work["executor_id"] == "cogo-work" and set(work) == {"executor_id", "provider", "model", "reason"}
        assert http.post(ROUTER, json={"task_type": "plan.quality"}).json()["executor_id"] == "cogo-plan"
        pinned = http.post(ROUTER, json={"task_type": "code.debug", "hints": {"executor_id": "cogo-plan",
                                                                              "model": "m-1"}}).json()
        assert pinned["executor_id"] == "cogo-plan" and pinned["model"] == "m-1"
        for body, needle in (({}, "task_type"), ({"task_type": "x", "hints": [1]}, "hints")):
            bad = http.post(ROUTER, json=body)
            assert bad.status_code == 400 and needle in bad.json()["error"]


def test_router_select_reads_the_rules_table(sidecar, conn):
    conn.execute("INSERT INTO route_rules (pattern, executor_id, provider, model, priority) VALUES"
                 " ('code.*', 'cogo-work', NULL, NULL, 0),"
                 " ('code.review*', 'cogo-plan', 'openai', 'gpt-x', 10)")
    conn.commit()
    with sidecar.client(headers=GOOD) as http:
        review = http.post(ROUTER, json={"task_type": "code.review.pr"}).json()
        build = http.post(ROUTER, json={"task_type": "code.build.test"}).json()
        other = http.post(ROUTER, json={"task_type": "plan.quality"}).json()
    assert (review["executor_id"], review["provider"], review["model"]) == ("cogo-plan", "openai", "gpt-x")
    assert build["executor_id"] == "cogo-work"
    assert other["executor_id"] == "cogo-work" and "no rule matches" in other["reason"]  # table replaces defaults


def test_router_select_client_and_the_queue_use_the_function(shared_sidecar, conn, monkeypatch):
    with RouterSelectClient(shared_sidecar.url + ROUTER, SECRETS["SUPABASE_ANON_KEY"],
                            SECRETS["SUPABASE_PUBLISHABLE_KEY"]) as client:
        decision = client.select("quality.q1")
    assert isinstance(decision, RouteDecision) and decision.executor_id == "cogo-plan"
    with pytest.raises(EdgeError) as info, RouterSelectClient(shared_sidecar.url + ROUTER, "nope", "nope") as bad:
        bad.select("code.build.test")
    assert info.value.status == 401

    # The queue asks router-select over HTTP when ROUTER_SELECT_URL is set.
    from cogo_pipelines.queue import jobs

    monkeypatch.setenv("ROUTER_SELECT_URL", shared_sidecar.url + ROUTER)
    settings_module.reload_settings()
    before = _calls(shared_sidecar, ROUTER)
    job_id = jobs.enqueue(conn, "plan.quality")
    conn.commit()
    assert conn.execute("SELECT executor_id FROM jobs WHERE id = %s", (job_id,)).fetchone()["executor_id"] == "cogo-plan"
    assert _calls(shared_sidecar, ROUTER) == before + 1


def _calls(sidecar, route: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    with sidecar.client() as http:
        text = http.get("/metrics").text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "cogo_http_requests_total" and s.labels["route"] == route and s.labels["status"] == "200")


def test_key_vault_roundtrip_and_audit(sidecar, conn):
    stored = cogo("vault", "set", "openai", stdin=PROVIDER_KEY + "\n")
    assert stored.returncode == 0, stored.stderr
    assert PROVIDER_KEY not in stored.stdout + stored.stderr
    assert cogo("vault", "list").stdout.split() == ["openai"]
    cipher = bytes(conn.execute("SELECT ciphertext FROM vault_keys WHERE provider = 'openai'").fetchone()["ciphertext"])
    assert PROVIDER_KEY.encode() not in cipher  # encrypted at rest

    with KeyVaultClient(sidecar.url + VAULT, SECRETS["SUPABASE_ANON_KEY"], SECRETS["SUPABASE_PUBLISHABLE_KEY"],
                        actor="dev-pc-7") as client:
        assert client.get_key("openai") == PROVIDER_KEY
        with pytest.raises(EdgeError) as unknown:
            client.get_key("anthropic")
        assert unknown.value.status == 404
    with sidecar.client(headers=GOOD) as http:
        bad = http.post(VAULT, json={"provider": "../etc"})
        assert bad.status_code == 400
        response = http.post(VAULT, json={"provider": "openai"})
        assert response.headers["cache-control"] == "no-store"

    audit = conn.execute("SELECT provider, action, actor, claimed_actor, client_addr, outcome FROM vault_audit "
                         "ORDER BY id").fetchall()
    assert [(a["provider"], a["action"], a["outcome"]) for a in audit] == [
        ("openai", "set", "ok"), ("openai", "get", "ok"), ("anthropic", "get", "unknown_provider"),
        ("openai", "get", "ok")]
    assert audit[0]["actor"].startswith("cli:")
    # Who authenticated (the edge keys), not what the caller claims; the claim is kept apart.
    assert audit[1]["actor"] == "edge-keys (anon + publishable)" and audit[1]["client_addr"] == "127.0.0.1"
    assert audit[1]["claimed_actor"] == "dev-pc-7"
    dumped = repr(conn.execute("SELECT * FROM vault_audit").fetchall())
    assert PROVIDER_KEY not in dumped


def test_key_vault_without_master_key_is_503(monkeypatch, database_url):
    from cogo_pipelines.server import create_app
    from cogo_pipelines_tests.server.conftest import start_server, stop_server

    for name in ("SUPABASE_ANON_KEY", "SUPABASE_PUBLISHABLE_KEY"):
        monkeypatch.setenv(name, SECRETS[name])
    monkeypatch.delenv("VAULT_MASTER_KEY", raising=False)
    server, thread, url = start_server(create_app(settings_module.reload_settings()))
    try:
        response = httpx.post(url + VAULT, json={"provider": "openai"}, headers=GOOD)
        assert response.status_code == 503 and "VAULT_MASTER_KEY" in response.json()["error"]
        refused = cogo("vault", "set", "openai", stdin="k\n")
        assert refused.returncode == 2 and "VAULT_MASTER_KEY" in refused.stderr
    finally:
        stop_server(server, thread)
