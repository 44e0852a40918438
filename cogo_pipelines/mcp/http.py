"""The MCP server over streamable HTTP, mounted at ``/mcp`` on the sidecar.

Stateless JSON mode: every POST carries one JSON-RPC exchange and gets one JSON answer, so no
session lives in the process between calls and any sidecar replica can answer. Who may call is
the sidecar's business, settled before this app runs: ``server.auth`` guards ``/mcp`` with
``COGO_API_TOKEN`` (or, without a token, a loopback Host), and refuses cross-site browser
requests. The SDK's own Host/Origin check is therefore off: it would refuse the sidecar's
public name when it is served behind a token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings

from cogo_pipelines.mcp.tools import Connections, build_server

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


def endpoint(connections: Connections) -> McpEndpoint:
    server = build_server(connections)
    server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    from mcp.server.streamable_http_manager import StreamableHTTPASGIApp

    return McpEndpoint(StreamableHTTPASGIApp(server.session_manager), server)
