"""Time the full static graph (module + symbol, written to the store) cold and warm, beside
dependency-cruiser's module graph of the same repo, in one run.

    .venv/bin/python bench/graph_speed.py REPO [--folder src] [--repeat 3]
    .venv/bin/python bench/graph_speed.py REPO --process [--repeat 5] [--baseline OTHER_CHECKOUT]

Cold: the repo's rows, graph state and cached extractions are deleted first, so every file is
parsed (in parallel across the available cores) and every row written. Warm: the same call
again on the unchanged repo (parses nothing). The store is ``DATABASE_URL`` or the embedded
server, started before timing (it stays up between commands, as with ``cogo``). Best of
``--repeat`` runs is shown for each.

``--process`` times what a user waits for instead: the whole ``cogo graph REPO`` command (Python
start-up, imports, store connection, discovery, the graph, printing the TSV), as a fresh process
each time, cold (state forgotten first, as above) and warm, interleaved round by round with the
``depcruise`` process, and reports medians, ratios and CPU seconds (each process with the
children it reaped: the parse workers; the store server's own CPU is shown apart when it is the
embedded one). ``--baseline DIR`` adds another checkout of cogo (its root goes first on
``PYTHONPATH``) to every round, so a before/after comparison is measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
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


def children_cpu() -> float:
    """CPU seconds of the reaped child processes (and theirs) so far."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def server_cpu() -> float | None:
    """CPU seconds of the embedded store server and its finished backends, or None when the
    store is not the embedded one (``DATABASE_URL``) or cannot be read."""
    from cogo_pipelines.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        return None
    try:
        pid = int((settings.pg_dir / "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime


def run_process(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float, float | None]:
    """Wall seconds, CPU seconds (with reaped children) and store-server CPU seconds of one command."""
    s, c, t = server_cpu(), children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    after = server_cpu()
    return wall, children_cpu() - c, None if s is None or after is None else after - s


def cogo_command(checkout: Path) -> tuple[list[str], dict[str, str]]:
    """``cogo`` as the venv's console script (the entry point a user runs), importing ``checkout``."""
    script = Path(sys.executable).with_name("cogo")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "cogo_pipelines.cli"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(checkout), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return cmd, env


def process_main(args, root: Path, repo: str) -> None:
    from compare_depcruise import depcruise_bin

    variants = {"cogo": Path(__file__).resolve().parents[1]}
    if args.baseline:
        variants["baseline"] = args.baseline.resolve()
    commands = {name: cogo_command(path) for name, path in variants.items()}
    dc_cmd = [str(depcruise_bin()), "--no-config", "--ts-pre-compilation-deps"]
    if (root / "tsconfig.json").is_file():
        dc_cmd += ["--ts-config", "tsconfig.json"]
    dc_cmd += ["--output-type", "json", *(args.folder or ["src"])]
    runs: dict[str, list[tuple[float, float, float | None]]] = {}
    with db.connect() as conn:
        for name, (cmd, env) in commands.items():  # the store started, migrated and warmed by each once
            run_process([*cmd, "graph", str(root), "--name", repo], env)
        for round_ in range(args.repeat):
            order = list(commands) if round_ % 2 == 0 else list(reversed(commands))
            for name in order:
                cmd, env = commands[name]
                forget(conn, repo, root)
                runs.setdefault(f"{name} cold", []).append(run_process([*cmd, "graph", str(root), "--name", repo], env))
                runs.setdefault(f"{name} warm", []).append(run_process([*cmd, "graph", str(root), "--name", repo], env))
            runs.setdefault("dependency-cruiser", []).append(run_process(dc_cmd, dict(os.environ), cwd=root))
        forget(conn, repo, root)
    dc = median(w for w, _, _ in runs["dependency-cruiser"])
    print(f"whole processes, {args.repeat} interleaved rounds, medians (min-max); {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'':22} {'wall s':>18} {'CPU s':>7} {'store CPU s':>11} {'dependency-cruiser / this':>26}")
    for name, samples in runs.items():
        walls = [w for w, _, _ in samples]
        server = [s for _, _, s in samples if s is not None]
        print(f"{name:22} {median(walls):7.2f} ({min(walls):.2f}-{max(walls):.2f}) {median(c for _, c, _ in samples):7.2f}"
              f" {median(server) if server else float('nan'):11.2f} {dc / median(walls):25.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--folder", action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--process", action="store_true", help="time whole `cogo graph` processes (see above)")
    parser.add_argument("--baseline", type=Path, help="with --process: another cogo checkout, timed in the same rounds")
    args = parser.parse_args()
    root = args.repo.resolve()
    repo = "bench-" + sources.repo_id(root)
    found = sources.discover(root)
    size = sum(f.size for f in found if f.language in ("typescript", "tsx"))
    print(f"repo {root}: {sum(f.language in ('typescript', 'tsx') for f in found)} TypeScript files, {size / 1e6:.1f} MB")
    if args.process:
        process_main(args, root, repo)
        return
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
