"""The MCP face: the knowledge tools over stdio (``cogo mcp``) and streamable HTTP (``/mcp``)."""
