"""Top-10 latency of `cogo search` over a large index.

    python bench/search_latency.py [--chunks 100000] [--queries 200] [--files N]
        [--keep | --database NAME]

Loads N synthetic chunks (identifier-rich text; random unit vectors, or with ``--vectors static``
the static model's vectors of each chunk's text, clustered like real code) into a scratch database
of the store (``DATABASE_URL`` or the embedded server), builds the same indexes as production
(HNSW, BM25 postings, IDF table), then times ``knowledge.search`` for hybrid, keyword-only and
vector-only queries and prints p50/p95/max in ms. The query vector is given (as the CLI would
have it after encoding); the model's encode time for one query is printed beside it.

``hybrid+sum ∥`` is the sidecar's search once its summary model is loaded: the vector read
beside, the question encoded by the MiniLM transformer (run by ONNX Runtime, as the sidecar runs
it; ``… torch``: through sentence-transformers, as before the export), and the file summaries'
reads (one summary per synthetic file, random unit vectors); the transformer's encode time alone
for one question is printed apart, for both runtimes.

``--database NAME`` times an existing scratch database (one ``--keep`` left) instead of loading one.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import psycopg
from psycopg.rows import dict_row

from cogo_pipelines.indexing.chunk import Chunk
from cogo_pipelines.store import chunk_writes, db, file_summaries, knowledge

SUMMARY_KEY = "bench-summaries"


class GivenVector:
    """A summary model (``knowledge.SummaryModel``) that encodes the question with the MiniLM
    transformer, as the sidecar's does (the real cost), and answers with the vector given (the
    synthetic summaries' vectors are random: so is the question's). ``torch``: through
    sentence-transformers, as before the ONNX export (``indexing/transformer_onnx.py``)."""

    key = SUMMARY_KEY

    def __init__(self, vector, torch: bool = False) -> None:
        self._vector = vector
        self._torch = torch

    def vector(self, text: str):
        from cogo_pipelines.indexing import embedding

        if self._torch:
            torch_model(embedding).encode([text], normalize_embeddings=True, convert_to_numpy=True)
        else:
            embedding.encode([text], model="minilm")
        return self._vector

    def notice_incomplete(self) -> None:
        pass  # the synthetic summaries are complete


def torch_model(embedding):
    """The shipped MiniLM through sentence-transformers (torch), whatever ``encode`` runs."""
    return embedding._load(embedding.model_name(embedding.TRANSFORMER_NAME))


PARTS = [
    "job",
    "queue",
    "lease",
    "claim",
    "runner",
    "heartbeat",
    "retry",
    "backoff",
    "router",
    "executor",
    "task",
    "plan",
    "quality",
    "gate",
    "score",
    "metric",
    "registry",
    "handler",
    "build",
    "debug",
    "test",
    "lint",
    "coverage",
    "config",
    "env",
    "secret",
    "vault",
    "key",
    "encrypt",
    "embed",
    "chunk",
    "search",
    "index",
    "graph",
    "node",
    "edge",
    "module",
    "import",
    "export",
    "parse",
    "schema",
    "object",
    "array",
    "string",
    "number",
    "union",
    "record",
    "map",
    "error",
    "issue",
    "format",
    "check",
    "refine",
    "transform",
    "pipe",
    "default",
    "catch",
    "enum",
    "literal",
    "tuple",
    "optional",
    "nullable",
    "procedure",
    "middleware",
    "context",
    "adapter",
    "request",
    "response",
    "stream",
    "subscription",
    "observable",
    "socket",
    "server",
    "client",
]


def synthetic_chunk(rng: random.Random, i: int, files: int | None = None) -> Chunk:
    """Chunk ``i``; its file one of ``files`` (None: nearly one file per chunk, the worst case for
    the summary list, one summary per file; real repos hold 10-30 chunks per file)."""
    words = [rng.choice(PARTS) for _ in range(3)]
    name = words[0] + "".join(w.title() for w in words[1:]) + str(i % 997)
    folder = "/".join(rng.choice(PARTS) for _ in range(2))
    body = " ".join(
        rng.choice(PARTS) + (rng.choice(PARTS).title() if rng.random() < 0.4 else "")
        for _ in range(rng.randint(40, 160))
    )
    if files:
        file = i % files
        path, start = f"src/{PARTS[file % len(PARTS)]}/{PARTS[file // len(PARTS) % len(PARTS)]}{file}.ts", 1 + 20 * (i // files)
    else:
        path, start = f"src/{folder}/{words[1]}{i % 500}.ts", 1
    return Chunk(path, "code", f"export function {name}() {{ {body} }}", start, start + 19,
                 symbol=name, kind="function", signature=f"function {name}()")  # fmt: skip


def load(conn: psycopg.Connection, n: int, rng: random.Random, vectors: str = "random",
         files: int | None = None) -> np.ndarray:
    """Load ``n`` chunks; ``vectors``: ``random`` unit vectors (no structure: the worst case for
    an HNSW graph) or ``static`` (each chunk's text through the static model, clustered like real
    code). Returns the vectors in chunk id order."""
    t = time.perf_counter()
    conn.execute("DROP INDEX IF EXISTS code_chunks_embedding_hnsw")
    by_path: dict[str, list[Chunk]] = {}
    for i in range(n):
        c = synthetic_chunk(rng, i, files)
        by_path.setdefault(c.path, []).append(c)
    for path, chunks in by_path.items():
        chunk_writes.replace_file_chunks(conn, "synthetic", path, "h", chunks)
    ids = [r["id"] for r in conn.execute("SELECT id FROM code_chunks ORDER BY id")]
    if vectors == "static":
        from cogo_pipelines.indexing import embedding

        texts = [r["t"] for r in conn.execute("SELECT content AS t FROM code_chunks ORDER BY id")]
        vectors = embedding.encode(texts)
    else:
        vectors = np.random.default_rng(7).standard_normal((n, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    conn.execute("CREATE TEMP TABLE tmp_vec (id text, embedding vector(384))")
    with conn.cursor().copy("COPY tmp_vec (id, embedding) FROM STDIN") as copy:
        for cid, v in zip(ids, vectors, strict=False):
            copy.write_row((cid, knowledge.vector_literal(v)))
    conn.execute("UPDATE code_chunks c SET embedding = t.embedding FROM tmp_vec t WHERE c.id = t.id")
    print(f"loaded {n} chunks in {len(by_path)} files: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    chunk_writes.refresh_terms(conn, "synthetic")
    chunk_writes.write_postings(conn, "synthetic", list(by_path))
    print(f"postings + IDF: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute(
        "CREATE INDEX code_chunks_embedding_hnsw ON code_chunks USING hnsw (embedding vector_cosine_ops)"
    )
    conn.execute("ANALYZE code_chunks")
    conn.execute("ANALYZE chunk_postings")
    print(f"HNSW index: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    file_summaries.sync(conn, "synthetic")
    conn.execute("DROP INDEX IF EXISTS file_summaries_embedding_hnsw")
    paths = [r["path"] for r in conn.execute("SELECT path FROM file_summaries ORDER BY path")]
    unit = np.random.default_rng(11).standard_normal((len(paths), 384)).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    conn.execute("CREATE TEMP TABLE tmp_sum (path text, embedding vector(384))")
    with conn.cursor().copy("COPY tmp_sum (path, embedding) FROM STDIN") as copy:
        for path, v in zip(paths, unit, strict=True):
            copy.write_row((path, knowledge.vector_literal(v)))
    conn.execute("UPDATE file_summaries s SET embedding = t.embedding, model = %s FROM tmp_sum t WHERE s.path = t.path",
                 (SUMMARY_KEY,))
    conn.execute("CREATE INDEX file_summaries_embedding_hnsw ON file_summaries USING hnsw (embedding vector_cosine_ops)")
    conn.execute("ANALYZE file_summaries")
    print(f"{len(paths)} file summaries: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return vectors


# name -> (mode, vector read on a second connection, summary list: None | "onnx" | "torch")
VARIANTS = {"hybrid": ("hybrid", False, None), "hybrid ∥": ("hybrid", True, None),
            "hybrid+sum ∥": ("hybrid", True, "onnx"), "hybrid+sum ∥ torch": ("hybrid", True, "torch"),
            "keyword": ("keyword", False, None), "vector": ("vector", False, None)}  # fmt: skip


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--files", type=int, help="spread the chunks over this many files (default: ~one each)")
    parser.add_argument("--database", help="time this scratch database (one --keep left) instead of loading one")
    parser.add_argument(
        "--vectors",
        choices=("random", "static"),
        default="random",
        help="chunk and query vectors: random unit vectors, or the static model's",
    )
    args = parser.parse_args()
    base = db.database_url()
    name = args.database or "bench_latency_" + uuid.uuid4().hex[:8]
    if args.database:
        args.keep = True
    else:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
    url = psycopg.conninfo.make_conninfo(base, dbname=name)
    try:
        with psycopg.connect(url, row_factory=dict_row) as conn:
            db.migrate(conn)
            if not args.database:
                load(conn, args.chunks, random.Random(1), args.vectors, args.files)
                conn.commit()
            rng = random.Random(2)
            qrng = np.random.default_rng(3)
            queries = []
            for _ in range(args.queries * len(VARIANTS)):  # each variant its own questions
                words = [rng.choice(PARTS) for _ in range(rng.randint(2, 7))]
                text = (
                    " ".join(words)
                    if rng.random() < 0.7
                    else words[0] + "".join(w.title() for w in words[1:3])
                )
                vec = qrng.standard_normal(384).astype(np.float32)
                queries.append((text, vec / np.linalg.norm(vec)))
            if args.vectors == "static":
                from cogo_pipelines.indexing import embedding

                vectors = embedding.encode([text for text, _ in queries])
                queries = [(text, vec) for (text, _), vec in zip(queries, vectors, strict=True)]
            for text, vec in queries[:10]:  # warm caches (and load the transformer, both runtimes)
                knowledge.search(conn, text, k=10, repo="synthetic", query_vector=vec, summary=GivenVector(vec))
                GivenVector(vec, torch=True).vector(text)
            print(f"{args.chunks} chunks, {args.queries} queries per variant, top-10, ms")
            print(f"{'mode':<19}{'p50':>8}{'p95':>8}{'max':>8}")
            other = psycopg.connect(url, row_factory=dict_row, autocommit=True)
            times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
            order = random.Random(4)
            for round_start in range(0, len(queries), len(VARIANTS)):
                # interleaved, so load changes hit every variant alike; in a shuffled order, each
                # variant with a question of its own: one that ran after another on the same vector
                # would find the index pages that one read already in the buffers
                shuffled = order.sample(list(VARIANTS), len(VARIANTS))
                for variant, (text, vec) in zip(shuffled, queries[round_start:round_start + len(VARIANTS)], strict=True):
                    mode, beside, with_summaries = VARIANTS[variant]
                    vector_conn = other if beside else None
                    summary = GivenVector(vec[::-1].copy(), torch=with_summaries == "torch") if with_summaries else None
                    t = time.perf_counter()
                    knowledge.search(conn, text, k=10, repo="synthetic", mode=mode, query_vector=vec,
                                     vector_conn=vector_conn, summary=summary)  # fmt: skip
                    times[variant].append(1000 * (time.perf_counter() - t))
            other.close()
            for mode, measured in times.items():
                print(
                    f"{mode:<19}{statistics.median(measured):>8.1f}{percentile(measured, 95):>8.1f}{max(measured):>8.1f}"
                )
        from cogo_pipelines.indexing import embedding

        embedding.encode(["warm up"])
        t = time.perf_counter()
        for text, _ in queries[:50]:
            embedding.encode_query(text)
        print(f"query encode (model, CPU): {1000 * (time.perf_counter() - t) / 50:.1f} ms per query")
        embedding.encode(["warm up"], model="minilm")
        t = time.perf_counter()
        for text, _ in queries[:50]:
            embedding.encode([text], model="minilm")
        print(f"question encode (summary model, MiniLM transformer, ONNX Runtime): {1000 * (time.perf_counter() - t) / 50:.1f}"
              " ms per query")
        t = time.perf_counter()
        for text, _ in queries[:50]:
            torch_model(embedding).encode([text], normalize_embeddings=True, convert_to_numpy=True)
        print(f"question encode (the same through sentence-transformers, torch): {1000 * (time.perf_counter() - t) / 50:.1f}"
              " ms per query")
    finally:
        if not args.keep:
            with psycopg.connect(base, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
