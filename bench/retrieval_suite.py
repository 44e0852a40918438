"""Retrieval quality on every question set at once, cogo beside semble, one table.

    python bench/retrieval_suite.py [--sets trpc,zod,umami,storage,ghostfolio,rallly,cogo-sample]
                                    [--semble-python /tmp/semble/bin/python] [--no-index]

Each set is indexed (incrementally: an unchanged repo costs seconds) and its questions run
through ``cogo search`` in hybrid, keyword-only and vector-only mode (file relevance, as in
``retrieval_eval.py``); with ``--semble-python`` (a venv holding ``semble==0.7.0``) semble's
BM25 mode (``alpha=0``: its model cannot download here, so it is given cogo's distilled static
model, which that mode does not use for ranking) answers the same questions in the same run,
over a copy of exactly the files cogo indexed for the set (``same_files``).
Prints NDCG@10 / recall@5 / MRR per set and method, and the macro average.

Where the code bases are (none is committed): ``COGO_BENCH_REPOS`` (default
``/tmp/cogo-bench``) holds ``trpc/package`` and ``zod/package`` (``npm pack @trpc/server@11.25.2``,
``npm pack zod@4.6.7``, then ``tar xzf``), ``umami``, ``storage``, ``ghostfolio`` and ``rallly``
(git checkouts of umami-software/umami, supabase/storage, ghostfolio/ghostfolio and
lukevella/rallly at the commits named in their question files);
``bench/get_bench_repos.sh`` fetches them. The tRPC/Zod questions are semble's public
benchmark (``bench/questions/semble-*.tsv``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval_eval

from cogo_pipelines.indexing import static_embedding
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import db

ROOT = Path(__file__).resolve().parent.parent
REPOS = Path(os.environ.get("COGO_BENCH_REPOS", "/tmp/cogo-bench"))


# name -> (repo folder, questions, include globs or None for the repo's own policy)
SETS = {
    "trpc": (REPOS / "trpc" / "package", ROOT / "bench/questions/semble-trpc.tsv", None),
    "zod": (REPOS / "zod" / "package", ROOT / "bench/questions/semble-zod.tsv", None),
    "umami": (
        REPOS / "umami",
        ROOT / "bench/questions/umami.tsv",
        ["src/**/*.ts", "src/**/*.tsx", "**/*.md", "prisma/migrations/**/*.sql", "db/**/*.sql"],
    ),
    "storage": (
        REPOS / "storage",
        ROOT / "bench/questions/storage.tsv",
        ["src/**/*.ts", "**/*.md", "migrations/**/*.sql"],
    ),
    # the two later held-out apps leave out .agents/ (vendored third-party agent-skill docs on
    # Angular/NestJS/auth, not the app's own): their own markdown sits at the root and under
    # the app and package folders
    "ghostfolio": (
        REPOS / "ghostfolio",
        ROOT / "bench/questions/ghostfolio.tsv",
        [
            "apps/**/*.ts",
            "libs/**/*.ts",
            "/*.md",
            "apps/**/*.md",
            "libs/**/*.md",
            "prisma/migrations/**/*.sql",
        ],
    ),
    "rallly": (
        REPOS / "rallly",
        ROOT / "bench/questions/rallly.tsv",
        [
            "apps/**/*.ts",
            "apps/**/*.tsx",
            "packages/**/*.ts",
            "packages/**/*.tsx",
            "/*.md",
            "apps/**/*.md",
            "packages/**/*.md",
            "packages/database/prisma/migrations/**/*.sql",
        ],
    ),
    "formbricks": (
        REPOS / "formbricks",
        ROOT / "bench/questions/formbricks.tsv",
        [
            "apps/web/**/*.ts",
            "apps/web/**/*.tsx",
            "packages/*/src/**/*.ts",
            "packages/*/src/**/*.tsx",
            "/*.md",
            "packages/*/*.md",
            "packages/database/migration/**/*.sql",
        ],
    ),
    # held out (session 21): the framework's packages without their tests, its docs, the starter templates
    "payload": (
        REPOS / "payload",
        ROOT / "bench/questions/payload.tsv",
        [
            "packages/*/src/**/*.ts",
            "packages/*/src/**/*.tsx",
            "!packages/*/src/**/__tests__/**",
            "!packages/*/src/**/*.spec.ts",
            "!packages/*/src/**/*.spec.tsx",
            "!packages/*/src/**/*.test.ts",
            "/*.md",
            "docs/**/*.mdx",
            "packages/*/*.md",
            "templates/*/src/**/*.ts",
            "templates/*/src/**/*.tsx",
            "templates/*/README.md",
        ],
    ),
    # the npm package's sources and its root markdown (README, CHANGELOG), not dist/
    "rxjs": (REPOS / "rxjs" / "package", ROOT / "bench/questions/rxjs.tsv", ["src/**/*.ts", "/*.md"]),
    "cogo-sample": (ROOT / "examples/cogo-sample", ROOT / "bench/questions/cogo-sample.tsv", None),
}
SHOWN = ("NDCG@10", "recall@5", "MRR")


def same_files(repo: Path, name: str, include: list[str] | None) -> Path:
    """A copy of just the files cogo indexes for this set (its include policy), so semble ranks
    the same files: given the whole npm package it also indexes ``dist/`` (a second copy of
    every module), and on the app repos tests and scripts cogo leaves out."""
    import shutil
    import tempfile

    from cogo_pipelines.indexing import policy as index_policy

    view = Path(tempfile.gettempdir()) / "cogo-bench-semble-view" / name
    shutil.rmtree(view, ignore_errors=True)
    for f in index_policy.prepare(repo, index_policy.Layer.of("flags", name, include)).discovery.files:
        target = view / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(repo / f.path, target)
    return view


def semble(python: str, repo: Path, questions: Path) -> dict:
    model = static_embedding.ensure(get_settings().cogo_home.resolve())
    out = subprocess.run(
        [python, str(ROOT / "bench/semble_eval.py"), str(repo), str(questions), "--model", str(model),
         "--alpha", "0", "--json"],
        capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--semble-python", help="python of a venv with semble==0.7.0")
    p.add_argument("--no-index", action="store_true")
    p.add_argument("--show-misses", action="store_true")
    p.add_argument("--no-summaries", action="store_true",
                   help="no cogo-warm column (hybrid + the file summary list of the MCP server / sidecar), "
                        "and index without embedding the summaries")
    a = p.parse_args()
    rows: dict[str, dict[str, dict]] = {}
    with db.connect() as conn:
        for name in a.sets.split(","):
            repo, questions_file, include = SETS[name]
            if not repo.is_dir():
                print(f"{name}: {repo} is missing (see this script's doc)", file=sys.stderr)
                continue
            questions = retrieval_eval.load_questions(questions_file)
            seconds, summary_s = (None, None) if a.no_index else retrieval_eval.index_repo(
                conn, repo, name, include, summaries=not a.no_summaries)
            modes = retrieval_eval.MODES + (() if a.no_summaries else (retrieval_eval.WARM,))
            means, _latency, misses = retrieval_eval.evaluate(conn, name, questions, modes=modes)
            rows[name] = {f"cogo-{m}": means[m] for m in means}
            rows[name]["_n"] = len(questions)
            rows[name]["_index_s"] = seconds
            rows[name]["_summary_s"] = summary_s
            if a.semble_python:
                rows[name]["semble-bm25"] = semble(
                    a.semble_python, same_files(repo, name, include), questions_file
                )
            if a.show_misses:
                for question, relevant, got in misses:
                    print(f"MISS [{name}] {question}\n  want {relevant}\n  got  {got}", file=sys.stderr)
    methods = [
        m
        for m in ("cogo-hybrid", "cogo-warm", "cogo-keyword", "cogo-vector", "semble-bm25")
        if any(m in r for r in rows.values())
    ]
    print("NDCG@10 / recall@5 / MRR, file relevance")
    print(f"| set (questions) | {' | '.join(methods)} |")
    print("|---" * (len(methods) + 1) + "|")
    for name, r in rows.items():
        cells = [" / ".join(f"{r[m][s]:.3f}".lstrip("0") for s in SHOWN) if m in r else "–" for m in methods]
        print(f"| {name} ({r['_n']}) | {' | '.join(cells)} |")
    if rows:
        cells = []
        for m in methods:
            have = [r[m] for r in rows.values() if m in r]
            cells.append(" / ".join(f"{sum(h[s] for h in have) / len(have):.3f}".lstrip("0") for s in SHOWN))
        print(f"| mean | {' | '.join(cells)} |")
        print(
            "\nindex seconds (cogo: this run's `cogo index` stages in-process, incremental unless the store was"
            " fresh, and of it the summary stage: the transformer's load and the file summaries' vectors;"
            " semble: SembleIndex.from_path, always from scratch)"
        )
        for name, r in rows.items():
            cogo_s = "–" if r["_index_s"] is None else f"{r['_index_s']:.1f}"
            summary_s = "–" if r["_summary_s"] is None else f"{r['_summary_s']:.1f}"
            semble_s = f"{r['semble-bm25']['index_s']:.1f}" if "semble-bm25" in r else "–"
            print(f"  {name:<12} cogo {cogo_s:>6} (summaries {summary_s:>6})   semble {semble_s:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
