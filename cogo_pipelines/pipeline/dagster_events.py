"""What an index run outside Dagster tells the Dagster instance, so the UI is true whichever way
indexing ran.

``cogo index`` registers the repo as a partition of the ``repos`` dynamic partitions (the
knowledge assets are partitioned by repo) and reports each asset the run brought up to date as a
runless materialisation of that partition, with the run's figures as metadata. Only when there
is a Dagster instance: ``DAGSTER_HOME``, else the project's own under ``COGO_HOME/dagster``
where ``make run`` / ``make dagster`` made it (so an index run from a shell shows in the UI they
serve without exporting anything); without one there is nothing to keep true, and ``dagster`` is
not even imported. The instance is Dagster's own storage (SQLite under
``DAGSTER_HOME``, or dagster-postgres with ``docker/dagster.yaml``), never the cogo store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cogo_pipelines.pipeline.repo_state import repo_state

REPO_PARTITIONS = "repos"  # the DynamicPartitionsDefinition of the knowledge assets
ROOT_KEY = "root"  # source_files metadata: where the partition's repo lives on this machine
STATE_KEY = "repo_state"  # source_files metadata: the repo's state when indexed (pipeline/repo_state)
TRACES_KEY = "trace_dir"  # source_files metadata: the trace folder the partition was indexed with, if its own
# Dagster's standard key for the rows of an asset's table (``TableMetadataSet.row_count``, not
# exported by ``dagster`` 1.13): the UI shows it and charts it over materialisations, so runs of
# either face report it
ROW_COUNT = "dagster/row_count"


def instance_home() -> Path | None:
    """The Dagster instance's folder: ``DAGSTER_HOME``, else ``COGO_HOME/dagster`` if it exists."""
    configured = os.environ.get("DAGSTER_HOME")
    if configured:
        return Path(configured)
    from cogo_pipelines.settings import get_settings

    project = get_settings().cogo_home / "dagster"
    return project if project.is_dir() else None


def asset_metadata(summary: Any, root: Path, *, embedded: bool) -> dict[str, dict[str, Any]]:
    """Per knowledge asset, the metadata ``cogo index``'s run gives it (``IndexSummary``); the
    Neo4j mirror is not part of ``cogo index``, and without embeddings neither are vectors (nor
    the file summaries while any lacks its vector: ``cogo index --summaries`` makes them). A
    table's row count (``ROW_COUNT``) is given where the summary holds the whole table's: the
    run's own figures for vectors and ranks are what changed, not what the table holds."""
    seconds = {k: round(v, 3) for k, v in summary.seconds.items()}
    common = {"source": "cogo index"}
    out = {
        "source_files": {ROOT_KEY: str(Path(root).resolve()), STATE_KEY: repo_state(root) or "",
                         TRACES_KEY: summary.trace_dir or "",
                         ROW_COUNT: summary.files, "repo": summary.repo, "files": summary.files, "removed": summary.removed_files},
        "static_graph": {ROW_COUNT: summary.symbols, "files": summary.files, "parsed": summary.parsed, "symbols": summary.symbols,
                         "edges": summary.edges, "errors": len(summary.errors),
                         "unresolved": summary.unresolved, "resolved_ratio": float(summary.resolved_ratio),
                         "seconds": seconds.get("graph", 0.0)},
        "runtime_edges": {ROW_COUNT: summary.runtime_edges, "trace_files": summary.trace_files, "runtime_edges": summary.runtime_edges,
                          "symbols_observed": summary.runtime_symbols, "unknown_frames": summary.unknown_frames},
        "ranked_graph": {"seconds": seconds.get("runtime", 0.0)},
        "code_chunks": {ROW_COUNT: summary.chunks, "chunks": summary.chunks, "rechunked_files": summary.rechunked_files,
                        "unchanged_files": summary.skipped_unchanged, "removed_files": summary.removed_files},
        "chunk_embeddings": {"embedded": summary.embedded, "from_cache": summary.embeddings_from_cache},
        "file_summaries": {"written": summary.summaries_written, "embedded": summary.summaries_embedded,
                           "pending": summary.summaries_pending, "seconds": seconds.get("summary", 0.0)},
        "pgvector_index": {"files": summary.files, "symbols": summary.symbols, "edges": summary.edges,
                           "chunks": summary.chunks, "seconds": seconds.get("upsert", 0.0)},
    }
    if not embedded:
        del out["chunk_embeddings"]
    if not embedded or summary.summaries_pending:  # vectors left to a warm process: not up to date yet
        del out["file_summaries"]
    return {asset: {**meta, **common} for asset, meta in out.items()}


def report_index_run(summary: Any, root: Path, *, embedded: bool = True, instance: Any = None) -> list[str]:
    """Register ``summary.repo`` as a partition and report the run's materialisations; returns
    the asset names reported (empty when no instance is configured)."""
    home = instance_home() if instance is None else None
    if instance is None and home is None:
        return []
    import dagster as dg

    owned = instance is None
    instance = instance or dg.DagsterInstance.from_config(str(home))
    try:
        if not instance.has_dynamic_partition(REPO_PARTITIONS, summary.repo):
            instance.add_dynamic_partitions(REPO_PARTITIONS, [summary.repo])
        reported = []
        for asset, metadata in asset_metadata(summary, root, embedded=embedded).items():
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=asset, partition=summary.repo, metadata=metadata)
            )
            reported.append(asset)
        return reported
    finally:
        if owned:
            instance.dispose()
