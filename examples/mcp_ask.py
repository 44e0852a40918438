"""Ask `cogo mcp` one question the way an agent does, without an agent: start the server over
stdio with the MCP SDK's client, call one tool, print its answer (exit 1 on a tool error).

    python examples/mcp_ask.py search '{"query": "lease expiry", "k": 3}'
    python examples/mcp_ask.py callers '{"symbol": "computeLeaseExpiry"}'
    python examples/mcp_ask.py --list
"""

from __future__ import annotations

import json
import os
import sys

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def ask(tool: str | None, arguments: dict) -> int:
    server = StdioServerParameters(command=sys.executable,
                                   args=["-c", "from cogo_pipelines.cli import main; main()", "mcp"],
                                   env=dict(os.environ))
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        if tool is None:
            for t in (await session.list_tools()).tools:
                print(f"{t.name}: {' '.join((t.description or '').split()).split('. ')[0]}")
            return 0
        result = await session.call_tool(tool, arguments)
        print(result.content[0].text)
        return 1 if result.is_error else 0


def main() -> None:
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        sys.exit(anyio.run(ask, None, {}))
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    try:
        arguments = json.loads(sys.argv[2]) if len(sys.argv) == 3 else {}
    except json.JSONDecodeError as exc:
        sys.exit(f"arguments must be a JSON object: {exc}")
    sys.exit(anyio.run(ask, sys.argv[1], arguments))


if __name__ == "__main__":
    main()
