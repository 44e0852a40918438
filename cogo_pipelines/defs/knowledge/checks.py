"""Data-quality checks on the knowledge assets: each a single question asked of the store.

A failed ERROR check is red in the UI and in ``materialize()`` results; a WARN check (an entry
that does not exist) flags configuration, not broken data. Partitioned like the assets: each check
answers for the repo of its partition, from that partition's latest materialisation.
"""

import warnings

import dagster as dg

from cogo_pipelines.defs.knowledge.assets import chunk_embeddings, runtime_edges, static_graph
from cogo_pipelines.defs.knowledge.partitions import latest_metadata, repo_partitions, repo_target
from cogo_pipelines.defs.knowledge.resources import CodeRepoResource
from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.store import index_health


def _repo_check(**kwargs):
    """``dg.asset_check`` partitioned by repo, like the assets it checks.

    A check per partition (each repo's own verdict in the UI, not the last repo indexed) exists in
    Dagster 1.13 only as ``partitions_def`` on the check, a preview API with no stable equivalent:
    its PreviewWarning, and only it, is muted while the check is defined. Dagster's folder loader
    mutes it anyway; a direct import (tests, tools) printed it once per check.
    """
    def define(fn):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=dg.PreviewWarning,
                                    message="Specifying a partitions_def on an AssetCheckSpec")
            return dg.asset_check(partitions_def=repo_partitions, **kwargs)(fn)
    return define


def _latest_metadata(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> dict:
    partition = context.partition_key if context.has_partition_key else None
    return latest_metadata(context.instance, key, partition)


@_repo_check(asset=static_graph, description="Share of import specifiers resolved to a file >= the bound.")
def import_specifiers_resolved(context: dg.AssetCheckExecutionContext, code_repo: CodeRepoResource):
    meta = _latest_metadata(context, static_graph.key)
    ratio = float(meta.get("resolved_ratio", 0.0))
    bound = code_repo.min_resolved_ratio
    return dg.AssetCheckResult(
        passed=bool(meta) and ratio >= bound,
        metadata={"resolved_ratio": ratio, "bound": bound, "unresolved": int(meta.get("unresolved", 0))},
        description=None if meta else "static_graph has no materialization to check",
    )


@_repo_check(asset=static_graph, description="Every configured entry is an indexed file of the graph.")
def entries_present(
    context: dg.AssetCheckExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource
):
    target = repo_target(context, code_repo)
    entries = code_repo.entry_paths(target.root, target.name)
    with postgres.connect() as conn:
        present = index_health.entry_weights(conn, target.name, entries)
    missing = [e for e in entries if e not in present]
    return dg.AssetCheckResult(
        passed=not missing and bool(entries),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "entries": dg.MetadataValue.json(entries),
            "missing": dg.MetadataValue.json(missing),
            "entry_weights": dg.MetadataValue.json({p: w for p, w in present.items()}),
        },
    )


@_repo_check(
    asset=runtime_edges,
    description="Every relationship's endpoints exist in ast_nodes (deliberate unresolved:/external: targets aside).",
)
def no_orphan_relationships(
    context: dg.AssetCheckExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource
):
    with postgres.connect() as conn:
        orphans, kept = index_health.orphan_relationships(conn, repo_target(context, code_repo).name)
    return dg.AssetCheckResult(
        passed=not orphans,
        metadata={
            "orphans": sum(orphans.values()),
            "by_kind": dg.MetadataValue.json(orphans),
            "placeholder_targets": kept,
        },
    )


@_repo_check(asset=chunk_embeddings, description="Every chunk has an embedding.")
def every_chunk_embedded(
    context: dg.AssetCheckExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource
):
    with postgres.connect() as conn:
        chunks, missing = index_health.embedding_coverage(conn, repo_target(context, code_repo).name)
    return dg.AssetCheckResult(
        passed=chunks > 0 and missing == 0,
        metadata={"chunks": chunks, "without_embedding": missing},
    )


defs = dg.Definitions(
    asset_checks=[import_specifiers_resolved, entries_present, no_orphan_relationships, every_chunk_embedded]
)
