"""The static graph pipeline without a store: discover → extract (in parallel) → build, and
the parallel linking of symbol edges.

``pipeline/graph_index.index_static_graph`` runs the same steps with the extraction cache in
between and links in parallel (``link_files``); benches and tests use ``analyze`` directly.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import orjson

from cogo_pipelines.indexing import graph as graph_module
from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.linking import Linker
from cogo_pipelines.indexing.model import CallSite, FileExtraction, ImportRecord, SourceFile, Symbol
from cogo_pipelines.indexing.resolve import Resolver

TYPESCRIPT = ("typescript", "tsx", "javascript")  # the languages tree-sitter extracts
# beyond this many processes the parent's share of the work (decoding, building) bounds the run
MAX_WORKERS = 8
# below this many bytes a process pool costs more than it saves
PARALLEL_MIN_BYTES = 500_000
# parse chunks shrink to about this many bytes (a few milliseconds of parsing)
SMALLEST_CHUNK_BYTES = 40_000
# below this many uses (calls, references, heritage) linking is not worth a fork
PARALLEL_MIN_USES = 20_000
# linking chunks shrink to about this many uses (a few milliseconds of linking)
SMALLEST_LINK_CHUNK = 1_000
# linking processes leave one core to the database server: its one backend ingesting the rows is
# the slowest stage of a cold write, and the linking only has to stay ahead of it. (They ran at
# niceness 10 beside it instead: on a machine busy with anything else they then got a tenth of a
# core and the write waited for them; one linking process on 2 cores also forks and copies once.)
LINKING_CORES_LEFT = 1
# a lone linking process does not link in parallel, it only moves the linking out of this process,
# which is idle meanwhile, at a price: the fork, the copy-on-write faults on both sides (the child
# touches the extractions and the parent its rows, page after page), the results pickled back. On
# 2 cores, linking here instead costs effect's cold graph ~0.18 CPU s less (12 of 12 paired runs)
MIN_LINKING_PROCESSES = 2
Progress = Callable[[str, int, int], None] | None


def _encode(e: FileExtraction) -> dict:
    """Compact, positional JSON of an extraction (``dataclasses.asdict`` is ~10x slower)."""
    return {
        "s": [[s.kind, s.name, s.qualified_name, s.signature, s.start_line, s.end_line, s.start_byte, s.end_byte,
               s.exported, s.parent] for s in e.symbols],
        "i": [[i.specifier, i.kind, i.line, i.bindings, i.expression] for i in e.imports],
        "x": e.exports,
        "c": [[c.caller, c.callee, c.line] for c in e.calls],
        "h": e.heritage,
        "r": e.references,
        "e": e.error,
        "j": e.renders,
        "t": e.types,
        **({"g": e.globals} if e.globals else {}),  # Vue templates only: other files' JSON unchanged
        **({"a": e.apart} if e.apart else {}),
    }


def _decode(path: str, d: dict) -> FileExtraction:
    return FileExtraction(
        path=path,
        symbols=[Symbol(*s) for s in d["s"]],
        imports=[ImportRecord(*i) for i in d["i"]],
        exports=d["x"],
        calls=[CallSite(*c) for c in d["c"]],
        heritage=[tuple(h) for h in d["h"]],
        references=[tuple(r) for r in d["r"]],
        error=d["e"],
        renders=[tuple(r) for r in d.get("j", ())],
        types=d.get("t", {}),
        globals=[tuple(g) for g in d.get("g", ())],
        apart=[tuple(a) for a in d.get("a", ())],
    )


def _to_json(e: FileExtraction) -> bytes:
    """orjson: it writes ~6x and reads ~1.3x faster than ``json``, on the critical path of a
    cold run."""
    return orjson.dumps(_encode(e))


def _from_json(path: str, text: bytes) -> FileExtraction:
    return _decode(path, orjson.loads(text))


def pack(e: FileExtraction) -> bytes:
    """An extraction as the store caches it: compressed compact JSON."""
    return zlib.compress(_to_json(e), 1)


def unpack(path: str, payload: bytes) -> FileExtraction:
    return _from_json(path, zlib.decompress(payload))


def _extract_one(root: str, rel: str) -> FileExtraction:
    from cogo_pipelines.indexing.typescript import extract_file  # loaded by ``_parser_ready`` first

    try:
        return extract_file(rel, Path(root, rel).read_bytes())
    except OSError as exc:
        return FileExtraction(path=rel, error=f"cannot read: {exc}")


def _extract_batch(root: str, paths: list[str], packed: bool = False) -> list[tuple[FileExtraction, bytes | None]]:
    return [(e, pack(e) if packed else None) for e in (_extract_one(root, rel) for rel in paths)]


def _extract_packed_batch(root: str, paths: list[str]) -> list[tuple[str, bytes, bytes]]:
    """The cache payloads and their JSON go back to the parent: pickling the extraction
    objects cost the workers more than the parent's decoding, and the parent need not
    decompress what the worker has just compressed."""
    out = []
    for rel in paths:
        text = _to_json(_extract_one(root, rel))
        out.append((rel, zlib.compress(text, 1), text))  # the payload as ``pack`` makes it
    return out


def _shrinking(weighed: list[tuple[str, int]], workers: int, smallest: int) -> list[list[str]]:
    """Chunks to hand out in order, heaviest files first, each about ``1/(4 * workers)`` of
    the weight still left and never under ``smallest``: the chunks shrink as the work runs
    out, so whichever worker takes the last one is done soon after the others (weight only
    guesses time, and equal chunks left a core idle at the end for a whole chunk)."""
    left = sum(weight for _, weight in weighed)
    chunks: list[list[str]] = []
    chunk, size = [], 0
    for name, weight in sorted(weighed, key=lambda w: -w[1]):
        chunk.append(name)
        size += weight
        if size >= max(left / (4 * workers), smallest):
            chunks.append(chunk)
            left -= size
            chunk, size = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


def _fork_is_safe() -> bool:
    """Forking copies only the calling thread: a lock another thread holds at that moment
    (Dagster's, a server's) stays locked for good in the child. So fork only when alone."""
    return threading.active_count() == 1


def workers() -> int:
    """Parsing (and linking) processes: one per core this process may run on, at most
    ``MAX_WORKERS``; ``COGO_GRAPH_WORKERS`` asks for fewer."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    wanted = os.environ.get("COGO_GRAPH_WORKERS")
    return max(1, min(cores, int(wanted) if wanted else MAX_WORKERS))


