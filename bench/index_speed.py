"""Index speed: cold per-stage time vs raw model.encode, and a one-file incremental re-index.

    python bench/index_speed.py REPO [--files 1000]

1. Cold: REPO is indexed into a scratch database (empty embedding cache) and the seconds of
   each stage are printed, then ``model.encode`` is timed alone on exactly the texts the run
   embedded (model loaded beforehand for both). Overhead = (pipeline - raw encode) / raw encode.
2. Incremental: a generated TypeScript repo of ``--files`` files is indexed (its vectors are
   filled with random unit vectors to skip minutes of encoding that this figure is not about),
   one file is edited, and the re-index is timed end to end, model already loaded (as in a
   long-lived Dagster or sidecar process; a fresh ``cogo index`` process adds the model load,
   printed separately).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import psycopg
from psycopg.rows import dict_row

from cogo_pipelines.indexing import embedding
from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import chunk_writes, db


@contextmanager
def scratch_db():
    base = db.database_url()
    name = "bench_index_" + uuid.uuid4().hex[:8]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(psycopg.conninfo.make_conninfo(base, dbname=name), row_factory=dict_row) as conn:
            db.migrate(conn)
            yield conn
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def generate_repo(root: Path, n: int) -> None:
    """``n`` TypeScript modules importing each other, each with a class, functions and types."""
    for i in range(n):
        folder = root / "src" / f"area{i % 25}"
        folder.mkdir(parents=True, exist_ok=True)
        dep = f"../area{(i + 1) % 25}/module{(i + 1) % n}"
        (folder / f"module{i}.ts").write_text(
            f"import {{ helper{(i + 1) % n} }} from '{dep}.js';\n\n"
            f"/** Options of task kind {i}. */\nexport interface Options{i} {{\n  retries: number;\n  label: string;\n}}\n\n"
            f"/** Compute the score of item {i} from its weight. */\n"
            f"export function helper{i}(weight: number): number {{\n  return weight * {i % 7 + 1} + helper{(i + 1) % n}.length;\n}}\n\n"
            f"export class Service{i} {{\n  constructor(private readonly opts: Options{i}) {{}}\n\n"
            f"  run(input: string): string {{\n    return `${{this.opts.label}}:${{input}}:${{helper{i}(this.opts.retries)}}`;\n  }}\n}}\n"
        )


def cold(repo: Path) -> None:
    t = time.perf_counter()
    embedding.encode(["warm up"])
    load = time.perf_counter() - t
    with scratch_db() as conn:
        t = time.perf_counter()
        summary = index_run.run_index(conn, repo)
        total = time.perf_counter() - t
        texts = list(chunk_writes.texts_to_embed(conn, summary.repo, only_missing=False).values())
    raws = []
    for _ in range(2):  # best of two: the CPU is shared, the pipeline had one go
        t = time.perf_counter()
        embedding.get_model().encode(texts, batch_size=embedding.BATCH_SIZE, normalize_embeddings=True)
        raws.append(time.perf_counter() - t)
    raw = min(raws)
    print(
        f"cold index of {summary.repo}: {summary.files} files, {summary.chunks} chunks, {summary.embedded} embedded"
    )
    print("  " + "  ".join(f"{k} {v:.2f} s" for k, v in summary.seconds.items()) + f"  total {total:.2f} s")
    other = total - summary.seconds.get("embed", 0.0)
    print(
        f"  raw model.encode of the same {len(texts)} texts: {raw:.2f} s (best of "
        + ", ".join(f"{r:.2f}" for r in raws)
        + f"); pipeline overhead {100 * (total - raw) / raw:+.1f} %"
        + f" (stages other than embed: {other:.2f} s = {100 * other / raw:.1f} % of raw encode)"
    )
    print(f"  model load (once per process): {load:.2f} s")


def incremental(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, scratch_db() as conn:
        root = Path(tmp) / "generated"
        generate_repo(root, n)
        t = time.perf_counter()
        first = index_run.run_index(conn, root, embed=False)
        no_embed = time.perf_counter() - t
        rows = conn.execute(
            "SELECT DISTINCT content_hash FROM code_chunks WHERE embedding IS NULL"
        ).fetchall()
        vectors = (
            np.random.default_rng(0).standard_normal((len(rows), embedding.DIMENSIONS)).astype(np.float32)
        )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        chunk_writes.save_embeddings(conn, embedding.model_key(), [r["content_hash"] for r in rows], vectors)
        chunk_writes.fill_from_cache(conn, first.repo, embedding.model_key())  # the chunks take them now
        chunk_writes.refresh_terms(conn, first.repo)
        conn.commit()
        t = time.perf_counter()
        same = index_run.run_index(conn, root)
        unchanged = time.perf_counter() - t
        target = root / "src/area3/module3.ts"
        target.write_text(
            target.read_text() + "\n/** Added by the benchmark. */\nexport const EXTRA_3 = 3;\n"
        )
        t = time.perf_counter()
        edit = index_run.run_index(conn, root)
        edited = time.perf_counter() - t
    print(
        f"generated repo: {first.files} files, {first.chunks} chunks ({no_embed:.1f} s cold without embeddings)"
    )
    print(
        f"  re-index, nothing changed: {unchanged:.2f} s (re-chunked {same.rechunked_files}, embedded {same.embedded})"
    )
    print(f"  re-index after a one-file edit: {edited:.2f} s (re-chunked {edit.rechunked_files}, embedded {edit.embedded}; "
          + "  ".join(f"{k} {v:.2f}" for k, v in edit.seconds.items()) + ")")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument(
        "--files", type=int, default=1000, help="size of the generated repo for the incremental run"
    )
    args = parser.parse_args()
    cold(args.repo)
    incremental(args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
