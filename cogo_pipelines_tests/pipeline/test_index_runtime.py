"""`run_index` and Dagster's index chain give the same graph: runtime merge and rank included.

Also: every run is recorded in ``index_runs`` (the sidecar's duration metric reads it), and a
fresh process indexing an unchanged repo imports neither torch, sentence-transformers nor Dagster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from cogo_pipelines.indexing import ranking
from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import queries
from cogo_pipelines_tests.conftest import SAMPLE_REPO, TEMPLATE_DB

PROFILE = Path(__file__).parents[1] / "indexing" / "fixtures" / "cogo-sample-smoke.cpuprofile"
HEAVY = ("torch", "sentence_transformers", "transformers", "dagster")
GRAPH_SQL = (
    "SELECT path, qualified_name, kind, entry_weight, runtime_count, rank FROM ast_nodes"
    " ORDER BY path, qualified_name, kind, start_line"
)
RUNTIME_SQL = (
    "SELECT s.path || ':' || s.qualified_name AS caller, d.path || ':' || d.qualified_name AS callee,"
    " r.runtime_count, r.confidence FROM code_relationships r JOIN ast_nodes s ON s.id = r.src_id"
    " JOIN ast_nodes d ON d.id = r.dst_id WHERE r.kind = 'runtime' ORDER BY 1, 2"
)


def lease_symbols(conn) -> dict[str, dict]:
    rows = conn.execute(
        "SELECT qualified_name, entry_weight, runtime_count, rank FROM ast_nodes WHERE path = 'src/core/lease.ts'"
    )
    return {r["qualified_name"]: r for r in rows}


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    folder = tmp_path / "traces"
    folder.mkdir()
    shutil.copy(PROFILE, folder)
    return folder


@pytest.fixture
def dagster_graph(pg_server, traces: Path):
    """The Dagster chain's graph assets materialised on a database of their own."""
    import dagster as dg

    from cogo_pipelines.defs.knowledge import assets as knowledge_assets
    from cogo_pipelines.defs.knowledge.resources import CodeRepoResource
    from cogo_pipelines.defs.shared.resources import PostgresResource

    name = "dg_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    url = pg_server.get_uri(name)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("repos", ["cogo-sample"])
    result = dg.materialize(
        [knowledge_assets.source_files, knowledge_assets.static_graph, knowledge_assets.runtime_edges,
         knowledge_assets.ranked_graph],
        resources={"postgres": PostgresResource(database_url=url),
                   "code_repo": CodeRepoResource(repo_path=str(SAMPLE_REPO), trace_dir=str(traces))},
        partition_key="cogo-sample", instance=instance,
    )  # fmt: skip
    assert result.success
    runtime_meta = next(
        {k: v.value for k, v in e.event_specific_data.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.event_specific_data.materialization.asset_key.to_user_string() == "runtime_edges"
    )
    with psycopg.connect(url, row_factory=dict_row) as conn:
        yield conn, runtime_meta
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_run_index_merges_traces_and_ranks_as_the_dagster_chain_does(
    conn, sample_copy: Path, traces: Path, dagster_graph
):
    summary = index_run.run_index(conn, sample_copy, embed=False, trace_dir=traces)
    assert summary.trace_files == 1 and summary.runtime_edges > 0 and summary.runtime_symbols > 0
    assert summary.trace_warnings == [] and "runtime" in summary.seconds
    assert list(summary.seconds) == ["graph", "runtime", "chunk", "embed", "summary", "upsert"]

    lease = lease_symbols(conn)
    hit, cold = lease["computeLeaseExpiry"], lease["renewLease"]  # same file, same entry weight
    assert hit["runtime_count"] > 0 and cold["runtime_count"] == 0
    assert abs(cold["rank"] - ranking.ENTRY_SHARE * cold["entry_weight"]) < 1e-6
    assert hit["rank"] > cold["rank"]
    chunk = conn.execute(
        "SELECT rank FROM code_chunks WHERE path = 'src/core/lease.ts' AND symbol = 'computeLeaseExpiry'"
    ).fetchall()
    assert chunk and abs(chunk[0]["rank"] - hit["rank"]) < 1e-6

    dagster_conn, runtime_meta = dagster_graph  # the same store contents, row for row
    assert conn.execute(GRAPH_SQL).fetchall() == dagster_conn.execute(GRAPH_SQL).fetchall()
    assert conn.execute(RUNTIME_SQL).fetchall() == dagster_conn.execute(RUNTIME_SQL).fetchall()
    assert (summary.runtime_edges, summary.unknown_frames) == (
        runtime_meta["runtime_edges"], runtime_meta["unknown_frames"],
    )  # fmt: skip

    # Traces are a snapshot: with the folder gone, runtime data is cleared, quietly.
    shutil.rmtree(traces)
    again = index_run.run_index(conn, sample_copy, embed=False, trace_dir=traces)
    assert (again.trace_files, again.runtime_edges, again.trace_warnings) == (0, 0, [])
    hit = lease_symbols(conn)["computeLeaseExpiry"]
    assert hit["runtime_count"] == 0
    assert abs(hit["rank"] - ranking.ENTRY_SHARE * hit["entry_weight"]) < 1e-6


def test_a_trace_of_another_codebase_is_a_warning_not_a_failure(conn, sample_copy: Path, tmp_path: Path):
    folder = tmp_path / "other_traces"
    folder.mkdir()
    (folder / "broken.cpuprofile").write_text("<html>not a profile</html>")
    summary = index_run.run_index(conn, sample_copy, embed=False, trace_dir=folder)
    assert summary.runtime_edges == 0
    assert any("broken.cpuprofile: not JSON" in w for w in summary.trace_warnings)


def test_every_run_is_recorded_and_read_by_the_sidecar(conn, sample_copy: Path):
    assert queries.last_index_duration(conn) is None
    first = index_run.run_index(conn, sample_copy, embed=False)
    index_run.run_index(conn, sample_copy, embed=False)
    rows = conn.execute(
        "SELECT repo, started_at, finished_at, seconds, summary FROM index_runs ORDER BY id"
    ).fetchall()
    assert len(rows) == 2 and {r["repo"] for r in rows} == {"cogo-sample"}
    assert all(r["finished_at"] >= r["started_at"] and r["seconds"] > 0 for r in rows)
    assert rows[0]["summary"]["files"] == first.files == 35
    assert rows[1]["summary"]["parsed"] == 0 and "runtime_edges" in rows[1]["summary"]
    last = queries.last_index_duration(conn)
    assert last["repo"] == "cogo-sample" and last["seconds"] > 0


def test_cli_on_an_unchanged_repo_imports_no_model_and_no_dagster(seeded_conn, sample_copy: Path):
    index_run.run_index(seeded_conn, sample_copy)  # every vector from the cache: nothing left to embed
    script = (
        "import json, sys\n"
        "from cogo_pipelines.cli import app\n"
        f"app(['index', {str(sample_copy)!r}, '--json'], standalone_mode=False)\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary_line, heavy_line = done.stdout.strip().splitlines()[-2:]
    summary = json.loads(summary_line)
    assert (summary["parsed"], summary["embedded"], summary["trace_files"]) == (0, 0, 0)
    assert json.loads(heavy_line) == []
    assert "Loading weights" not in done.stderr
