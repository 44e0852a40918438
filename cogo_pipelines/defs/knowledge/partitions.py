"""One partition of the knowledge assets per indexed repository (its ``repo`` name).

A partition is added by ``cogo index`` (``pipeline/dagster_events``) or in the UI; its repo
folder is the configured ``code_repo`` when that is the repo of the partition, else the root
the partition's last ``source_files`` materialisation recorded (every ``cogo index`` records
it). So ``dagster asset materialize --partition NAME`` re-indexes any repo indexed once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from cogo_pipelines.defs.knowledge.resources import CodeRepoResource
from cogo_pipelines.pipeline.dagster_events import REPO_PARTITIONS, ROOT_KEY, TRACES_KEY

repo_partitions = dg.DynamicPartitionsDefinition(name=REPO_PARTITIONS)


@dataclass(frozen=True)
class RepoTarget:
    name: str
    root: Path


def latest_metadata(instance: dg.DagsterInstance, asset: str | dg.AssetKey, partition: str | None) -> dict:
    """The metadata values of the asset's latest materialisation (of ``partition``, when given)."""
    key = dg.AssetKey.from_coercible(asset)
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition is not None else None),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def recorded_root(instance: dg.DagsterInstance, name: str) -> Path | None:
    root = latest_metadata(instance, "source_files", name).get(ROOT_KEY)
    return Path(root) if root else None


def trace_dir_of(context: dg.AssetExecutionContext, name: str, code_repo: CodeRepoResource) -> Path:
    """The trace folder of repo partition ``name``: ``code_repo.trace_dir`` when set, else the one
    its last ``source_files`` recorded (``cogo index --traces DIR``), else the settings' default.
    A re-run of a partition read the default folder and so cleared the runtime counts its
    ``cogo index --traces`` had merged."""
    if code_repo.trace_dir:
        return Path(code_repo.trace_dir)
    recorded = latest_metadata(context.instance, "source_files", name).get(TRACES_KEY) \
        if context.has_partition_key else None
    return Path(recorded) if recorded else code_repo.traces()


def root_of(instance: dg.DagsterInstance, name: str, code_repo: CodeRepoResource) -> Path | None:
    """The folder of repo partition ``name``: the configured repo's when it is that repo, else the
    one its last ``source_files`` recorded."""
    if code_repo.repo() == name:
        return code_repo.root()
    return recorded_root(instance, name)


def repo_target(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
                code_repo: CodeRepoResource) -> RepoTarget:
    """The repo a step works on: its partition's, else the configured one."""
    if not context.has_partition_key:
        return RepoTarget(code_repo.repo(), code_repo.root())
    name = context.partition_key
    if code_repo.repo_path and code_repo.repo() != name:  # named for this run, but another repo's folder
        raise dg.Failure(f"code_repo.repo_path {code_repo.repo_path!r} is repo {code_repo.repo()!r}, but this run "
                         f"is for partition {name!r}: run partition {code_repo.repo()!r}, or leave repo_path unset")
    root = root_of(context.instance, name, code_repo)
    if root is None:
        raise dg.Failure(f"repo partition {name!r} has no known folder: index it once with `cogo index PATH` "
                         f"(with DAGSTER_HOME set), or set code_repo.repo_path to it")
    return RepoTarget(name, root)
