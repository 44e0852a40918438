"""Whole-process time of one `cogo search` call, beside semble's, interleaved in one run.

    python bench/search_process.py REPO_DIR QUESTIONS.tsv --name NAME [--runs 10]
                                   [--semble-python /tmp/semble/bin/python]

What an agent pays per call: start Python, import, connect to the store, embed the query,
search, print. ``cogo`` is the command as users run it (from the second call on, answered by the
warm server it leaves behind: ``cogo_pipelines/warm_search.py``); ``in-proc`` is the same call
with ``COGO_WARM_SEARCH=0``, searching in its own process. REPO_DIR must be indexed already as NAME (``cogo index REPO_DIR --name NAME`` or
``bench/retrieval_suite.py``). Each run takes the next question of QUESTIONS.tsv and times
``python -m cogo_pipelines.cli search Q --repo NAME --json``; with ``--semble-python`` the same
question is then answered by a fresh semble 0.7.0 process (its BM25 mode over the cogo-distilled
static model, as in ``semble_eval.py``: its own model needs a download), which indexes REPO_DIR
in memory and searches it, as its CLI does on a cold cache. Prints p50 / p95 / max in seconds
and peak memory (max RSS of the child).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMBLE_ONE = (
    "import sys; from semble import SembleIndex; from semble.types import ContentType;"
    "i = SembleIndex.from_path(sys.argv[1], content=[ContentType.CODE, ContentType.DOCS], model_path=sys.argv[2]);"
    "print(len(i.search(sys.argv[3], top_k=10, alpha=0)))"
)


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, max RSS in MiB) of one child process, run in its checkout (``python -m``
    imports from the working folder first)."""
    t = time.perf_counter()
    child = subprocess.Popen(
        cmd, env=env, cwd=env["PYTHONPATH"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{cmd[:4]} exited {child.returncode}")
    return wall, usage.ru_maxrss / 1024


def _await_warm_server(env: dict, call: list[str], within_s: float = 60.0) -> None:
    """The first call leaves a warm server behind (``warm_search``): wait until it listens, then
    make one more untimed call (answered once the server has imported), so the timed calls
    measure it, not its start-up."""
    from cogo_pipelines import warm_search

    if not warm_search.enabled():  # `env` carries this process's COGO_WARM_SEARCH
        return
    probe = ("import sys, time; from cogo_pipelines import warm_search as w\n"
             "f = w.runtime_dir(); deadline = time.time() + float(sys.argv[1])\n"
             "while f and not w.socket_path(f).exists() and time.time() < deadline: time.sleep(0.1)")  # fmt: skip
    subprocess.run([sys.executable, "-c", probe, str(within_s)], env=env, cwd=env["PYTHONPATH"], check=True)
    timed(call, env)


def summary(label: str, times: list[float], rss: float) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{label:<8} p50 {statistics.median(times):.2f} s  p95 {p95:.2f} s  max {ordered[-1]:.2f} s  peak RSS {rss:.0f} MiB"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("repo", type=Path)
    p.add_argument("questions", type=Path)
    p.add_argument("--name", required=True, help="the repo's name in the cogo store")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--semble-python")
    p.add_argument(
        "--baseline-root", type=Path, help="another cogo checkout (e.g. `git archive` of main) timed too"
    )
    a = p.parse_args()
    questions = [
        line.split("\t", 1)[0]
        for line in a.questions.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    model = None
    if a.semble_python:
        from cogo_pipelines.indexing import static_embedding
        from cogo_pipelines.settings import get_settings

        model = static_embedding.ensure(get_settings().cogo_home.resolve())
    cogo_cmd = [sys.executable, "-m", "cogo_pipelines.cli", "search"]
    timed(cogo_cmd + [questions[0], "--repo", a.name, "--json"], env)  # warm the page cache
    _await_warm_server(env, cogo_cmd + [questions[0], "--repo", a.name, "--json"])
    cogo, semble, base, cold = [], [], [], []
    cogo_rss = semble_rss = base_rss = cold_rss = 0.0
    cold_env = {**env, "COGO_WARM_SEARCH": "0"}
    base_env = {**env, "PYTHONPATH": str(a.baseline_root)} if a.baseline_root else None
    for i in range(a.runs):
        q = questions[i % len(questions)]
        wall, rss = timed(cogo_cmd + [q, "--repo", a.name, "--json"], env)
        cogo.append(wall)
        cogo_rss = max(cogo_rss, rss)
        wall, rss = timed(cogo_cmd + [q, "--repo", a.name, "--json"], cold_env)
        cold.append(wall)
        cold_rss = max(cold_rss, rss)
        if base_env:
            wall, rss = timed(cogo_cmd + [q, "--repo", a.name, "--json"], base_env)
            base.append(wall)
            base_rss = max(base_rss, rss)
        if a.semble_python:
            wall, rss = timed([a.semble_python, "-c", SEMBLE_ONE, str(a.repo), str(model), q], env)
            semble.append(wall)
            semble_rss = max(semble_rss, rss)
    print(f"{a.name}: whole process, {a.runs} questions")
    print(summary("cogo", cogo, cogo_rss))
    print(summary("in-proc", cold, cold_rss))
    if base:
        print(summary("baseline", base, base_rss))
    if semble:
        print(summary("semble", semble, semble_rss))
        print(f"cogo / semble p50: {statistics.median(cogo) / statistics.median(semble):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
