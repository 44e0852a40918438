"""The knowledge assets materialised in-process against the real embedded Postgres on the sample.

One database is indexed once for the module (the embedding model dominates the cost) and run
twice: the second run, through ``index_job`` with run config, must parse and embed nothing.
Bad input and a failing check get their own fresh databases and skip the embedding assets.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg.rows import dict_row

from cogo_pipelines import settings as settings_module
from cogo_pipelines.defs.knowledge import assets as knowledge_assets
from cogo_pipelines.defs.knowledge import checks as knowledge_checks
from cogo_pipelines.defs.knowledge import resources as knowledge_resources
from cogo_pipelines.defs.knowledge.resources import CodeRepoResource, EmbeddingModelResource, Neo4jResource
from cogo_pipelines.defs.shared import resources
from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.indexing import ranking
from cogo_pipelines_tests.conftest import SAMPLE_REPO, TEMPLATE_DB

PROFILE = Path(__file__).parents[2] / "indexing" / "fixtures" / "cogo-sample-smoke.cpuprofile"
ENTRIES = ["src/index.ts", "src/servers/metrics/index.ts", "src/scripts/distributed/orchestratorLive.ts"]
CHECKS = [
    knowledge_checks.import_specifiers_resolved,
    knowledge_checks.entries_present,
    knowledge_checks.no_orphan_relationships,
    knowledge_checks.every_chunk_embedded,
]
GRAPH_ONLY = [
    knowledge_assets.source_files,
    knowledge_assets.static_graph,
    knowledge_assets.runtime_edges,
    knowledge_assets.ranked_graph,
]
DEFS = dg.Definitions.merge(
    knowledge_assets.defs, knowledge_checks.defs, knowledge_resources.defs, resources.defs
)


REPO = "cogo-sample"  # the sample's partition


def partitioned_instance() -> dg.DagsterInstance:
    """An ephemeral instance holding the sample's repo partition (as ``cogo index`` adds it)."""
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("repos", [REPO])
    return instance


def meta(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in mat.metadata.items()}
    raise AssertionError(f"{asset} was not materialised")


def checks(result: dg.ExecuteInProcessResult) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def repo_resources(url: str, traces: Path, **repo) -> dict:
    return {
        "postgres": PostgresResource(database_url=url),
        "code_repo": CodeRepoResource(repo_path=str(SAMPLE_REPO), trace_dir=str(traces), **repo),
        "embedding_model": EmbeddingModelResource(),
        "neo4j": Neo4jResource(),
    }


@dataclass
class Indexed:
    url: str
    first: dg.ExecuteInProcessResult
    second: dg.ExecuteInProcessResult

    def rows(self, sql: str, *args) -> list[dict]:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            return conn.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def indexed(pg_server, tmp_path_factory):
    name = "pipe_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    url = pg_server.get_uri(name)
    home = tmp_path_factory.mktemp("pipeline_home")
    traces = home / "traces"
    traces.mkdir()
    shutil.copy(PROFILE, traces)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("COGO_HOME", str(home))
        mp.delenv("NEO4J_URI", raising=False)
        settings_module.reload_settings()
        instance = partitioned_instance()
        first = dg.materialize(
            knowledge_assets.KNOWLEDGE_ASSETS + CHECKS, resources=repo_resources(url, traces),
            partition_key=REPO, instance=instance,
        )
        # second run: the job as the CLI/UI runs it, repo and traces given as run config
        second = DEFS.resolve_job_def("index_job").execute_in_process(
            partition_key=REPO, instance=instance,
            run_config={
                "resources": {
                    "postgres": {"config": {"database_url": url}},
                    "code_repo": {"config": {"repo_path": str(SAMPLE_REPO), "trace_dir": str(traces)}},
                }
            }
        )
        yield Indexed(url, first, second)
    settings_module.reload_settings()
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.slow
def test_chain_materialises_with_counts_in_metadata(indexed):
    assert indexed.first.success and indexed.second.success
    counts = indexed.rows(
        "SELECT (SELECT count(*) FROM files) AS files, (SELECT count(*) FROM ast_nodes) AS nodes,"
        " (SELECT count(*) FROM code_relationships) AS edges, (SELECT count(*) FROM code_chunks) AS chunks,"
        " (SELECT count(*) FROM code_chunks WHERE embedding IS NOT NULL) AS embedded"
    )[0]
    assert counts["files"] == 35  # 29 .ts + 4 docs + 2 SQL under the default policy
    assert counts["chunks"] == counts["embedded"] > 100
    graph = meta(indexed.first, "static_graph")
    assert graph["files"] == 35 and graph["parsed"] == 29 and graph["symbols"] > 100
    assert meta(indexed.first, "code_chunks")["chunks"] == counts["chunks"]
    assert meta(indexed.first, "chunk_embeddings")["embedded"] > 0
    index = meta(indexed.first, "pgvector_index")
    assert index["chunks"] == index["embedded"] == counts["chunks"] and index["edges"] == counts["edges"]
    assert "rank" in meta(indexed.first, "ranked_graph")["top_symbols"]
    rows = {asset: meta(indexed.first, asset)["dagster/row_count"] for asset in
            ("code_chunks", "chunk_embeddings", "pgvector_index")}
    assert rows == {"code_chunks": counts["chunks"], "chunk_embeddings": counts["embedded"],
                    "pgvector_index": counts["embedded"]}
    neo4j = meta(indexed.first, "neo4j_links")
    assert neo4j == {"skipped": True, "reason": "NEO4J_URI is not set"}
    assert all(c.passed for c in checks(indexed.first).values()), {
        k: (c.passed, {m: v.value for m, v in c.metadata.items()}) for k, c in checks(indexed.first).items()
    }


