"""The static graph pipeline without a store: discover → extract (in parallel) → build.

``graph_store.index_static_graph`` runs the same steps with the extraction cache in
between; benches and tests use ``analyze`` directly.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cogo_pipelines.indexing import graph as graph_module
from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.model import FileExtraction, SourceFile
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.typescript import extract_file

TYPESCRIPT = ("typescript", "tsx")
# below this many bytes a process pool costs more than it saves
PARALLEL_MIN_BYTES = 500_000
Progress = Callable[[str, int, int], None] | None


def _extract_batch(root: str, paths: list[str]) -> list[FileExtraction]:
    out = []
    for rel in paths:
        try:
            data = Path(root, rel).read_bytes()
        except OSError as exc:
            out.append(FileExtraction(path=rel, error=f"cannot read: {exc}"))
            continue
        out.append(extract_file(rel, data))
    return out


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
    files = [f for f in files if f.language in TYPESCRIPT]
    total = len(files)
    n = workers()
    if n < 2 or sum(f.size for f in files) < PARALLEL_MIN_BYTES or len(files) < 2:
        results = _extract_batch(str(root), [f.path for f in files])
    else:
        chunks = _batches(files, n * 4)
        results = []
        # fork is cheapest, but forking a process that runs other threads (Dagster, servers) can
        # deadlock on a lock held at fork time; then start clean workers instead
        context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
        with ProcessPoolExecutor(max_workers=n, mp_context=context) as pool:
            for batch in pool.map(_extract_batch, [str(root)] * len(chunks), chunks):
                results.extend(batch)
                if progress:
                    progress("parse", len(results), total)
    if progress:
        progress("parse", total, total)
    return {r.path: r for r in results}


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
