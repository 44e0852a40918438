"""gate_fix on failing builds: does it name the failing test/error and rank the guilty symbol top 3?

    .venv/bin/python bench/gate_fix_eval.py [--node-modules DIR] [--embed] [--json]

Each case in ``bench/gate_fix_cases/cases.json`` is a bug put into a known function of
``examples/cogo-sample`` and the tests/type check that catch it. Per case a workspace (the sample,
the bench's tests, the bug) is made and a real ``code.build.test`` job runs in it on a real
``cogo runner`` process: with ``--node-modules DIR`` (vitest, jest, ts-jest, tsx, typescript
installed) the runner runs the real vitest/jest/node --test/tsc; without it, it prints the log
that runner printed when the case was recorded (``<id>.log``, made by ``gate_fix_workspace.py``).
Then the Q1 gate runs per case (``target`` = the case) and writes its gate_fix. Reported per
case: the failure named? the guilty symbol's rank; and, as the peer, the rank the same log gets
from knowledge search alone (what gate_fix did before it read logs through the graph).
The store is a throw-away embedded server in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gate_fix_workspace import CASES_DIR, command, load_cases, make_workspace


def _store(tmp: Path) -> str:
    import pgserver
    import psycopg

    server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE gate_fix_bench")
    return server.get_uri("gate_fix_bench")


def _rank(locations: list[dict], guilty: dict) -> int | None:
    for i, loc in enumerate(locations, 1):
        if loc.get("path") == guilty["path"] and loc.get("symbol") == guilty["symbol"]:
            return i
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, help="run the real runners (else replay recorded logs)")
    parser.add_argument("--embed", action="store_true", help="index with embeddings (hybrid search)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gate_fix_bench_"))
    os.chmod(tmp, 0o755)
    url = _store(tmp)
    os.environ.update(DATABASE_URL=url, COGO_HOME=str(tmp / "home"), HF_HUB_OFFLINE="1")
    os.environ.pop("NOTIFY_WEBHOOK_URL", None)
    from cogo_pipelines import settings
    from cogo_pipelines.pipeline.index_run import run_index
    from cogo_pipelines.quality.build_log import parse_build_log
    from cogo_pipelines.quality.gate import evaluate_q1
    from cogo_pipelines.quality.gate_fix import job_log_text, search_text, write_gate_fix
    from cogo_pipelines.queue import jobs
    from cogo_pipelines.store import db, knowledge

    settings.reload_settings()
    conn = db.connect(url)
    db.migrate(conn)
    run_index(conn, ROOT / "examples" / "cogo-sample", embed=args.embed)
    conn.commit()
    cases = load_cases()
    node_modules = args.node_modules or (tmp / "no_node_modules")
    node_modules.mkdir(exist_ok=True)
    for case in cases:
        work = make_workspace(case, tmp / "work", node_modules)
        run = command(case) if args.node_modules else f"cat '{CASES_DIR / (case['id'] + '.log')}'; exit 1"
        jobs.enqueue(conn, "code.build.test", {"command": run, "cwd": str(work), "target": case["id"],
                                               "commit": f"bench-{case['id']}", "timeout_s": 300},
                     executor_id="cogo-work")
    conn.commit()
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "cogo_pipelines.cli", "runner", "--executor-id", "cogo-work",
                    "--exit-when-idle"], env=env, check=True, timeout=1800, stderr=subprocess.DEVNULL)
    runner_s = time.perf_counter() - started
    rows = []
    for case in cases:
        result = evaluate_q1(conn, threshold=1.0, target=case["id"], notify=False)
        fix = write_gate_fix(conn, result)["content"]
        job = fix["failing_jobs"][0] if fix["failing_jobs"] else {}
        names = [f["name"] for f in job.get("failures", [])]
        named = any(case["expect_failure"] in n for n in names)
        rank = _rank(job.get("locations", []), case["guilty"])
        # the peer: knowledge search alone over the same log's signal lines
        raw = result.failing_jobs[0] if result.failing_jobs else {}
        text = search_text(job_log_text(raw)[-1500:]) if raw else ""
        with conn.transaction():
            hits = knowledge.search(conn, text, k=5) if text else []
        peer = _rank([{"path": h.path, "symbol": h.symbol} for h in hits], case["guilty"])
        rows.append({"case": case["id"], "runner": case["runner"], "named": named,
                     "failures": len(parse_build_log(job_log_text(raw)).failures) if raw else 0,
                     "guilty": f"{case['guilty']['path']}::{case['guilty']['symbol']}", "rank": rank,
                     "top3": rank is not None and rank <= 3, "search_only_rank": peer,
                     "why": next((loc["why"] for loc in job.get("locations", [])
                                  if loc["symbol"] == case["guilty"]["symbol"]), None)})
    conn.close()
    ok = sum(r["named"] and r["top3"] for r in rows)
    peer_ok = sum(bool(r["search_only_rank"] and r["search_only_rank"] <= 3) for r in rows)
    if args.json:
        print(json.dumps({"rows": rows, "ok": ok, "cases": len(rows), "search_only_top3": peer_ok}, indent=2))
        return 0 if ok == len(rows) else 1
    mode = "live runners" if args.node_modules else "recorded logs replayed by the runner"
    print(f"gate_fix bench: {len(rows)} cases ({mode}, runner wall {runner_s:.1f} s, embed={args.embed})")
    print(f"{'case':28} {'named':6} {'rank':5} {'top3':5} {'search-only':11} why")
    for r in rows:
        print(f"{r['case']:28} {'yes' if r['named'] else 'NO':6} {r['rank'] or '-'!s:5} "
              f"{'yes' if r['top3'] else 'NO':5} {r['search_only_rank'] or '-'!s:11} {r['why'] or ''}")
    print(f"named + guilty in top 3: {ok}/{len(rows)}; knowledge search alone, guilty in top 3: {peer_ok}/{len(rows)}")
    return 0 if ok == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
