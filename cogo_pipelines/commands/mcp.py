"""``cogo mcp``: the MCP server over stdio (the agent starts it; docs/MCP.md)."""

from __future__ import annotations

import typer


def mcp() -> None:
    """MCP server over stdio: tools search, symbol, callers, callees, call_path, impact,
    module_graph, gate_status over the store (DATABASE_URL, else the embedded one)."""
    import sys

    from cogo_pipelines.store import db

    if (home := db.missing_store()) is not None:  # an agent started it in a folder with no store
        print(f"cogo mcp: no store in {home}; {db.NO_STORE_HINT} (docs/MCP.md)", file=sys.stderr)
        raise typer.Exit(1)
    from cogo_pipelines.mcp.stdio import serve_stdio

    serve_stdio()


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
