"""``cogo mcp``: the MCP server over stdio (the agent starts it; docs/MCP.md)."""

from __future__ import annotations

import typer


def mcp() -> None:
    """MCP server over stdio: tools search, symbol, callers, callees, call_path, impact,
    module_graph, gate_status over the store (DATABASE_URL, else the embedded one)."""
    from cogo_pipelines.mcp.stdio import serve_stdio

    serve_stdio()


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
