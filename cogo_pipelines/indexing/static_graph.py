"""The static graph pipeline without a store: discover → extract (in parallel) → build.

``graph_store.index_static_graph`` runs the same steps with the extraction cache in
between; benches and tests use ``analyze`` directly.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cogo_pipelines.indexing import graph as graph_module
from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.model import CallSite, FileExtraction, ImportRecord, SourceFile, Symbol
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.typescript import extract_file

TYPESCRIPT = ("typescript", "tsx")
# below this many bytes a process pool costs more than it saves
PARALLEL_MIN_BYTES = 500_000
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
    )


def pack(e: FileExtraction) -> bytes:
    """An extraction as the store caches it: compressed compact JSON."""
    return zlib.compress(json.dumps(_encode(e), separators=(",", ":")).encode(), 1)


def unpack(path: str, payload: bytes) -> FileExtraction:
    return _decode(path, json.loads(zlib.decompress(payload)))


def _extract_batch(root: str, paths: list[str], packed: bool = False) -> list[tuple[FileExtraction, bytes | None]]:
    out = []
    for rel in paths:
        try:
            extraction = extract_file(rel, Path(root, rel).read_bytes())
        except OSError as exc:
            extraction = FileExtraction(path=rel, error=f"cannot read: {exc}")
        out.append((extraction, pack(extraction) if packed else None))  # packed where the work is parallel
    return out


def _extract_packed_batch(root: str, paths: list[str]) -> list[tuple[str, bytes]]:
    """Only the cache payloads go back to the parent, which unpacks them: pickling the
    extraction objects as well cost the workers more than the parent's unpacking."""
    return [(e.path, p) for e, p in _extract_batch(root, paths, packed=True)]


def _batches(files: list[SourceFile], count: int) -> list[list[str]]:
    """Size-balanced batches: largest files first, each to the lightest batch."""
    buckets: list[tuple[int, list[str]]] = [(0, []) for _ in range(count)]
    for f in sorted(files, key=lambda f: -f.size):
        i = min(range(count), key=lambda k: buckets[k][0])
        buckets[i] = (buckets[i][0] + f.size, buckets[i][1] + [f.path])
    return [b for _, b in buckets if b]


def workers() -> int:
    return max(1, min(2, os.cpu_count() or 1, int(os.environ.get("COGO_GRAPH_WORKERS", "2"))))


def extract_many(root: Path, files: Iterable[SourceFile], progress: Progress = None) -> dict[str, FileExtraction]:
    """Extract TypeScript files, across processes when there is enough work."""
    return extract_packed(root, files, progress, packed=False)[0]


def extract_packed(
    root: Path, files: Iterable[SourceFile], progress: Progress = None, packed: bool = True,
) -> tuple[dict[str, FileExtraction], dict[str, bytes]]:
    """Extractions and (when ``packed``) their cache payloads, made in the worker processes."""
    files = [f for f in files if f.language in TYPESCRIPT]
    total = len(files)
    n = workers()
    if n < 2 or sum(f.size for f in files) < PARALLEL_MIN_BYTES or len(files) < 2:
        results = _extract_batch(str(root), [f.path for f in files], packed)
    else:
        # many small batches: bytes predict parse time badly (effect 4's Effect.ts: 0.9 MB, 0.5 s;
        # a 3.2 MB file of one string: 0.2 s), so the last batch must be short for the cores to
        # finish together
        chunks = _batches(files, n * 16)
        results = []
        # fork is cheapest, but forking a process that runs other threads (Dagster, servers) can
        # deadlock on a lock held at fork time; then start clean workers instead
        context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
        with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
            if packed:
                batches = (
                    [(unpack(path, payload), payload) for path, payload in batch]
                    for batch in pool.map(_extract_packed_batch, [str(root)] * len(chunks), chunks)
                )
            else:
                batches = pool.map(_extract_batch, [str(root)] * len(chunks), chunks, [packed] * len(chunks))
            for batch in batches:
                results.extend(batch)
                if progress:
                    progress("parse", len(results), total)
    if progress:
        progress("parse", total, total)
    extractions = {e.path: e for e, _ in results}
    payloads = {e.path: p for e, p in results if p is not None}
    return extractions, payloads


def analyze(
    root: Path,
    entries: list[str] | None = None,
    policy: sources.Policy | None = None,
    repo: str | None = None,
) -> tuple[graph_module.StaticGraph, dict[str, float]]:
    """The full static graph of ``root`` with timings per stage (no store, no cache)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    found = sources.discover(root, policy or sources.Policy())
    seconds["discover"] = time.perf_counter() - t
    t = time.perf_counter()
    extractions = extract_many(root, found)
    seconds["parse"] = time.perf_counter() - t
    t = time.perf_counter()
    config = tsconfig.find(root)
    static = graph_module.build(repo or sources.repo_id(root), extractions, Resolver(root, config), entries)
    seconds["graph"] = time.perf_counter() - t
    return static, seconds
