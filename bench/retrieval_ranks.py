"""Where each side ranks the answer of every question hybrid does not put first.

    python bench/retrieval_ranks.py [--sets umami,storage] [--depth 100]

Prints one line per such question: the answer's file rank in hybrid (H), keyword-only (K) and
vector-only (V) search (``-`` = not among the files of the first ``--depth`` chunks), then the
question. It tells the kinds of misses apart, which the suite's means cannot: no side finds the
answer (a vocabulary gap: K- V-), keyword finds it but fusion pushes it down (K3 V- H9: the
vector side's list lacks the file), or both sides rank it low. Uses the store as the suite left
it (run ``bench/retrieval_suite.py`` first: it indexes the sets); same ``COGO_BENCH_REPOS``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_eval
import retrieval_suite

from cogo_pipelines.indexing import embedding
from cogo_pipelines.store import db, knowledge

MODES = ("hybrid", "keyword", "vector")


def answer_rank(files: list[str], relevant: set[str]) -> int | None:
    """1-based rank of the first relevant file, None when none is listed."""
    return next((i + 1 for i, f in enumerate(files) if f in relevant), None)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(retrieval_suite.SETS))
    p.add_argument("--depth", type=int, default=100, help="chunks fetched per search")
    a = p.parse_args()
    with db.connect() as conn:
        for name in a.sets.split(","):
            if name not in retrieval_suite.SETS:
                print(f"unknown set {name!r}; known: {', '.join(retrieval_suite.SETS)}", file=sys.stderr)
                return 2
            questions = retrieval_eval.load_questions(retrieval_suite.SETS[name][1])
            vectors = embedding.encode([q for q, _ in questions])
            for (question, relevant), vector in zip(questions, vectors, strict=True):
                ranks = {
                    mode: answer_rank(
                        retrieval_eval.ranked_files(
                            knowledge.search(conn, question, k=a.depth, repo=name, mode=mode, query_vector=vector)
                        ),
                        relevant,
                    )
                    for mode in MODES
                }
                if ranks["hybrid"] != 1:
                    cells = " ".join(f"{m[0].upper()}{ranks[m] or '-':>2}" for m in MODES)
                    print(f"{name:<12} {cells}  {question}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
