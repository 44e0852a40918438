"""Queue throughput: N runner processes draining no-op jobs from the embedded Postgres.

    .venv/bin/python bench/queue_throughput.py [--runners 1,2,4,8] [--jobs 4000] [--batch 1,16]
        [--peer-python /tmp/pgq/bin/python]

Each runner is the real ``queue.runner.Runner`` (claim with SKIP LOCKED, heartbeat thread,
guarded completion + job_events row per job) in its own process, started behind a barrier so
start-up is not timed. Prints, per N: jobs claimed and completed per second, p50/p95 latency of
one claim round trip, and double claims (a job id handed out twice; must be 0), cross-checked
against the job_events table. The store is a throw-away embedded server in a temp folder
(``--pg-dir`` to choose), so your ``.cogo`` data is untouched.

``--batch`` is the runner's ``--batch`` (the most jobs per claim; a runner starts at 1 and
doubles while its jobs are quick). With ``--peer-python`` (a venv with pgqueuer, see
``bench/queue_pgqueuer.py``) the same workload runs on pgqueuer, against the same server, after
each batch size's rounds, with pgqueuer's ``batch_size`` equal to ours; the table shows both and
our throughput as a ratio of pgqueuer's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _runner_process(url: str, batch: int, ready, go, results) -> None:
    from cogo_pipelines.pipeline.handlers import handlers_for
    from cogo_pipelines.queue.runner import Runner, RunnerConfig

    runner = Runner(RunnerConfig(executor_id="cogo-work", lease_seconds=60, batch=batch, exit_when_idle=True,
                                 database_url=url), handlers=handlers_for("cogo-work"))
    ready.wait()
    go.wait()
    runner.run()
    results.put({"ended": time.perf_counter(), "claims": runner.claim_log, "ids": runner.claimed_ids,
                 "outcomes": runner.outcomes})


def _fill(url: str, n: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE jobs, job_events RESTART IDENTITY")
        conn.execute("INSERT INTO jobs (type, executor_id, payload) SELECT 'noop', 'cogo-work', '{}'::jsonb"
                     " FROM generate_series(1, %s)", (n,))
        conn.execute("VACUUM ANALYZE jobs")


def _check_store(url: str, n: int) -> dict:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded,"
            " count(*) FILTER (WHERE status <> 'succeeded') AS other FROM jobs").fetchone()
        dup = conn.execute(
            "SELECT count(*) AS n FROM (SELECT job_id FROM job_events WHERE event IN ('claimed', 'succeeded')"
            " GROUP BY job_id, event HAVING count(*) > 1) d").fetchone()["n"]
    return {"succeeded": row["succeeded"], "not_succeeded": row["other"], "duplicate_events": dup, "expected": n}


def run_round(url: str, runners: int, jobs: int, batch: int) -> dict:
    _fill(url, jobs)
    ctx = mp.get_context("spawn")
    ready, go, results = ctx.Barrier(runners + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_runner_process, args=(url, batch, ready, go, results)) for _ in range(runners)]
    for p in procs:
        p.start()
    ready.wait()
    started = time.perf_counter()
    go.set()
    outs = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    ids = [i for o in outs for i in o["ids"]]
    latencies = [c[1] for o in outs for c in o["claims"] if c[2] > 0]
    first = min(c[0] for o in outs for c in o["claims"])
    wall = max(o["ended"] for o in outs) - min(first, started)
    store = _check_store(url, jobs)
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    return {
        "runners": runners, "jobs": len(set(ids)), "seconds": wall, "per_s": len(ids) / wall,
        "claim_calls": len(latencies), "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000,
        "double_claims": len(ids) - len(set(ids)), "store": store,
    }


def _peer_rounds(python: str, url: str, runners: str, jobs: int, batch: int) -> dict[int, dict]:
    """``queue_pgqueuer.py`` in the peer's venv against ``url``: {runners: round}."""
    out = subprocess.run([python, str(ROOT / "bench" / "queue_pgqueuer.py"), "--url", url, "--runners", runners,
                          "--jobs", str(jobs), "--batch", str(batch), "--json"],
                         capture_output=True, text=True, timeout=3600, check=False)
    if out.returncode not in (0, 1):
        print(f"pgqueuer rounds failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    rounds = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return {r["runners"]: r for r in rounds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runners", default="1,2,4,8", help="comma-separated runner counts")
    parser.add_argument("--jobs", type=int, default=4000, help="no-op jobs per round")
    parser.add_argument("--batch", default="16", help="comma-separated batch sizes (most jobs per claim)")
    parser.add_argument("--peer-python", default=None,
                        help="a python with pgqueuer installed: run the same rounds on pgqueuer too")
    parser.add_argument("--pg-dir", type=Path, default=None, help="embedded server folder (default: a temp dir)")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    from cogo_pipelines.store import db

    with tempfile.TemporaryDirectory(prefix="cogo-bench-pg-") as tmp:
        server = pgserver.get_server(args.pg_dir or Path(tmp), cleanup_mode="stop" if args.pg_dir else "delete")
        with psycopg.connect(server.get_uri(), autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS cogo_bench WITH (FORCE)")
            admin.execute("CREATE DATABASE cogo_bench")
        url = server.get_uri("cogo_bench")
        with psycopg.connect(url, row_factory=dict_row) as conn:
            db.migrate(conn)
        print(f"queue throughput: {args.jobs} no-op jobs per round, embedded Postgres"
              + (", beside pgqueuer on the same server" if args.peer_python else ""))
        print(f"{'batch':>5} {'runners':>7} {'jobs/s':>9} {'claim p50 ms':>13} {'claim p95 ms':>13} {'claim calls':>12}"
              f" {'double claims':>14} {'store check':>12}"
              + (f" {'pgqueuer jobs/s':>16} {'cogo/pgq':>9}" if args.peer_python else ""))
        failed = False
        runner_counts = [int(x) for x in args.runners.split(",")]
        for batch in (int(x) for x in args.batch.split(",")):
            rows = []
            for n in runner_counts:
                r = run_round(url, n, args.jobs, batch)
                s = r["store"]
                ok = s["succeeded"] == s["expected"] and s["not_succeeded"] == 0 and s["duplicate_events"] == 0
                failed |= not ok or r["double_claims"] > 0 or r["jobs"] != args.jobs
                rows.append((n, r, ok))
            peer = _peer_rounds(args.peer_python, url, args.runners, args.jobs, batch) if args.peer_python else {}
            for n, r, ok in rows:
                line = (f"{batch:>5} {n:>7} {r['per_s']:>9.0f} {r['p50_ms']:>13.2f} {r['p95_ms']:>13.2f}"
                        f" {r['claim_calls']:>12} {r['double_claims']:>14} {'ok' if ok else 'MISMATCH':>12}")
                if args.peer_python:
                    p = peer.get(n)
                    failed |= p is None or not p["ok"]
                    line += (f" {p['per_s']:>16.0f} {r['per_s'] / p['per_s']:>9.2f}" if p and p["ok"]
                             else f" {'failed':>16} {'-':>9}")
                print(line, flush=True)
        server.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
