"""The knowledge pipeline of DESIGN §3 as software-defined assets, one per stage.

The state lives in Postgres (and optionally Neo4j), not in Dagster's IO managers: each asset
runs one stage of the pipeline (``pipeline/index_run``, ``store/runtime_store``,
``store/neo4j_mirror``) against the store and reports what it did as metadata, with the rows of
its table under Dagster's ``dagster/row_count`` so the UI shows each table's size over time. So materialising
any subset works, and a second run over an unchanged repo shows ``parsed: 0``, ``embedded: 0``.
"""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import dagster as dg

from cogo_pipelines.defs.knowledge.partitions import repo_partitions, repo_target, trace_dir_of
from cogo_pipelines.defs.knowledge.resources import CodeRepoResource, EmbeddingModelResource, Neo4jResource
from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.pipeline import index_run, summaries, upkeep
from cogo_pipelines.pipeline.dagster_events import ROOT_KEY, ROW_COUNT, STATE_KEY, TRACES_KEY
from cogo_pipelines.pipeline.repo_state import repo_state
from cogo_pipelines.store import files as files_store
from cogo_pipelines.store import index_health, index_runs, knowledge, neo4j_mirror, runtime_store

GROUP = "knowledge"
PREVIEW_ROWS = 20


def _row_count(rows: int) -> dict[str, dg.IntMetadataValue]:
    """The rows of the partition's table as this step left it (the whole table, not what changed)."""
    return {ROW_COUNT: dg.MetadataValue.int(int(rows))}


