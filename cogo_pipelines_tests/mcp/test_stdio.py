"""`cogo mcp` as an agent runs it: a subprocess spoken to over stdin/stdout by the SDK's client."""

from __future__ import annotations

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from cogo_pipelines_tests.mcp.conftest import COGO, check_every_tool


def test_cogo_mcp_over_stdio_answers_every_tool(indexed_store):
    params = StdioServerParameters(command=COGO[0], args=[*COGO[1:], "mcp"], env=indexed_store.env())

    async def session() -> None:
        with anyio.fail_after(120):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
                info = await client.initialize()
                assert info.server_info.name == "cogo" and "search(query)" in info.instructions
                await check_every_tool(client)

    anyio.run(session)


def test_making_the_server_leaves_the_process_logging_alone(monkeypatch):
    """The SDK calls logging.basicConfig with a rich handler when a server is made; a sidecar
    started by uvicorn alone (no handler yet) would log in its format from then on."""
    import logging
    from contextlib import nullcontext

    from cogo_pipelines.mcp.tools import build_server

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.ERROR)
    build_server(lambda: nullcontext(None))
    assert root.handlers == [] and root.level == logging.ERROR


def test_cogo_mcp_on_an_empty_or_unreachable_store_answers_with_errors(database_url, tmp_path):
    """Nothing indexed: each tool says so in one line. No database at all: the tools say the
    store is unavailable, and the server stays up to answer the next question."""
    import os
    import socket

    from cogo_pipelines_tests.mcp.conftest import error_text

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    stores = {"empty": database_url, "down": f"postgresql://cogo@127.0.0.1:{closed}/cogo?connect_timeout=2"}

    async def ask(url: str) -> list[str]:
        env = {**os.environ, "DATABASE_URL": url, "COGO_HOME": str(tmp_path / "home")}
        params = StdioServerParameters(command=COGO[0], args=[*COGO[1:], "mcp"], env=env)
        with anyio.fail_after(120):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                texts = [error_text(await client.call_tool("search", {"query": "lease"})),
                         error_text(await client.call_tool("callers", {"symbol": "computeLeaseExpiry"}))]
                assert len((await client.list_tools()).tools) == 8  # still serving
                return texts

    empty = anyio.run(ask, stores["empty"])
    assert "nothing is indexed yet; run `cogo index REPO` first" in empty[0]
    assert "no symbol 'computeLeaseExpiry'" in empty[1]
    down = anyio.run(ask, stores["down"])
    assert all("the store is unavailable" in text for text in down), down


def test_requests_written_before_stdin_closes_are_all_answered(indexed_store):
    """A script pipes its requests and closes stdin at once: the SDK ended the session at the
    end of stdin and cancelled the calls still running, so no tool answer came back."""
    import json
    import subprocess

    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "script", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "lease expiry"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "callers", "arguments": {"symbol": "computeLeaseExpiry"}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/list"},
    ]  # fmt: skip
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run([*COGO, "mcp"], input=stdin, capture_output=True, text=True, timeout=120,
                          env=indexed_store.env(), check=True)
    answers = {a["id"]: a for a in map(json.loads, done.stdout.splitlines())}
    assert sorted(answers) == [1, 2, 3, 4]
    assert "lease" in answers[2]["result"]["content"][0]["text"].lower()
    assert not answers[2]["result"]["isError"] and not answers[3]["result"]["isError"]
    assert len(answers[4]["result"]["tools"]) == 8


def test_a_line_that_is_not_a_message_gets_a_json_rpc_error_and_the_server_goes_on(indexed_store):
    """The SDK dropped such a line without a word (a client waited for ever for its answer):
    JSON-RPC says -32700 for a line that is not JSON, -32600 for JSON that is no message, with
    id null; the calls after it are answered as before."""
    import json
    import subprocess

    lines = [
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "script", "version": "0"}}}),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "{not json",
        json.dumps({"jsonrpc": "2.0", "id": 7, "method": 12}),
        json.dumps(["a", "batch"]),
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": "search", "arguments": {"query": "lease expiry"}}}),
    ]
    done = subprocess.run([*COGO, "mcp"], input="".join(line + "\n" for line in lines), capture_output=True,
                          text=True, timeout=120, env=indexed_store.env(), check=True)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    errors = [a for a in answers if a["id"] is None]
    assert [e["error"]["code"] for e in errors] == [-32700, -32600, -32600], answers
    assert errors[0]["error"]["message"].startswith("Parse error") and errors[0]["jsonrpc"] == "2.0"
    [search] = [a for a in answers if a["id"] == 2]
    assert not search["result"]["isError"] and "lease" in search["result"]["content"][0]["text"].lower()
    assert "Traceback" not in done.stderr
