"""Time the full static graph (module + symbol, written to the store) cold and warm, beside
dependency-cruiser's module graph of the same repo, in one run.

    .venv/bin/python bench/graph_speed.py REPO [--folder src] [--repeat 3]

Cold: the repo's rows, graph state and cached extractions are deleted first, so every file is
parsed (in parallel across the available cores) and every row written. Warm: the same call
again on the unchanged repo (parses nothing). The store is ``DATABASE_URL`` or the embedded
server, started before timing (it stays up between commands, as with ``cogo``). Best of
``--repeat`` runs is shown for each.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare_depcruise import run_depcruise

from cogo_pipelines.indexing import sources
from cogo_pipelines.pipeline import graph_index
from cogo_pipelines.store import db


def forget(conn, repo: str, root: Path) -> None:
    hashes = [f.content_hash for f in sources.discover(root)]
    conn.execute("DELETE FROM graph_extractions WHERE content_hash = ANY(%s)", (hashes,))
    conn.execute("DELETE FROM graph_state WHERE repo = %s", (repo,))
    conn.execute("DELETE FROM ast_nodes WHERE repo = %s", (repo,))
    conn.execute("DELETE FROM code_relationships WHERE repo = %s", (repo,))
    conn.execute("DELETE FROM files WHERE repo = %s", (repo,))
    conn.commit()
    # a never-indexed repo has no dead rows behind it: without this, autovacuum cleaning up the
    # rows just deleted competes with the timed cold run
    conn.autocommit = True
    for table in ("graph_extractions", "graph_state", "ast_nodes", "code_relationships", "files"):
        conn.execute(f"VACUUM {table}")
    conn.autocommit = False


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (pool workers, depcruise)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(conn, root: Path, repo: str):
    gc.collect()  # each run starts as in a fresh process, not behind the last run's garbage
    t, c = time.perf_counter(), cpu_seconds()
    result = graph_index.index_static_graph(conn, root, repo=repo)
    conn.commit()
    return time.perf_counter() - t, cpu_seconds() - c, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--folder", action="append")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = args.repo.resolve()
    repo = "bench-" + sources.repo_id(root)
    found = sources.discover(root)
    size = sum(f.size for f in found if f.language in ("typescript", "tsx"))
    print(f"repo {root}: {sum(f.language in ('typescript', 'tsx') for f in found)} TypeScript files, {size / 1e6:.1f} MB")
    colds, warms, depcruises, cold_cpu, dc_cpu = [], [], [], [], []
    with db.connect() as conn:
        for _ in range(args.repeat):
            forget(conn, repo, root)
            seconds, cpu, cold = timed(conn, root, repo)
            colds.append(seconds)
            cold_cpu.append(cpu)
            seconds, _, warm = timed(conn, root, repo)
            assert warm.parsed == 0, "warm run parsed files"
            warms.append(seconds)
            c = cpu_seconds()
            depcruises.append(run_depcruise(root, args.folder or ["src"])[1])
            dc_cpu.append(cpu_seconds() - c)
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in cold.seconds.items())
    print(f"cold  {min(colds):6.2f} s  (parsed {cold.parsed} files, {cold.symbols} symbols, {cold.edges} edges; "
          f"last run: {stages}; {os.cpu_count()} cores)")
    print(f"warm  {min(warms):6.2f} s  (parsed {warm.parsed})")
    print(f"dependency-cruiser {min(depcruises):6.2f} s")
    print(f"CPU seconds (all processes): cogo cold {min(cold_cpu):.2f}, dependency-cruiser {min(dc_cpu):.2f}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"speed-up vs dependency-cruiser: cold {min(depcruises) / min(colds):.2f}x, warm {min(depcruises) / min(warms):.1f}x"
          f" (best of {args.repeat}; medians: cold {median(colds):.2f} s, dependency-cruiser {median(depcruises):.2f} s"
          f" = {median(depcruises) / median(colds):.2f}x)")


if __name__ == "__main__":
    main()