@pytest.mark.slow
def test_second_run_parses_and_embeds_nothing(indexed):
    assert meta(indexed.second, "static_graph")["parsed"] == 0
    assert meta(indexed.second, "source_files")["unchanged"] == 35
    assert meta(indexed.second, "code_chunks")["rechunked_files"] == 0
    assert meta(indexed.second, "chunk_embeddings")["embedded"] == 0
    assert (
        meta(indexed.second, "runtime_edges")["runtime_edges"]
        == meta(indexed.first, "runtime_edges")["runtime_edges"]
    )
    assert set(checks(indexed.second)) == {c.check_key.name for c in CHECKS}
    runs = indexed.rows("SELECT repo, started_at, finished_at, seconds, summary FROM index_runs ORDER BY id")
    assert [r["summary"]["dagster_run_id"] for r in runs] == [indexed.first.run_id, indexed.second.run_id]
    assert all(r["repo"] == "cogo-sample" and r["finished_at"] > r["started_at"] and r["seconds"] > 0 for r in runs)


@pytest.mark.slow
def test_known_rows(indexed):
    claim = indexed.rows(
        "SELECT r.confidence FROM code_relationships r JOIN ast_nodes s ON s.id = r.src_id"
        " JOIN ast_nodes d ON d.id = r.dst_id WHERE r.kind = 'calls' AND s.path = 'src/queue/jobQueue.ts'"
        " AND s.qualified_name = 'JobQueue.claim' AND d.path = 'src/core/lease.ts'"
        " AND d.qualified_name = 'computeLeaseExpiry'"
    )
    assert [r["confidence"] for r in claim] == ["certain"]

    maybe = indexed.rows(
        "SELECT d.path FROM code_relationships r LEFT JOIN ast_nodes d ON d.id = r.dst_id"
        " WHERE r.src_path = 'src/queue/handlerRegistry.ts' AND r.kind = 'imports' AND r.confidence = 'maybe'"
    )
    assert {r["path"] for r in maybe} >= {"src/queue/handlers/buildHandler.ts"}

    weights = indexed.rows(
        "SELECT path, entry_weight FROM ast_nodes WHERE kind = 'file' AND path = ANY(%s)", ENTRIES
    )
    assert {r["path"]: r["entry_weight"] for r in weights} == dict.fromkeys(ENTRIES, 1.0)


@pytest.mark.slow
def test_committed_profile_adds_runtime_edges_and_raises_rank(indexed):
    edge = indexed.rows(
        "SELECT r.runtime_count, r.confidence FROM code_relationships r JOIN ast_nodes s ON s.id = r.src_id"
        " JOIN ast_nodes d ON d.id = r.dst_id WHERE r.kind = 'runtime'"
        " AND s.path = 'src/scripts/smoke.ts' AND s.qualified_name = 'runSmoke'"
        " AND d.path = 'src/core/lease.ts' AND d.qualified_name = 'computeLeaseExpiry'"
    )
    assert len(edge) == 1 and edge[0]["runtime_count"] > 0 and edge[0]["confidence"] == "observed"
    lease = {
        r["qualified_name"]: r
        for r in indexed.rows(
            "SELECT qualified_name, entry_weight, runtime_count, rank FROM ast_nodes WHERE path = 'src/core/lease.ts'"
        )
    }
    hit, cold = lease["computeLeaseExpiry"], lease["renewLease"]  # same file, same entry weight
    assert hit["entry_weight"] == cold["entry_weight"] and cold["runtime_count"] == 0
    assert abs(cold["rank"] - ranking.ENTRY_SHARE * cold["entry_weight"]) < 1e-6
    assert hit["rank"] > cold["rank"]
    chunk = indexed.rows(
        "SELECT rank FROM code_chunks WHERE path = 'src/core/lease.ts' AND symbol = 'computeLeaseExpiry'"
    )
    assert chunk and abs(chunk[0]["rank"] - hit["rank"]) < 1e-6
    top = meta(indexed.first, "ranked_graph")["top_symbols"]
    assert "selectExecutor" in top


