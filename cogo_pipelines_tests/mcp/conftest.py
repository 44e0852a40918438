"""The sample indexed once per module into its own database (by the real `cogo index`, no
embeddings: keyword search answers, and no model is loaded), with one failed Q1 gate run, and
the checks every transport must pass, asked through the SDK's real client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from cogo_pipelines_tests.conftest import SAMPLE_REPO, TEMPLATE_DB

COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]
TOOLS = {"search", "symbol", "callers", "callees", "call_path", "impact", "module_graph", "gate_status"}


@dataclass
class IndexedStore:
    url: str
    home: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.url, "COGO_HOME": str(self.home), "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def indexed_store(pg_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexedStore]:
    name = "m_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    store = IndexedStore(pg_server.get_uri(name), tmp_path_factory.mktemp("cogo_home"))
    indexed = subprocess.run([*COGO, "index", str(SAMPLE_REPO), "--no-embed", "--json"], env=store.env(),
                             capture_output=True, text=True, timeout=300, check=False)
    assert indexed.returncode == 0, indexed.stderr
    gate = subprocess.run([*COGO, "gate", "q1"], env=store.env(), capture_output=True, text=True, timeout=120,
                          check=False)
    assert gate.returncode == 1, gate.stderr  # no quality jobs yet: a failed run with its gate_fix
    yield store
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def answer(result) -> dict:
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


def error_text(result) -> str:
    assert result.is_error, result.content[0].text
    text = result.content[0].text
    assert "Traceback" not in text
    return text


async def check_every_tool(session) -> None:
    """Every tool and resource against the indexed sample, then bad input, then still alive."""
    listed = await session.list_tools()
    assert {t.name for t in listed.tools} == TOOLS
    schemas = {t.name: t.input_schema for t in listed.tools}
    assert schemas["search"]["properties"]["k"]["maximum"] == 50 and schemas["search"]["required"] == ["query"]
    assert set(schemas["call_path"]["required"]) == {"source", "target"}
    assert all(t.annotations.read_only_hint for t in listed.tools)

    found = answer(await session.call_tool("search", {"query": "computeLeaseExpiry", "k": 3}))
    assert len(found["results"]) == 3
    top = found["results"][0]
    assert "lease" in top["matched"] and "note" not in found  # the query's words each hit holds
    assert (top["path"], top["symbol"], top["lines"]) == ("src/core/lease.ts", "computeLeaseExpiry", "13-17")
    assert "computeLeaseExpiry(nowMs" in top["snippet"] and "repo" not in top  # one repo: not repeated
    markdown = answer(await session.call_tool("search", {"query": "lease heartbeat", "k": 3, "kind": "markdown"}))
    assert markdown["results"] and all(r["kind"] == "markdown" for r in markdown["results"])
    assert markdown["results"][0]["path"].startswith("docs/")

    sym = answer(await session.call_tool("symbol", {"name_or_id": "computeLeaseExpiry"}))
    assert (sym["path"], sym["lines"], sym["kind"]) == ("src/core/lease.ts", "14-17", "function")
    assert sym["signature"].startswith("function computeLeaseExpiry(nowMs: number")
    assert sym["doc"] == "Absolute expiry time (epoch ms) of a lease taken at `nowMs`."
    assert "return nowMs + leaseSeconds * 1000;" in sym["source"] and "/**" not in sym["source"]
    cls = answer(await session.call_tool("symbol", {"name_or_id": "src/queue/memoryStore.ts:InMemoryJobStore"}))
    assert cls["kind"] == "class" and any(m.startswith("claimNext (method)") for m in cls["members"])
    by_id = answer(await session.call_tool("symbol", {"name_or_id": sym["id"]}))
    assert by_id["name"] == "computeLeaseExpiry"
    sql = answer(await session.call_tool("symbol", {"name_or_id": "claim_job"}))  # a SQL object: chunks only
    assert (sql["path"], sql["kind"]) == ("supabase/sql/001_jobs.sql", "create function")
    assert "for update skip locked" in sql["source"]

    callers = answer(await session.call_tool("callers", {"symbol": "computeLeaseExpiry"}))
    assert {(c["symbol"], c["path"], c["confidence"]) for c in callers["callers"]} == {
        ("renewLease", "src/core/lease.ts", "certain"), ("JobQueue.claim", "src/queue/jobQueue.ts", "certain"),
        ("runSmoke", "src/scripts/smoke.ts", "certain")}
    through_interface = answer(await session.call_tool("callers", {"symbol": "InMemoryJobStore.update"}))
    maybe = {c["symbol"]: c for c in through_interface["callers"]}
    assert maybe["JobQueue.heartbeat"]["confidence"] == "maybe" and maybe["JobQueue.heartbeat"]["via"] == "JobStore.update"

    callees = answer(await session.call_tool("callees", {"symbol": "JobQueue.claim"}))
    assert {"symbol": "computeLeaseExpiry", "path": "src/core/lease.ts", "line": 14, "confidence": "certain"} \
        in callees["callees"]
    assert "Date.now" in callees["outside_repo"]

    path = answer(await session.call_tool("call_path", {"source": "main", "target": "computeLeaseExpiry"}))
    assert [step["symbol"] for step in path["path"]] == [
        "main", "DevRunner.start", "DevRunner.tick", "JobQueue.claim", "computeLeaseExpiry"]
    assert path["certain"] is True and path["path"][0]["path"] == "src/index.ts"
    nowhere = answer(await session.call_tool("call_path", {"source": "computeLeaseExpiry", "target": "main",
                                                           "max_depth": 3}))
    assert nowhere["path"] is None and "3 calls" in nowhere["note"]
    backwards = answer(await session.call_tool("call_path", {"source": "computeLeaseExpiry", "target": "main"}))
    assert backwards["path"] is None and "there is one the other way, from main" in backwards["note"]

    impact = answer(await session.call_tool("impact", {"paths_or_symbols": ["src/core/lease.ts"]}))
    affected = {f["path"]: f for f in impact["affected_files"]}
    assert affected["src/queue/jobQueue.ts"]["depth"] == 1 and "JobQueue.claim" in affected["src/queue/jobQueue.ts"]["symbols"]
    assert "src/index.ts" in impact["entries_reached"] and "src/core/lease.ts" not in affected
    folder = answer(await session.call_tool("impact", {"paths_or_symbols": ["src/core"], "max_depth": 1}))
    assert {"src/core/lease.ts", "src/core/router.ts"} <= set(folder["changed"])
    assert "src/index.ts" in {f["path"] for f in folder["affected_files"]}

    modules = answer(await session.call_tool("module_graph", {"path": "src/queue/jobQueue.ts"}))
    assert {"path": "src/core/lease.ts", "kind": "import"} in modules["imports"]
    assert {"path": "src/index.ts", "kind": "import"} in modules["importers"]

    gate = answer(await session.call_tool("gate_status", {}))
    assert gate["q1"]["passed"] is False and gate["q1"]["threshold"] == pytest.approx(0.7)
    assert gate["gate_fix"]["id"] >= 1 and gate["gate_fix"]["url"].endswith(f"/api/gate-fix/{gate['gate_fix']['id']}")

    resources = {str(r.uri) for r in (await session.list_resources()).resources}
    assert {"cogo://repos", "cogo://stats"} <= resources
    repos = json.loads((await session.read_resource("cogo://repos")).contents[0].text)
    assert [(r["repo"], r["files"]) for r in repos] == [("cogo-sample", 35)]
    stats = json.loads((await session.read_resource("cogo://stats/cogo-sample")).contents[0].text)
    assert stats["chunks"] > 100 and stats["symbols"] > 100

    # bad input: one clear line each, and the server keeps answering
    assert "query is empty" in error_text(await session.call_tool("search", {"query": "   "}))
    assert "less than or equal to 50" in error_text(await session.call_tool("search", {"query": "lease", "k": 100000}))
    assert "unknown repo 'nope'; indexed: cogo-sample" in error_text(
        await session.call_tool("search", {"query": "lease", "repo": "nope"}))
    assert "did you mean: computeLeaseExpiry" in error_text(
        await session.call_tool("symbol", {"name_or_id": "computeLeaseExpiri"}))
    assert "no symbol 'nothingLikeThis'" in error_text(await session.call_tool("callers", {"symbol": "nothingLikeThis"}))
    assert "no indexed file 'src/none.ts'" in error_text(await session.call_tool("module_graph", {"path": "src/none.ts"}))
    assert "unknown kind" in error_text(await session.call_tool("search", {"query": "lease", "kind": "banana"}))
    error_text(await session.call_tool("impact", {"paths_or_symbols": []}))
    error_text(await session.call_tool("search", {"query": "x" * 5000}))
    # argument errors are one line naming the argument (they were pydantic's report: several
    # lines and a documentation URL); a boolean is no number; a NUL is bad input, not a store error
    for tool, arguments, named in [("search", {"query": "lease", "k": 51}, "k:"),
                                   ("search", {"query": "lease", "k": True}, "k:"),
                                   ("callers", {"symbol": "main", "limit": 100000}, "limit:"),
                                   ("call_path", {"source": "main"}, "target:"),
                                   ("search", {"query": "lease", "kind": "k" * 5000}, "kind:")]:
        text = error_text(await session.call_tool(tool, arguments))
        assert "\n" not in text and named in text and "pydantic" not in text and len(text) < 400, text
    assert "control characters" in error_text(await session.call_tool("symbol", {"name_or_id": "a\u0000b"}))
    # `file.ts:Name` with the file's name only, as agents write it
    short = answer(await session.call_tool("symbol", {"name_or_id": "lease.ts:computeLeaseExpiry"}))
    assert short["path"] == "src/core/lease.ts" and short["name"] == "computeLeaseExpiry"
    # a hub's importers are listed up to `limit`, with their count
    hub = answer(await session.call_tool("module_graph", {"path": "src/core/lease.ts", "limit": 1}))
    assert len(hub["importers"]) == 1 and hub["importers_total"] > 1
    assert answer(await session.call_tool("search", {"query": "lease", "k": 1}))["results"]
