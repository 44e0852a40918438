"""`cogo mcp` with the summary model on, as an agent runs it: over a store a plain `cogo index`
left without summary vectors, the server embeds them in the background and its search then
ranks with the file summary list (the same answer as the ranking computed here with the list)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from cogo_pipelines import settings
from cogo_pipelines.indexing import embedding
from cogo_pipelines.pipeline import knowledge_tools, summaries
from cogo_pipelines.store import db, file_summaries
from cogo_pipelines_tests.conftest import SAMPLE_REPO
from cogo_pipelines_tests.mcp.conftest import COGO, answer
from cogo_pipelines_tests.plugins.knowledge import BUILD_QUESTION, GivenSummaryModel

QUESTION = BUILD_QUESTION


def test_cogo_mcp_embeds_the_summaries_and_ranks_with_them(database_url, monkeypatch):
    monkeypatch.setenv("SUMMARY_MODEL", "minilm")
    settings.reload_settings()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    indexed = subprocess.run([*COGO, "index", str(SAMPLE_REPO), "--no-embed", "--json"], env=env,
                             capture_output=True, text=True, timeout=300, check=False)
    assert indexed.returncode == 0, indexed.stderr
    assert json.loads(indexed.stdout)["summaries_pending"] > 20
    key = summaries.model_key()
    params = StdioServerParameters(command=COGO[0], args=[*COGO[1:], "mcp"], env=env)
    with db.connect(database_url, autocommit=True) as conn:
        plain = knowledge_tools.search(conn, QUESTION, 5)

        async def session() -> dict:
            with anyio.fail_after(240):
                async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
                    await client.initialize()
                    first = answer(await client.call_tool("search", {"query": QUESTION, "k": 5}))
                    assert first["results"]  # answered at once, with or without the list
                    while not file_summaries.complete(conn, key, "cogo-sample"):
                        await anyio.sleep(0.2)
                    return answer(await client.call_tool("search", {"query": QUESTION, "k": 5}))

        started = time.monotonic()
        warm = anyio.run(session)
        vector = embedding.encode([QUESTION], model="minilm")[0].tolist()
        expected = knowledge_tools.search(conn, QUESTION, 5, summary=GivenSummaryModel(key, vector))
    assert expected != plain
    assert warm == expected, f"after {time.monotonic() - started:.1f} s"