def test_bad_input_warns_and_the_run_succeeds(database_url, tmp_path):
    traces = tmp_path / "traces"
    traces.mkdir()
    shutil.copy(PROFILE, traces)
    (traces / "broken.cpuprofile").write_text("<html>not a profile</html>")
    (traces / "other.cpuprofile").write_text(
        '{"nodes": [{"id": 1, "callFrame": {"functionName": "(root)", "url": "", "lineNumber": -1},'
        ' "children": [2]}, {"id": 2, "callFrame": {"functionName": "serve",'
        ' "url": "file:///srv/other-app/server.js", "lineNumber": 4}, "hitCount": 9}], "samples": [2, 2]}'
    )
    result = dg.materialize(
        GRAPH_ONLY + [knowledge_checks.entries_present],
        resources=repo_resources(database_url, traces, entries=[*ENTRIES, "src/does/not/exist.ts"]),
        partition_key=REPO, instance=partitioned_instance(),
    )
    assert result.success
    assert meta(result, "static_graph")["missing_entries"] == ["src/does/not/exist.ts"]
    runtime = meta(result, "runtime_edges")
    assert runtime["traces_used"] == [PROFILE.name] and runtime["runtime_edges"] > 0
    warnings = "\n".join(runtime["warnings"])
    assert "broken.cpuprofile: not JSON" in warnings and "other.cpuprofile" in warnings
    assert runtime["unknown_frames"] > 0
    entry_check = checks(result)["entries_present"]
    assert not entry_check.passed and entry_check.severity == dg.AssetCheckSeverity.WARN
    assert entry_check.metadata["missing"].value == ["src/does/not/exist.ts"]


def test_table_assets_report_dagster_row_count(database_url, tmp_path):
    """The UI shows an asset's row count from the standard ``dagster/row_count`` metadata: each
    asset that writes a table reports the rows the partition's table holds after the step."""
    result = dg.materialize(GRAPH_ONLY + [knowledge_assets.code_chunks],
                            resources=repo_resources(database_url, tmp_path), partition_key=REPO,
                            instance=partitioned_instance())
    assert result.success
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM ast_nodes WHERE repo = %(r)s) AS symbols,"
            " (SELECT count(*) FROM ast_nodes WHERE repo = %(r)s AND rank IS NOT NULL) AS ranked,"
            " (SELECT count(*) FROM code_relationships WHERE repo = %(r)s AND kind = 'runtime') AS runtime,"
            " (SELECT count(*) FROM code_chunks WHERE repo = %(r)s) AS chunks", {"r": REPO}).fetchone()
    row_counts = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        value = mat.metadata["dagster/row_count"]
        assert isinstance(value, dg.IntMetadataValue), (mat.asset_key, value)
        row_counts[mat.asset_key.to_user_string()] = value.value
    assert row_counts == {"source_files": 35, "static_graph": counts["symbols"], "runtime_edges": counts["runtime"],
                          "ranked_graph": counts["ranked"], "code_chunks": counts["chunks"]}
    assert min(row_counts.values()) >= 0 and counts["symbols"] > 100 and counts["chunks"] > 100


def test_failing_check_fails_visibly(database_url, tmp_path):
    instance = partitioned_instance()
    result = dg.materialize(
        GRAPH_ONLY[:2] + [knowledge_checks.import_specifiers_resolved],
        resources=repo_resources(database_url, tmp_path, min_resolved_ratio=1.01),
        instance=instance, partition_key=REPO,
    )
    evaluation = checks(result)["import_specifiers_resolved"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["bound"].value == 1.01
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [knowledge_checks.import_specifiers_resolved.check_key]
    )[knowledge_checks.import_specifiers_resolved.check_key]
    assert record.status.value == "FAILED"


