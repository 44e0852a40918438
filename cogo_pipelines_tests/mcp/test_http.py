"""/mcp on a real sidecar (uvicorn on a free loopback port) behind COGO_API_TOKEN: refused
without the token, every tool answered with it, through the SDK's streamable HTTP client."""

from __future__ import annotations

import anyio
import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from cogo_pipelines import settings as settings_module
from cogo_pipelines.server import create_app
from cogo_pipelines_tests.mcp.conftest import check_every_tool
from cogo_pipelines_tests.server.conftest import API_TOKEN, auth_headers, start_server, stop_server

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "probe", "version": "0"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture
def mcp_sidecar(indexed_store, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", indexed_store.url)
    monkeypatch.setenv("COGO_HOME", str(indexed_store.home))
    monkeypatch.setenv("COGO_API_TOKEN", API_TOKEN)
    settings = settings_module.reload_settings()
    server, thread, url = start_server(create_app(settings))
    try:
        yield url
    finally:
        stop_server(server, thread)
        monkeypatch.undo()
        settings_module.reload_settings()


def test_mcp_over_http_needs_the_token(mcp_sidecar):
    with httpx.Client(base_url=mcp_sidecar, timeout=30) as anonymous:
        refused = anonymous.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        wrong = anonymous.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **auth_headers("not-the-token")})
        assert wrong.status_code == 401
        accepted = anonymous.post("/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **auth_headers()})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["result"]["serverInfo"]["name"] == "cogo"
        # a page on another site cannot drive it from the operator's browser
        foreign = anonymous.post("/mcp", json=INITIALIZE,
                                 headers={**MCP_HEADERS, **auth_headers(), "Origin": "https://evil.example"})
        assert foreign.status_code == 403


def test_mcp_over_http_answers_every_tool(mcp_sidecar):
    async def session() -> None:
        with anyio.fail_after(120):
            async with httpx2.AsyncClient(headers=auth_headers(), timeout=30) as http, \
                    streamable_http_client(f"{mcp_sidecar}/mcp", http_client=http) as (read, write), \
                    ClientSession(read, write) as client:
                await client.initialize()
                await check_every_tool(client)

    anyio.run(session)
