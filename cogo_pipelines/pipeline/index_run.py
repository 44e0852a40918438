"""The staged index pipeline behind ``cogo index`` and the Dagster index assets.

Stages, each callable on its own and each committed before the next starts (a crash or a
Ctrl-C keeps what is done, and the next run resumes from there):

1. ``graph``: ``graph_index.index_static_graph`` — discover files, re-parse changed ones, write
   ``ast_nodes``/``code_relationships`` (falls back to plain discovery while it is absent);
2. ``runtime``: ``runtime_store.merge_runtime`` — the traces of the trace folder (V8 profiles,
   JSONL; ``RUNTIME_TRACE_DIR``, default ``$COGO_HOME/traces``) replace the repo's ``runtime``
   edges and counts, then ``runtime_store.apply_ranks`` sets ``rank`` = 0.6 * entry_weight +
   0.4 * runtime frequency (``indexing/ranking.py``). No trace folder = no runtime data, not an
   error;
3. ``chunk``: re-chunk only files whose hash differs from the one their chunks were made from
   (``chunked_files``), drop chunks of vanished files, write their BM25 postings and the
   repo's keyword IDF table: from here the repo is keyword-searchable;
4. ``embed``: vectors for chunks without one — first from the content-hash cache, then the model
   for the texts never seen (batched, cached per batch, onto the chunks in one fill at the end;
   the model is loaded only when there is such a text);
5. ``summary``: ``summaries.summarize_stage`` — one short text per changed file (its path,
   names, headers, opening lines); with ``summaries=True`` also their vectors from the summary
   model (a transformer: a warm process embeds them otherwise, ``pipeline/summaries.py``);
6. ``upsert``: the index as search now sees it (files, symbols, edges, chunks, vectors), the
   counts of the summary and of the run's record. It writes nothing: the ranks are on the chunks
   already (the rank stage's for chunks that stayed, the chunk stage's insert for new ones).

Dagster's ``index_job`` calls the same stage functions, one asset each, in the same order, and
both record the finished run in ``index_runs`` (``store/index_runs.record_run``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cogo_pipelines.indexing import chunking, embedding, runtime, sources
from cogo_pipelines.indexing.model import SourceFile
from cogo_pipelines.indexing.static_graph import TYPESCRIPT
from cogo_pipelines.pipeline import summaries as file_summaries
from cogo_pipelines.pipeline import upkeep
from cogo_pipelines.pipeline.graph_index import index_static_graph
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import chunk_writes, knowledge, repo_roots, runtime_store
from cogo_pipelines.store import files as files_store
from cogo_pipelines.store.graph_store import cached_extractions
from cogo_pipelines.store.index_runs import record_run

Progress = Callable[[str, int, int], None]
EMBED_BATCH = 256


@dataclass
class RuntimeResult:
    trace_dir: Path
    files: list[Path]
    trace: runtime.RuntimeTrace
    written: runtime_store.RuntimeWrite


@dataclass
class ChunkResult:
    rechunked: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    chunks_written: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class EmbedResult:
    embedded: int = 0  # texts run through the model
    from_cache: int = 0  # chunks given a vector seen before
    missing: int = 0  # chunks left without a vector (--no-embed)
    cleared: int = 0  # vectors of another model taken off the chunks (EMBEDDING_MODEL switched)


@dataclass
class IndexSummary:
    repo: str
    files: int = 0
    parsed: int = 0
    symbols: int = 0
    edges: int = 0
    chunks: int = 0
    rechunked_files: int = 0
    skipped_unchanged: int = 0
    removed_files: int = 0
    embedded: int = 0
    embeddings_from_cache: int = 0
    summaries_written: int = 0  # file summaries new or changed
    summaries_embedded: int = 0  # their vectors made by this run (--summaries)
    summaries_pending: int = 0  # left for a warm process (MCP server, sidecar) or the Dagster asset
    trace_dir: str | None = None  # the trace folder the run was given (None: the settings' default)
    trace_files: int = 0
    runtime_edges: int = 0
    runtime_symbols: int = 0
    unknown_frames: int = 0
    unresolved: int = 0  # imports that name no file (the graph stage's count)
    resolved_ratio: float = 1.0
    trace_warnings: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    pruned: dict[str, int] = field(default_factory=dict)  # rows the store's upkeep deleted after the run

    def as_dict(self) -> dict:
        out = asdict(self)
        out["errors"] = [{"path": p, "error": e} for p, e in self.errors]
        out["seconds"] = {k: round(v, 3) for k, v in self.seconds.items()}
        return out


def _commit(conn: psycopg.Connection) -> None:
    if not conn.autocommit:
        conn.commit()


def graph_stage(
    conn, root: Path, entries: list[str] | None = None, policy=None, progress: Progress | None = None,
    repo: str | None = None, discovery: sources.Discovery | None = None,
):
    """Stage 1: discovery, incremental parse and the module/symbol graph (``StaticGraphResult``).

    ``repo`` is the name the policy chose (``indexing/policy.py``); it is claimed for ``root``
    first, so a second root under a held name stops here (``repo_roots.RepoNameTaken``)."""
    repo = repo or sources.repo_id(root)
    repo_roots.claim(conn, repo, root)
    result = index_static_graph(
        conn, root, repo=repo, entries=entries, policy=policy or sources.Policy(), progress=progress,
        discovery=discovery,
    )
    _commit(conn)
    return result


def runtime_stage(
    conn,
    repo: str,
    trace_dir: Path | None = None,
    prefix_map: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> RuntimeResult:
    """Stage 2a: merge the trace folder's traces as ``runtime`` edges/counts (a snapshot: a trace
    removed from the folder stops counting; a missing folder clears the runtime data quietly)."""
    trace_dir = Path(trace_dir) if trace_dir is not None else get_settings().traces_dir
    found = runtime.trace_files(trace_dir)
    trace, written = runtime_store.merge_runtime(conn, repo, found, prefix_map)
    _commit(conn)
    if progress:
        progress("runtime", 1, 2)
    return RuntimeResult(trace_dir, found, trace, written)


def rank_stage(conn, repo: str, progress: Progress | None = None) -> int:
    """Stage 2b: ``rank`` of every symbol from entry weight and runtime frequency, onto chunks;
    returns the number of symbols ranked."""
    ranked = runtime_store.apply_ranks(conn, repo)
    _commit(conn)
    if progress:
        progress("runtime", 2, 2)
    return ranked


def chunk_stage(
    conn, root: Path, repo: str, found: list[SourceFile], progress: Progress | None = None
) -> ChunkResult:
    """Stage 2: chunk the files whose content changed since their chunks were made."""
    from cogo_pipelines.indexing import typescript

    previous = chunk_writes.chunked_hashes(conn, repo)
    current = {f.path for f in found}
    out = ChunkResult(removed=sorted(set(previous) - current))
    dirty = [f for f in found if previous.get(f.path) != f.content_hash]
    out.unchanged = len(found) - len(dirty)
    # the IDF table follows an edit by difference; past a quarter of the files one recount is cheaper
    touched = out.removed + [f.path for f in dirty if f.path in previous]
    recount = (bool(dirty) or bool(out.removed)) and (
        4 * (len(touched) + len(dirty)) > len(previous) or not chunk_writes.has_terms(conn, repo)
    )
    if not recount:
        chunk_writes.adjust_terms(conn, repo, touched, -1)
    chunk_writes.delete_files(conn, repo, out.removed)
    # the graph stage has just cached the extraction of every TypeScript file: only the tree
    # (module-level spans, splits on AST boundaries) is read again
    extracted = cached_extractions(conn, [f for f in dirty if f.language in TYPESCRIPT])
    # the rows an edit leaves as they were are kept with their vectors and postings: re-inserting
    # a big file's every chunk was most of an edit's cost (Schema.ts: 1.4 s chunks, 1.8 s vectors)
    stored = chunk_writes.stored_row_hashes(conn, repo, [f.path for f in dirty if f.path in previous])
    inserted: list[str] = []
    # pipeline mode: the server writes (and runs to_tsvector over) one file's chunks while the
    # next file is parsed and chunked here (effect cold: 16 -> ~12 s)
    with conn.pipeline():
        for i, f in enumerate(dirty):
            try:
                data = (root / f.path).read_bytes()
                extraction = tree = None
                if f.language in TYPESCRIPT and len(data) <= chunking.MAX_FILE_BYTES:
                    extraction = extracted.get(f.path)
                    if extraction is None:
                        extraction, tree = typescript.extract_tree(f.path, data)
                    if extraction.error and not extraction.symbols:
                        tree = None  # nothing of the file was read: it is chunked as text
                    elif tree is None:
                        tree = typescript.parse(data, typescript.is_tsx(f.path))
                result = chunking.chunk_file(f, data, extraction, tree)
            except Exception as exc:  # noqa: BLE001 — unreadable or vanished mid-run: record, keep going
                result = chunking.FileChunks(f.path, [], f"{type(exc).__name__}: {exc}")
            ids = chunk_writes.replace_file_chunks(
                conn, repo, f.path, f.content_hash, result.chunks, result.error, stored.get(f.path)
            )
            inserted += ids
            if result.error:
                out.errors.append((f.path, result.error))
                files_store.record_error(conn, repo, f.path, result.error)
            out.rechunked.append(f.path)
            if progress:
                progress("chunk", i + 1, len(dirty))
    if not dirty and progress:
        progress("chunk", 0, 0)
    if recount:
        chunk_writes.refresh_terms(conn, repo)  # the IDF table (and BM25's average length)
    else:
        chunk_writes.adjust_terms(conn, repo, out.rechunked, 1)
    out.chunks_written = len(inserted)
    chunk_writes.write_postings(conn, repo, out.rechunked, inserted)  # keyword search is whole from here
    chunk_writes.refresh_statistics(conn, repo, len(inserted))
    _commit(conn)
    return out


def embed_stage(conn, repo: str, *, embed: bool = True, progress: Progress | None = None,
                model_name: str | None = None) -> EmbedResult:
    """Stage 3: cached vectors first, then the model for new texts only (``model_name`` unset:
    ``EMBEDDING_MODEL`` or the bundled one).

    New vectors go to the cache batch by batch (a killed run keeps what it encoded, and the next
    run takes it from the cache) and onto the chunks in one fill at the end: keyword search
    serves the repo meanwhile, and vector search starts once every chunk has its vector."""
    model = embedding.model_key(model_name)
    out = EmbedResult(cleared=chunk_writes.use_vectors_model(conn, repo, model))
    out.from_cache = chunk_writes.fill_from_cache(conn, repo, model)
    _commit(conn)
    pending = chunk_writes.texts_to_embed(conn, repo)
    if not embed:
        out.missing = len(pending)
        if progress:
            progress("embed", 0, 0)
        return out
    hashes = sorted(pending, key=lambda h: len(pending[h]))  # similar lengths batch with less padding
    for start in range(0, len(hashes), EMBED_BATCH):
        batch = hashes[start : start + EMBED_BATCH]
        vectors = embedding.encode([pending[h] for h in batch], model=model_name)
        chunk_writes.save_embeddings(conn, model, batch, vectors)
        _commit(conn)
        out.embedded += len(batch)
        if progress:
            progress("embed", out.embedded, len(hashes))
    if hashes:
        chunk_writes.fill_from_cache(conn, repo, model)
        _commit(conn)
    elif progress:
        progress("embed", 0, 0)
    return out


def upsert_stage(conn, repo: str, progress: Progress | None = None) -> dict[str, int]:
    """Stage 5: the counts of the index that search now reads, for the summary and the run's
    record. It used to copy the graph rank onto the chunks again; that changed no row (the rank
    stage and the chunk stage's insert leave every chunk ranked) and cost 0.08 s of every run
    on effect."""
    stats = knowledge.index_stats(conn, repo)
    if progress:
        progress("upsert", 1, 1)
    return stats


def run_index(
    conn: psycopg.Connection,
    root: Path,
    entries: list[str] | None = None,
    embed: bool = True,
    progress: Progress | None = None,
    policy: sources.Policy | None = None,
    trace_dir: Path | None = None,
    prefix_map: Mapping[str, str] | None = None,
    repo: str | None = None,
    discovery: sources.Discovery | None = None,
    summaries: bool = False,
) -> IndexSummary:
    """Every stage in order (the Dagster chain's order); ``trace_dir`` defaults to settings;
    ``repo`` and ``discovery`` come from the index policy (default: folder name, fresh walk);
    ``summaries``: embed the file summaries too (with ``embed`` only)."""
    root = Path(root)
    repo = repo or sources.repo_id(root)
    summary = IndexSummary(repo=repo, trace_dir=str(Path(trace_dir).resolve()) if trace_dir is not None else None)
    started_at, started = datetime.now(UTC), time.perf_counter()
    t = started
    graph = graph_stage(conn, root, entries, policy, progress, repo=repo, discovery=discovery)
    summary.seconds["graph"] = time.perf_counter() - t
    t = time.perf_counter()
    traces = runtime_stage(conn, repo, trace_dir, prefix_map, progress)
    rank_stage(conn, repo, progress)
    summary.seconds["runtime"] = time.perf_counter() - t
    t = time.perf_counter()
    chunks = chunk_stage(conn, root, repo, list(graph.files), progress)
    summary.seconds["chunk"] = time.perf_counter() - t
    t = time.perf_counter()
    vectors = embed_stage(conn, repo, embed=embed, progress=progress)
    summary.seconds["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    summarized = file_summaries.summarize_stage(conn, repo, chunks.rechunked, embed=embed and summaries,
                                                progress=progress)
    summary.seconds["summary"] = time.perf_counter() - t
    t = time.perf_counter()
    stats = upsert_stage(conn, repo, progress=progress)
    summary.seconds["upsert"] = time.perf_counter() - t

    summary.files = len(graph.files)
    summary.parsed = getattr(graph, "parsed", 0)
    summary.unresolved, summary.resolved_ratio = graph.unresolved, graph.resolved_ratio
    summary.symbols, summary.edges, summary.chunks = stats["symbols"], stats["edges"], stats["chunks"]
    summary.rechunked_files = len(chunks.rechunked)
    summary.skipped_unchanged = chunks.unchanged
    summary.removed_files = len(chunks.removed)
    summary.embedded, summary.embeddings_from_cache = vectors.embedded, vectors.from_cache
    summary.summaries_written, summary.summaries_embedded = summarized.written, summarized.embedded
    summary.summaries_pending = summarized.pending
    summary.trace_files, summary.runtime_edges = len(traces.files), traces.written.edges
    summary.runtime_symbols, summary.unknown_frames = traces.written.symbols, traces.trace.unknown_total
    summary.trace_warnings = list(traces.trace.warnings)
    seen = set()
    for path, message in list(getattr(graph, "errors", [])) + chunks.errors:
        if (path, message) not in seen:
            seen.add((path, message))
            summary.errors.append((path, message))
    record_run(conn, repo, started_at, time.perf_counter() - started, summary.as_dict())
    summary.pruned = upkeep.after_index(conn)
    return summary