def _parser_ready(files: list[SourceFile]) -> None:
    """Load tree-sitter, its grammars and the queries ``files`` need here, before any worker is
    forked, so the workers inherit them instead of each loading its own. Deferred to the first
    parse: a run with nothing to parse (a warm ``cogo graph``) never pays for them."""
    from cogo_pipelines.indexing import typescript

    typescript.prepare(f.path for f in files)


def extract_many(root: Path, files: Iterable[SourceFile], progress: Progress = None) -> dict[str, FileExtraction]:
    """Extract TypeScript files, across processes when there is enough work."""
    return extract_packed(root, files, progress, packed=False)


def extract_packed(
    root: Path, files: Iterable[SourceFile], progress: Progress = None, packed: bool = True,
    on_extraction: Callable[[FileExtraction, bytes | None], None] | None = None,
) -> dict[str, FileExtraction]:
    """Extractions, made in the worker processes. ``on_extraction`` sees each one as it
    arrives, while the workers go on parsing, with (when ``packed``) its cache payload."""
    files = [f for f in files if f.language in TYPESCRIPT]
    total = len(files)
    n = workers()
    extractions: dict[str, FileExtraction] = {}

    def take(batch: list[tuple[FileExtraction, bytes | None]]) -> None:
        for extraction, payload in batch:
            extractions[extraction.path] = extraction
            if on_extraction:
                on_extraction(extraction, payload)
        if progress:
            progress("parse", len(extractions), total)

    if files:
        _parser_ready(files)
    if n < 2 or sum(f.size for f in files) < PARALLEL_MIN_BYTES or len(files) < 2:
        for f in files:
            take(_extract_batch(str(root), [f.path], packed))
    else:
        # bytes predict parse time badly (a 3.2 MB file of one string parses in 0.1 s; a file
        # tree-sitter has to recover from syntax errors in takes many times its share), so the
        # last chunks must be short for the cores to finish together
        chunks = _shrinking([(f.path, f.size) for f in files], n, SMALLEST_CHUNK_BYTES)
        # fork is cheapest, but forking a process that runs other threads (Dagster, servers) can
        # deadlock on a lock held at fork time; then start clean workers instead
        context = multiprocessing.get_context("fork" if _fork_is_safe() else "forkserver")
        with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
            if packed:
                futures = [pool.submit(_extract_packed_batch, str(root), chunk) for chunk in chunks]
            else:
                futures = [pool.submit(_extract_batch, str(root), chunk, packed) for chunk in chunks]
            # the work is all handed out: each worker is told to exit once it has none left, so
            # its exit (the kernel freeing its ~100 MB) overlaps the intake of the last results
            # here instead of following it (the block's end then finds them gone: 10-25 ms)
            pool.shutdown(wait=False)
            for future in as_completed(futures):
                batch = future.result()
                take([(_from_json(path, text), payload) for path, payload, text in batch] if packed else batch)
    if progress:
        progress("parse", total, total)
    return dict(sorted(extractions.items()))  # the same order whichever batch finished first