@pytest.mark.slow
def test_dagster_cli_materializes_everything(indexed, tmp_path):
    """``dagster asset materialize --select '*'`` against the store the fixture indexed."""
    import os
    import subprocess
    import sys

    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    traces = tmp_path / "traces"
    traces.mkdir()
    shutil.copy(PROFILE, traces)
    env = {
        **os.environ,
        "DATABASE_URL": indexed.url,
        "DAGSTER_HOME": str(dagster_home),
        "COGO_HOME": str(tmp_path / "cogo_home"),
        "RUNTIME_TRACE_DIR": str(traces),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("NEO4J_URI", None)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    instance.add_dynamic_partitions("repos", [REPO])
    instance.dispose()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "--select", "*",
         "--partition", REPO, "-m", "cogo_pipelines.definitions"],
        cwd=SAMPLE_REPO.parents[1], env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        for asset in ("source_files", "static_graph", "runtime_edges", "ranked_graph", "code_chunks",
                      "chunk_embeddings", "pgvector_index", "neo4j_links"):  # fmt: skip
            assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None, asset
        embedded = instance.get_latest_materialization_event(dg.AssetKey("chunk_embeddings"))
        assert embedded.asset_materialization.metadata["embedded"].value == 0  # incremental through the CLI
        graph = instance.get_latest_materialization_event(dg.AssetKey("static_graph"))
        assert graph.asset_materialization.metadata["parsed"].value == 0
    finally:
        instance.dispose()


def test_resources_fall_back_to_settings_and_switch_the_model(monkeypatch, tmp_path):
    from cogo_pipelines.indexing import embedding

    monkeypatch.delenv("EMBEDDING_MODEL", raising=False)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("ENTRIES", "src/a.ts,src/b.ts")
    monkeypatch.setenv("RUNTIME_TRACE_DIR", str(tmp_path))
    settings_module.reload_settings()
    try:
        repo = CodeRepoResource(repo_path="examples/cogo-sample")
        assert repo.root() == SAMPLE_REPO.resolve() and repo.repo() == "cogo-sample"
        assert repo.entry_paths() == ["src/a.ts", "src/b.ts"] and repo.traces() == tmp_path
        before = embedding.model_key()
        with dg.build_resources({"model": EmbeddingModelResource(model="other-model")}) as built:
            # the resource uses its own model; the process-wide default is left alone
            assert built.model.key() == "other-model" == embedding.model_key("other-model")
            assert embedding.model_key() == before
        assert embedding.model_key() == before
        assert Neo4jResource().connection()["uri"] is None
    finally:
        settings_module.reload_settings()


def test_a_partition_keeps_the_trace_folder_and_a_relative_repo_path_works_from_anywhere(monkeypatch, tmp_path):
    """A partition re-run read the settings' trace folder and cleared the runtime counts that its
    ``cogo index --traces DIR`` had merged; and a relative ``repo_path`` was tried from
    ``cogo_pipelines/`` instead of the project root, so a run from another folder failed."""
    from cogo_pipelines.defs.knowledge.partitions import trace_dir_of
    from cogo_pipelines.pipeline import dagster_events
    from cogo_pipelines.pipeline.index_run import IndexSummary

    monkeypatch.setenv("RUNTIME_TRACE_DIR", str(tmp_path / "default-traces"))
    settings_module.reload_settings()
    try:
        instance = dg.DagsterInstance.ephemeral()
        own = tmp_path / "sample-traces"
        dagster_events.report_index_run(IndexSummary(repo="sample-tr", trace_dir=str(own)), SAMPLE_REPO,
                                        instance=instance)
        context = dg.build_asset_context(partition_key="sample-tr", instance=instance)
        assert trace_dir_of(context, "sample-tr", CodeRepoResource()) == own
        assert trace_dir_of(context, "sample-tr", CodeRepoResource(trace_dir=str(tmp_path))) == tmp_path
        other = dg.build_asset_context(partition_key=REPO, instance=instance)  # nothing recorded: the default
        assert trace_dir_of(other, REPO, CodeRepoResource()) == tmp_path / "default-traces"
        monkeypatch.chdir(tmp_path)
        assert CodeRepoResource(repo_path="examples/cogo-sample").root() == SAMPLE_REPO.resolve()
    finally:
        settings_module.reload_settings()


def test_a_repo_path_of_another_repo_than_the_partition_fails_the_run_clearly(tmp_path):
    """``repo_path`` naming another repo than the run's partition was ignored without a word: the
    partition's recorded folder was indexed instead."""
    from cogo_pipelines.defs.knowledge.partitions import repo_target

    instance = partitioned_instance()
    context = dg.build_asset_context(partition_key=REPO, instance=instance)
    other = tmp_path / "other-app"
    (other / "src").mkdir(parents=True)
    with pytest.raises(dg.Failure, match="is repo 'other-app', but this run is for partition 'cogo-sample'"):
        repo_target(context, CodeRepoResource(repo_path=str(other)))
    assert repo_target(context, CodeRepoResource(repo_path=str(SAMPLE_REPO))).root == SAMPLE_REPO.resolve()
