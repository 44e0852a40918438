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
