"""``cogo index`` keeps Dagster true: its run shows as materialisations of the repo's partition
(real subprocess, real store, a real Dagster instance under a temporary DAGSTER_HOME), and the
repo change sensor asks for a re-index exactly when the repo changed since."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from cogo_pipelines.defs.knowledge.resources import CodeRepoResource
from cogo_pipelines.defs.knowledge.sensors import repo_change_sensor
from cogo_pipelines.pipeline import dagster_events
from cogo_pipelines.pipeline.index_run import IndexSummary

COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]


def test_without_dagster_home_the_projects_own_instance_under_cogo_home_is_told(database_url, sample_copy: Path,
                                                                                tmp_path: Path):
    cogo_home = tmp_path / "cogo"
    (cogo_home / "dagster").mkdir(parents=True)  # made by `make run` / `make dagster`
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {"COGO_HOME": str(cogo_home)}
    done = subprocess.run([*COGO, "index", str(sample_copy), "--no-embed", "--json"], capture_output=True,
                          text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    instance = dg.DagsterInstance.from_config(str(cogo_home / "dagster"))
    try:
        assert instance.get_dynamic_partitions("repos") == [json.loads(done.stdout)["repo"]]
    finally:
        instance.dispose()
    env["COGO_HOME"] = str(tmp_path / "bare")  # no instance anywhere: nothing made, nothing told
    done = subprocess.run([*COGO, "index", str(sample_copy), "--no-embed", "--json"], capture_output=True,
                          text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0 and not (tmp_path / "bare" / "dagster").exists()


def test_cogo_index_registers_its_partition_and_materialisations(database_url, sample_copy: Path, tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run([*COGO, "index", str(sample_copy), "--no-embed", "--json"], capture_output=True,
                          text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert instance.get_dynamic_partitions("repos") == [summary["repo"]]
        graph = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("static_graph"), asset_partitions=[summary["repo"]]),
            limit=1).records[0].asset_materialization
        assert graph.partition == summary["repo"]
        assert graph.metadata["symbols"].value == summary["symbols"] > 0
        # the UI's row count, as a Dagster run of the asset reports it
        assert graph.metadata["dagster/row_count"] == dg.MetadataValue.int(summary["symbols"])
        assert graph.metadata["source"].value == "cogo index"
        files = instance.get_latest_materialization_event(dg.AssetKey("source_files")).asset_materialization
        assert files.metadata["root"].value == str(sample_copy.resolve())
        assert files.metadata["repo_state"].value.startswith(("git:", "files:"))
        # --no-embed: no vectors were made, so chunk_embeddings is not claimed up to date
        assert instance.get_latest_materialization_event(dg.AssetKey("chunk_embeddings")) is None
    finally:
        instance.dispose()


def test_without_dagster_home_nothing_is_reported(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert dagster_events.report_index_run(IndexSummary(repo="x"), tmp_path) == []


def test_repo_change_sensor_requests_a_run_only_after_a_change(sample_copy: Path):
    instance = dg.DagsterInstance.ephemeral()
    name = sample_copy.resolve().name
    reported = dagster_events.report_index_run(IndexSummary(repo=name), sample_copy, instance=instance)
    assert "source_files" in reported and instance.get_dynamic_partitions("repos") == [name]

    def tick():
        context = dg.build_sensor_context(instance=instance,
                                          resources={"code_repo": CodeRepoResource(repo_path="/nonexistent")})
        return repo_change_sensor(context)

    assert isinstance(tick(), dg.SkipReason)  # indexed as it is now
    (sample_copy / "src" / "core" / "lease.ts").write_text("export const changed = 1;\n")
    requests = tick()
    assert [r.partition_key for r in requests] == [name] and requests[0].run_key.startswith(f"repo-change-{name}-")
    assert isinstance(tick(), list)  # still changed: asked again, under the same run key (Dagster dedupes)
    assert repo_change_sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_the_change_sensor_sees_edits_in_a_repo_without_git_or_src(tmp_path: Path):
    """Outside git the state was the digest of the default policy's files: ``src/**``, which a
    repo without ``src/`` (a monorepo's ``packages/``) does not have, so its state was the empty
    digest for ever and the sensor never asked for a run."""
    from cogo_pipelines.pipeline.repo_state import repo_state

    root = tmp_path / "mono"
    (root / "packages" / "app").mkdir(parents=True)
    (root / "node_modules" / "dep").mkdir(parents=True)
    source = root / "packages" / "app" / "index.ts"
    source.write_text("export const a = 1;\n")
    before = repo_state(root)
    assert before == repo_state(root)  # stable while nothing changes
    (root / "node_modules" / "dep" / "index.js").write_text("module.exports = 1;\n")
    assert repo_state(root) == before  # dependencies are excluded
    source.write_text("export const a = 2;\n")
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 1_000_000_000))
    assert repo_state(root) != before
