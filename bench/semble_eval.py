"""semble beside `cogo search`: the same questions, file relevance, same metrics (run in semble's venv).

    /tmp/i20-semble/bin/python bench/semble_eval.py REPO QUESTIONS.tsv --model STATIC_MODEL_DIR [--alpha 0]

semble's default model (potion-code-16M) needs a hub download, so it is pointed at a local
model2vec folder (e.g. cogo's distilled ``$COGO_HOME/models/minilm-static``); ``--alpha 0`` is
its BM25 mode (the model then only builds the unused dense index). Prints index seconds,
ms/query and recall@1/@5, MRR, NDCG@10.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from semble import SembleIndex
from semble.types import ContentType


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("repo", type=Path)
    p.add_argument("questions", type=Path)
    p.add_argument("--model", required=True)
    p.add_argument("--alpha", type=float, default=None)
    p.add_argument("--json", action="store_true", help="one JSON object instead of the line")
    a = p.parse_args()
    qs = []
    for line in a.questions.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            q, _, ans = line.partition("\t")
            qs.append((q.strip(), {x.strip() for x in ans.split(",") if x.strip()}))
    t = time.perf_counter()
    index = SembleIndex.from_path(a.repo, content=[ContentType.CODE, ContentType.DOCS], model_path=a.model)
    index_s = time.perf_counter() - t
    tot = {"recall@1": 0.0, "recall@5": 0.0, "MRR": 0.0, "NDCG@10": 0.0}
    t = time.perf_counter()
    for q, rel in qs:
        files: list[str] = []
        for r in index.search(q, top_k=200, alpha=a.alpha):
            if r.chunk.file_path not in files:
                files.append(r.chunk.file_path)
        first = next((i for i, f in enumerate(files) if f in rel), None)
        dcg = sum(1 / math.log2(i + 2) for i, f in enumerate(files[:10]) if f in rel)
        idcg = sum(1 / math.log2(i + 2) for i in range(min(10, len(rel))))
        tot["recall@1"] += len(rel & set(files[:1])) / len(rel)
        tot["recall@5"] += len(rel & set(files[:5])) / len(rel)
        tot["MRR"] += 1 / (first + 1) if first is not None else 0.0
        tot["NDCG@10"] += dcg / idcg
    ms = 1000 * (time.perf_counter() - t) / len(qs)
    mode = "bm25" if a.alpha == 0 else "hybrid"
    if a.json:
        import json

        print(
            json.dumps(
                {
                    "index_s": index_s,
                    "ms_per_query": ms,
                    "n": len(qs),
                    **{k: v / len(qs) for k, v in tot.items()},
                }
            )
        )
        return 0
    print(
        f"semble-{mode} {a.repo.name}: {len(qs)} q, index {index_s:.2f} s, {ms:.1f} ms/query, "
        + " ".join(f"{k} {v / len(qs):.3f}" for k, v in tot.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