_linking: tuple[Linker, Callable[[dict], Any]] | None = None  # what forked linking processes inherit


def _link_chunk(paths: list[str]) -> Any:
    linker, emit = _linking
    batch: dict = {}
    for path in paths:
        batch.update(linker.file_edges(path))  # files never share an edge key
    return emit(batch)


def _uses(e: FileExtraction) -> int:
    return len(e.calls) + len(e.references) + len(e.heritage) + len(e.renders) + 1


def link_files(linker: Linker, emit: Callable[[dict], Any]) -> Iterable[Any]:
    """``emit`` of the symbol edges of every file, chunk by chunk, as chunks finish.

    With enough work, forked processes link (and ``emit``) the chunks: they inherit the
    linker, so nothing but ``emit``'s result crosses a pipe, and the symbol lookups run on
    every core but the one left to the store's server (``LINKING_CORES_LEFT``). The processes
    are forked before this returns: forking needs this process to run no other thread (a lock
    held at fork time would never be released in the child), so call it before starting one;
    with other threads running, for small repos, and where fewer than ``MIN_LINKING_PROCESSES``
    would run (2 cores), the returned iterator links here, file by file. Either way, ``close()``
    it when done."""
    global _linking
    extractions = linker.extractions
    n = workers() - LINKING_CORES_LEFT
    if (n < MIN_LINKING_PROCESSES or not _fork_is_safe()
            or sum(_uses(e) for e in extractions.values()) < PARALLEL_MIN_USES):
        return (emit(linker.file_edges(path)) for path in sorted(extractions))
    _linking = (linker, emit)
    try:
        pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork"))
        # shrinking chunks, as the parse's: the store's server ingests each chunk's rows after it
        # is linked, so the rows of the last chunk are what a cold write waits for at its end
        # (eight equal chunks left it an eighth of the edges, ~0.04 s on effect)
        chunks = _shrinking([(path, _uses(e)) for path, e in extractions.items()], n, SMALLEST_LINK_CHUNK)
        futures = [pool.submit(_link_chunk, paths) for paths in chunks]  # the first submit forks them all
    finally:
        _linking = None
    return _Linking(pool, futures)


class _Linking:
    """The chunks' results as they finish; ``close`` (also after a failure elsewhere, before any
    result was taken) stops the linking processes."""

    def __init__(self, pool: ProcessPoolExecutor, futures: list) -> None:
        self.pool, self.futures = pool, futures

    def __iter__(self) -> Iterator[Any]:
        try:
            for future in as_completed(self.futures):
                yield future.result()
        finally:
            self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def analyze(
    root: Path,
    entries: list[str] | None = None,
    policy: sources.Policy | None = None,
    repo: str | None = None,
    discovery: sources.Discovery | None = None,
) -> tuple[graph_module.StaticGraph, dict[str, float]]:
    """The full static graph of ``root`` with timings per stage (no store, no cache); files
    that could not be read are in ``errors``."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    discovery = discovery if discovery is not None else sources.scan(root, policy or sources.Policy())
    found = discovery.files
    seconds["discover"] = time.perf_counter() - t
    t = time.perf_counter()
    extractions = extract_many(root, found)
    seconds["parse"] = time.perf_counter() - t
    t = time.perf_counter()
    config = tsconfig.find(root)
    static = graph_module.build(repo or sources.repo_id(root), extractions, Resolver(root, config), entries)
    static.errors = list(static.errors) + list(discovery.errors)
    seconds["graph"] = time.perf_counter() - t
    return static, seconds
