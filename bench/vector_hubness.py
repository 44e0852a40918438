"""Hubness correction (CSLS-like) of the static vector side, every set, one store.

    python bench/vector_hubness.py SETS PROBE:K:BETA,...   (e.g. umami,zod none:0:0,self:10:1,nl:10:0.5)

Each chunk's cosine to a question is lowered by BETA x (r_d - mean r), r_d being its mean cosine
to its K nearest probes: ``self`` (the other chunks), ``nl`` (the repo's doc comments and
markdown), ``names`` (its symbols' name words); ``none`` is today's ranking. The vector list is
read by an exact cosine search, the keyword side and the fusion are the store's. Run
``bench/retrieval_suite.py`` first (it indexes the sets). Figures: docs/RAG.md, "Hubness
correction of the vector side" (tried and dropped).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import embed_text_variants as variants
import numpy as np
import retrieval_eval
import retrieval_suite

from cogo_pipelines.indexing import static_embedding
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import db, knowledge


def probes(model: str, chunks: list, matrix: np.ndarray) -> dict[str, np.ndarray]:
    """The probe vectors of each kind for one set."""
    prose = [variants.doc_comments(c.content) for c in chunks if c.chunk_type in ("code", "module")]
    prose = [t for t in prose if len(t.split()) >= 4]
    prose += [c.embed_text() for c in chunks if c.chunk_type not in ("code", "module", "sql")]
    names = [" ".join(variants._words(c.symbol or c.path)) for c in chunks]
    return {
        "self": matrix,
        "nl": static_embedding.encode(model, prose or ["x"]),
        "names": static_embedding.encode(model, names),
    }


def penalty(matrix: np.ndarray, probe: np.ndarray | None, k: int, beta: float, same: bool) -> np.ndarray:
    """BETA x (r_d - mean r) per chunk; zeros without a probe."""
    if probe is None:
        return np.zeros(len(matrix), dtype=np.float32)
    sims = matrix @ probe.T
    if same:
        np.fill_diagonal(sims, -1)
    k = min(k, sims.shape[1])
    r = -np.partition(-sims, k - 1, axis=1)[:, :k].mean(axis=1)
    return beta * (r - r.mean())


def corrected_ranking(ids: list[str], matrix: np.ndarray, adjust: np.ndarray):
    """A stand-in for ``knowledge.vector_ranking``: exact cosines less the penalty."""

    def ranking(conn, query_vector, repo, limit=knowledge.CANDIDATES):
        sims = matrix @ np.asarray(query_vector, dtype=np.float32) - adjust
        top = np.argsort(-sims, kind="stable")[:limit]
        return [(ids[i], float(sims[i])) for i in top]

    return ranking


def mean_ndcg(results: dict, group: list[str], mode: str) -> float:
    return sum(results[s][mode]["NDCG@10"] for s in group) / len(group)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sets", help="comma list of retrieval_suite sets (umami,storage,...)")
    p.add_argument("configs", help="comma list of PROBE:K:BETA (PROBE: none, self, nl, names)")
    a = p.parse_args()
    sets = a.sets.split(",")
    configs = [c.split(":") for c in a.configs.split(",")]
    unknown = [s for s in sets if s not in retrieval_suite.SETS]
    bad = [c for c in configs if len(c) != 3 or c[0] not in ("none", "self", "nl", "names")
           or not c[1].isdigit() or not c[2].replace(".", "", 1).isdigit()]
    if unknown or bad:
        p.error(f"unknown sets {unknown} or bad configs {[':'.join(c) for c in bad]}")
    model = str(static_embedding.ensure(get_settings().cogo_home.resolve()))
    real = knowledge.vector_ranking
    results: dict[str, dict] = {}
    with db.connect() as conn:
        for name in sets:
            questions = retrieval_eval.load_questions(retrieval_suite.SETS[name][1])
            ids, chunks = variants.chunks_of(conn, name)
            matrix = static_embedding.encode(model, [c.embed_text() for c in chunks])
            kinds = probes(model, chunks, matrix)
            for probe, k, beta in configs:
                adjust = penalty(matrix, kinds.get(probe), int(k), float(beta), probe == "self")
                knowledge.vector_ranking = corrected_ranking(ids, matrix, adjust)
                try:
                    means, _latency, _misses = retrieval_eval.evaluate(conn, name, questions, modes=("hybrid", "vector"))
                finally:
                    knowledge.vector_ranking = real
                key = f"{probe}:{k}:{beta}"
                results.setdefault(key, {})[name] = means
                h, v = means["hybrid"], means["vector"]
                print(f"{name:<11} {key:<14} hybrid {h['NDCG@10']:.3f}/{h['recall@5']:.3f}  vector {v['NDCG@10']:.3f}",
                      flush=True)  # fmt: skip
    apps = [s for s in sets if s in variants.APPS] or sets
    for key, per_set in results.items():
        print(f"{key:<14} apps hybrid {mean_ndcg(per_set, apps, 'hybrid'):.3f} vector {mean_ndcg(per_set, apps, 'vector'):.3f}"
              f" | all hybrid {mean_ndcg(per_set, sets, 'hybrid'):.3f} vector {mean_ndcg(per_set, sets, 'vector'):.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
