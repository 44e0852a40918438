"""Retrieval quality of `cogo search`: hybrid vs vector-only vs keyword-only, side by side.

    python bench/retrieval_eval.py REPO QUESTIONS.tsv [--k 10] [--name NAME] [--include GLOB ...]
                                   [--no-index] [--show-misses]

QUESTIONS.tsv: ``question<TAB>path[,path...]`` (paths relative to REPO). REPO is indexed first
(incremental: an unchanged repo costs seconds). Relevance is per file: files are ranked by
their best chunk; recall@1/@5, MRR and NDCG@10 (binary gain) are averaged over questions.
Uses the store of ``DATABASE_URL`` (else the embedded one under ``COGO_HOME``).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from cogo_pipelines.indexing import embedding, sources
from cogo_pipelines.indexing import policy as index_policy
from cogo_pipelines.pipeline import index_run, summaries
from cogo_pipelines.store import db, knowledge

MODES = ("hybrid", "vector", "keyword")
# hybrid plus the file summary list, as the MCP server and the sidecar rank once their summary
# model is loaded (``pipeline/summaries.py``); "hybrid" is what a `cogo search` process ranks
WARM = "warm"


class QuestionVectors:
    """The summary model of a warm process, standing in as ``knowledge.SummaryModel``: the
    questions embedded in one batch beforehand (the same model and vectors, timed apart)."""

    def __init__(self, questions: list[str]) -> None:
        self.key = summaries.model_key() or ""
        vectors = embedding.encode(questions, model=summaries.model_name()) if self.key else []
        self.vectors = {q: v.tolist() for q, v in zip(questions, vectors, strict=False)}

    def vector(self, text: str):
        return self.vectors.get(text)
CHUNK_DEPTH = 200  # chunks fetched per query before ranking files


def load_questions(path: Path) -> list[tuple[str, set[str]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        # answers are comma-separated; a tab between them (one formbricks line had one) is a
        # separator too, not part of a path that then matches no file
        question, _, answers = line.partition("\t")
        out.append((question.strip(), {a.strip() for a in re.split(r"[,\t]", answers) if a.strip()}))
    return out


def ranked_files(hits) -> list[str]:
    files: list[str] = []
    for h in hits:
        if h.path not in files:
            files.append(h.path)
    return files


def metrics(files: list[str], relevant: set[str], k: int) -> dict[str, float]:
    first = next((i for i, f in enumerate(files) if f in relevant), None)
    dcg = sum(1 / math.log2(i + 2) for i, f in enumerate(files[:10]) if f in relevant)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return {
        "recall@1": len(relevant & set(files[:1])) / len(relevant),
        "recall@5": len(relevant & set(files[:5])) / len(relevant),
        f"recall@{k}": len(relevant & set(files[:k])) / len(relevant),
        "MRR": 1 / (first + 1) if first is not None else 0.0,
        "NDCG@10": dcg / idcg if idcg else 0.0,
    }


def index_repo(conn, root: Path, name: str, include: list[str] | None = None, *,
               summaries: bool = False) -> tuple[float, float]:
    """Index ``root`` as repo ``name`` under the index policy (``include`` globs as the flags
    layer, else ``cogo.toml`` / the defaults), like ``cogo index`` (``--summaries``); returns the
    seconds taken, in all and by the summary stage."""
    prepared = index_policy.prepare(root, index_policy.Layer.of("flags", name, include))
    t = time.perf_counter()
    summary = index_run.run_index(conn, root, prepared.entries, policy=prepared.policy.sources_policy(),
                                  repo=name, discovery=prepared.discovery, summaries=summaries)  # fmt: skip
    seconds = time.perf_counter() - t
    print(f"indexed {name}: {summary.files} files, {summary.chunks} chunks, {summary.embedded} embedded, "
          f"{summary.summaries_embedded} summaries embedded ({seconds:.1f} s)", file=sys.stderr)  # fmt: skip
    return seconds, summary.seconds.get("summary", 0.0)


def evaluate(conn, repo: str, questions, k: int = 10, modes=MODES):
    """``({mode: {metric: mean}}, {mode: ms/query}, misses)`` over ``questions``."""
    vectors = embedding.encode([q for q, _ in questions])
    warm = QuestionVectors([q for q, _ in questions]) if WARM in modes else None
    totals = {m: {} for m in modes}
    latency = {m: 0.0 for m in modes}
    misses = []
    for (question, relevant), vector in zip(questions, vectors, strict=True):
        for mode in modes:
            t = time.perf_counter()
            hits = knowledge.search(conn, question, k=CHUNK_DEPTH, repo=repo, mode="hybrid" if mode == WARM else mode,
                                    query_vector=vector, summary=warm if mode == WARM else None)
            latency[mode] += time.perf_counter() - t
            files = ranked_files(hits)
            for name, value in metrics(files, relevant, k).items():
                totals[mode][name] = totals[mode].get(name, 0.0) + value
            if mode == "hybrid" and not set(files[:3]) & relevant:
                misses.append((question, sorted(relevant), files[:5]))
    n = len(questions)
    means = {m: {name: v / n for name, v in totals[m].items()} for m in modes}
    return means, {m: 1000 * latency[m] / n for m in modes}, misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--name", help="the repo's name in the store (default: the folder's name)")
    parser.add_argument(
        "--include", action="append", help="include glob (repeat; default: cogo.toml, else the defaults)"
    )
    parser.add_argument("--no-index", action="store_true", help="evaluate the index as it is")
    parser.add_argument("--show-misses", action="store_true", help="print questions hybrid ranks badly")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    repo = args.name or sources.repo_id(args.repo)
    with db.connect() as conn:
        if not args.no_index:
            index_repo(conn, args.repo, repo, args.include)
        means, latency, misses = evaluate(conn, repo, questions, args.k)
    names = list(means["hybrid"])
    print(f"{repo}: {len(questions)} questions, file relevance")
    print(f"{'method':<10}" + "".join(f"{name:>11}" for name in names) + f"{'ms/query':>11}")
    for mode in MODES:
        print(
            f"{mode:<10}"
            + "".join(f"{means[mode][name]:>11.3f}" for name in names)
            + f"{latency[mode]:>11.1f}"
        )
    if args.show_misses:
        for question, relevant, got in misses:
            print(f"\nMISS {question}\n  want {relevant}\n  got  {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