def _table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _errors_md(errors: list[tuple[str, str]]) -> dg.MarkdownMetadataValue:
    rows = [[p, m[:200]] for p, m in errors[:PREVIEW_ROWS]]
    more = f"\n\n… and {len(errors) - PREVIEW_ROWS} more" if len(errors) > PREVIEW_ROWS else ""
    return dg.MetadataValue.md(_table(["path", "error"], rows) + more if rows else "no errors")


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, kinds={"typescript"})
def source_files(context: dg.AssetExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource):
    """Files admitted by the include/exclude policy, with what changed since the store last saw them."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    root = target.root
    if not root.is_dir():
        raise dg.Failure(f"repo path {root} is not a directory (set code_repo.repo_path or REPO_PATH)")
    prepared = code_repo.prepare(root, target.name)
    for message in prepared.messages:
        context.log.warning(message)
    if prepared.empty:
        raise dg.Failure(prepared.no_files_error())
    found, repo = prepared.discovery.files, prepared.policy.name
    traces = trace_dir_of(context, target.name, code_repo)
    with postgres.connect() as conn:
        delta = files_store.diff(files_store.known_hashes(conn, repo), found)
    languages = Counter(f.language for f in found)
    return dg.MaterializeResult(
        metadata={
            **_row_count(len(found)),
            "repo": repo,
            ROOT_KEY: str(root),
            STATE_KEY: repo_state(root) or "",
            # the partition's own trace folder, carried to the next run (runtime_edges reads it)
            TRACES_KEY: "" if traces == code_repo.traces() and not code_repo.trace_dir else str(traces),
            "files": len(found),
            "skipped": dg.MetadataValue.json(dict(prepared.discovery.skipped)),
            "policy": dg.MetadataValue.json({"include": list(prepared.policy.include),
                                             "exclude": list(prepared.policy.exclude),
                                             "origins": prepared.policy.origins}),
            "added": len(delta.added),
            "changed": len(delta.changed),
            "removed": len(delta.removed),
            "unchanged": len(delta.unchanged),
            "seconds": round(time.perf_counter() - started, 3),
            "preview": dg.MetadataValue.md(
                _table(["language", "files"], sorted(languages.items()))
                + "\n\n"
                + _table(["changed since last index"], [[p] for p in delta.dirty[:PREVIEW_ROWS]])
            ),
        }
    )


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[source_files], kinds={"postgres"})
def static_graph(context: dg.AssetExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource):
    """Module + symbol graph (ast_nodes, code_relationships, entry weights); re-parses changed files only."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    root = target.root
    prepared = code_repo.prepare(root, target.name)
    if prepared.empty:
        raise dg.Failure(prepared.no_files_error())
    entries, missing, repo = prepared.entries, prepared.unmatched_entries, prepared.policy.name
    for entry in missing:
        context.log.warning(f"entry {entry} matches no indexed file of {root}; indexed without it")
    with postgres.connect() as conn:
        result = index_run.graph_stage(conn, root, entries, prepared.policy.sources_policy(), repo=repo,
                                       discovery=prepared.discovery)
        stats = knowledge.index_stats(conn, repo)
    errors = list(getattr(result, "errors", []))
    delta = getattr(result, "delta", None)
    return dg.MaterializeResult(
        metadata={
            **_row_count(stats["symbols"]),  # ast_nodes; code_relationships are "edges"
            "files": len(result.files),
            "parsed": int(getattr(result, "parsed", 0)),
            "removed": len(getattr(delta, "removed", []) or []),
            "symbols": stats["symbols"],
            "edges": stats["edges"],
            "unresolved": int(getattr(result, "unresolved", 0)),
            "resolved_ratio": float(getattr(result, "resolved_ratio", 1.0)),
            "entries": dg.MetadataValue.json(entries),
            "missing_entries": dg.MetadataValue.json(missing),
            "errors": len(errors),
            "error_preview": _errors_md(errors),
            "stage_seconds": dg.MetadataValue.json(
                {k: round(v, 3) for k, v in getattr(result, "seconds", {}).items()}
            ),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[static_graph], kinds={"postgres"})
def runtime_edges(context: dg.AssetExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource):
    """Runtime traces (V8 .cpuprofile, JSONL) from the trace dir merged in as ``runtime`` edges/counts."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    trace_dir = trace_dir_of(context, target.name, code_repo)
    repo = target.name
    with postgres.connect() as conn:
        merged = index_run.runtime_stage(conn, repo, trace_dir, code_repo.path_prefix_map)
        hottest = runtime_store.hottest_edges(conn, repo, PREVIEW_ROWS)
    files, trace, written = merged.files, merged.trace, merged.written
    if not files:
        context.log.info(
            f"no trace files in {trace_dir}: runtime counts cleared, ranks from entry weights only"
        )
    for warning in trace.warnings:
        context.log.warning(warning)
    unknown = trace.unknown.most_common(PREVIEW_ROWS)
    return dg.MaterializeResult(
        metadata={
            **_row_count(written.edges),
            "trace_dir": str(trace_dir),
            "trace_files": len(files),
            "traces_used": dg.MetadataValue.json(trace.sources),
            "runtime_edges": written.edges,
            "symbols_observed": written.symbols,
            "static_calls_confirmed": written.static_calls_confirmed,
            "unknown_frames": trace.unknown_total,
            "warnings": dg.MetadataValue.json(trace.warnings),
            "unknown_preview": dg.MetadataValue.md(
                _table(["unmapped frame / id", "count"], [list(u) for u in unknown])
            ),
            "edge_preview": dg.MetadataValue.md(
                _table(
                    ["caller", "callee", "count"],
                    [[e["caller"], e["callee"], e["runtime_count"]] for e in hottest],
                )
            ),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[runtime_edges], kinds={"postgres"})
def ranked_graph(context: dg.AssetExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource):
    """``rank`` = 0.6 * entry_weight + 0.4 * normalised runtime frequency (see indexing/ranking.py)."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    repo = target.name
    with postgres.connect() as conn:
        ranked = index_run.rank_stage(conn, repo)
        top = runtime_store.top_symbols(conn, repo, PREVIEW_ROWS)
    rows = [
        [
            t["path"],
            t["qualified_name"],
            t["kind"],
            f"{t['entry_weight']:.3f}",
            t["runtime_count"],
            f"{t['rank']:.3f}",
        ]
        for t in top
    ]
    return dg.MaterializeResult(
        metadata={
            **_row_count(ranked),
            "symbols_ranked": ranked,
            "top_with_runtime": sum(1 for t in top if t["runtime_count"]),
            "top_symbols": dg.MetadataValue.md(
                _table(["path", "symbol", "kind", "entry_weight", "runtime_count", "rank"], rows)
            ),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[ranked_graph], kinds={"postgres"})
def code_chunks(context: dg.AssetExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource):
    """Code/markdown/SQL chunks; only files whose hash changed since they were chunked are re-chunked."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    root = target.root
    prepared = code_repo.prepare(root, target.name)
    found, repo = prepared.discovery.files, prepared.policy.name
    with postgres.connect() as conn:
        result = index_run.chunk_stage(conn, root, repo, found)
        stats = knowledge.index_stats(conn, repo)
    for path, message in result.errors:
        context.log.warning(f"{path}: {message}")
    return dg.MaterializeResult(
        metadata={
            **_row_count(stats["chunks"]),
            "chunks": stats["chunks"],
            "rechunked_files": len(result.rechunked),
            "unchanged_files": result.unchanged,
            "removed_files": len(result.removed),
            "chunks_written": result.chunks_written,
            "errors": len(result.errors),
            "error_preview": _errors_md(result.errors),
            "rechunked_preview": dg.MetadataValue.md(
                _table(["re-chunked file"], [[p] for p in result.rechunked[:PREVIEW_ROWS]])
            ),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[code_chunks], kinds={"numpy", "postgres"})
def chunk_embeddings(
    context: dg.AssetExecutionContext,
    code_repo: CodeRepoResource,
    postgres: PostgresResource,
    embedding_model: EmbeddingModelResource,
):
    """Vectors for chunks without one: content-hash cache first, the model only for new texts."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    repo = target.name
    model_key = embedding_model.key()
    with postgres.connect() as conn:
        result = index_run.embed_stage(conn, repo, embed=True, model_name=embedding_model.model_name())
        stats = knowledge.index_stats(conn, repo)
    return dg.MaterializeResult(
        metadata={
            **_row_count(stats["embedded"]),
            "model": model_key,
            "embedded": result.embedded,
            "from_cache": result.from_cache,
            "missing": stats["chunks"] - stats["embedded"],
            "chunks_with_embedding": stats["embedded"],
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[code_chunks], kinds={"postgres"})
def file_summaries(context: dg.AssetExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource):
    """One short text per file and its vector from the summary model (``SUMMARY_MODEL``, a
    transformer): the file list that MCP and sidecar searches add to the hybrid ranking. Only
    changed texts are embedded again; ``SUMMARY_MODEL=off`` writes nothing."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    repo = target.name
    last = [0.0]

    def progress(_stage: str, done: int, total: int) -> None:
        if total and time.monotonic() - last[0] > 10:
            last[0] = time.monotonic()
            context.log.info(f"file summaries: {done}/{total} embedded")

    with postgres.connect() as conn:
        result = summaries.summarize_stage(conn, repo, None, embed=True, progress=progress)
    return dg.MaterializeResult(
        metadata={
            **_row_count(result.files),
            "model": summaries.model_key() or "off",
            "written": result.written,
            "embedded": result.embedded,
            "pending": result.pending,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[chunk_embeddings, file_summaries],
          kinds={"postgres"})
def pgvector_index(
    context: dg.AssetExecutionContext, code_repo: CodeRepoResource, postgres: PostgresResource
):
    """The searchable index as search sees it: its counts (files, symbols, edges, chunks, vectors),
    nothing rewritten (the chunks carry their graph rank from ``ranked_graph`` and from their
    insert; the keyword statistics are ``code_chunks``'s, so keyword search serves before the
    vectors).

    The last stage of the chain, so it records the run in ``index_runs`` as ``cogo index`` does,
    timed from the start of the Dagster run (or of this step, when the run's start is unknown),
    and does the store's daily upkeep when it is due (``rows_pruned``: ``store/retention.py``).
    """
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    repo = target.name
    run_started = _run_started_at(context)
    with postgres.connect() as conn:
        stats = index_run.upsert_stage(conn, repo)
        ranked = index_health.ranked_chunks(conn, repo)
        run_started = run_started or datetime.now(UTC) - timedelta(seconds=time.perf_counter() - started)
        seconds = (datetime.now(UTC) - run_started).total_seconds()
        index_runs.record_run(
            conn, repo, run_started, seconds,
            {"repo": repo, **stats, "chunks_ranked": int(ranked), "dagster_run_id": context.run.run_id},
        )  # fmt: skip
        pruned = upkeep.after_index(conn)
    return dg.MaterializeResult(
        metadata={
            **_row_count(stats["embedded"]),  # the vectors the HNSW index holds
            **{k: int(v) for k, v in stats.items()},
            "chunks_ranked": int(ranked),
            "rows_pruned": dg.MetadataValue.json(pruned),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


def _run_started_at(context: dg.AssetExecutionContext) -> datetime | None:
    record = context.instance.get_run_record_by_id(context.run.run_id)
    start = record.start_time if record else None
    return datetime.fromtimestamp(start, UTC) if start else None


@dg.asset(group_name=GROUP, partitions_def=repo_partitions, deps=[pgvector_index], kinds={"neo4j"})
def neo4j_links(
    context: dg.AssetExecutionContext,
    code_repo: CodeRepoResource,
    postgres: PostgresResource,
    neo4j: Neo4jResource,
):
    """Files, symbols, chunks and relationships mirrored to Neo4j with the Postgres ids."""
    target = repo_target(context, code_repo)
    started = time.perf_counter()
    with postgres.connect() as conn:
        result = neo4j_mirror.mirror_with(conn, target.name, neo4j.driver, database=neo4j.connection()["database"])
    if result.skipped:
        context.log.info(f"neo4j_links skipped: {result.reason}")
        return dg.MaterializeResult(metadata={"skipped": True, "reason": result.reason})
    return dg.MaterializeResult(
        metadata={
            "skipped": False,
            **{k: int(v) for k, v in result.counts.items()},
            "statements": result.statements,
            "relationships_unmatched": result.relationships_unmatched,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


KNOWLEDGE_ASSETS = [
    source_files,
    static_graph,
    runtime_edges,
    ranked_graph,
    code_chunks,
    chunk_embeddings,
    file_summaries,
    pgvector_index,
    neo4j_links,
]

index_job = dg.define_asset_job(
    "index_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Index a repo end to end: graph, runtime merge, ranks, chunks, embeddings, pgvector, Neo4j.",
)

defs = dg.Definitions(assets=KNOWLEDGE_ASSETS, jobs=[index_job])
