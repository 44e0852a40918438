"""The MCP server over streamable HTTP, mounted at ``/mcp`` on the sidecar.

Stateless JSON mode: every POST carries one JSON-RPC exchange and gets one JSON answer, so no
session lives in the process between calls and any sidecar replica can answer. Who may call is
the sidecar's business, settled before this app runs: ``server.auth`` guards ``/mcp`` with
``COGO_API_TOKEN`` (or, without a token, a loopback Host), and refuses cross-site browser
requests. The SDK's own Host/Origin check is therefore off: it would refuse the sidecar's
public name when it is served behind a token. Only POST is served: without sessions there is no
server-to-client stream for a GET to open (the SDK would hold it open for nothing), so any other
method is a 405.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.responses import JSONResponse

from cogo_pipelines.mcp.tools import Connections, build_server
from cogo_pipelines.store.knowledge import SummaryModel

PATH = "/mcp"


@dataclass
class McpEndpoint:
    app: Any  # an ASGI app: mount it as a Route at PATH
    server: Any

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run for the sidecar's lifetime (its lifespan): the SDK's request task group."""
        async with self.server.session_manager.run():
            yield


def endpoint(connections: Connections, summary: SummaryModel | None = None) -> McpEndpoint:
    server = build_server(connections, summary=summary)
    server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return McpEndpoint(_PostOnly(server.session_manager), server)


class _PostOnly:
    """The SDK's request handler for POST; a JSON 405 for every other method."""

    def __init__(self, session_manager: Any) -> None:
        self.session_manager = session_manager

    async def __call__(self, scope, receive, send) -> None:
        if scope.get("method") != "POST":
            response = JSONResponse({"error": "the MCP endpoint takes JSON-RPC over POST (stateless streamable "
                                              "HTTP)", "status": 405}, status_code=405, headers={"Allow": "POST"})
            await response(scope, receive, send)
            return
        await self.session_manager.handle_request(scope, receive, send)
