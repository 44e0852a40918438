"""Seed the core tables with plain SQL: a realistic mix of jobs, gate runs, a gate_fix,
snapshots and an index, so every chart and number of the sidecar has something to show."""

from __future__ import annotations

import json

import psycopg

JOBS = [
    # type, executor, status, attempts, duration seconds (None: not finished)
    ("code.build.test", "cogo-work", "succeeded", 1, 12.5),
    ("code.build.test", "cogo-work", "succeeded", 1, 3.0),
    ("code.build.test", "cogo-work", "failed", 2, 45.0),
    ("code.build.test", "cogo-work", "queued", 0, None),
    ("code.build.test", "cogo-work", "queued", 0, None),
    ("code.debug", "cogo-work", "running", 1, None),
    ("plan.quality", "cogo-plan", "succeeded", 1, 0.4),
    ("quality.q1", "cogo-plan", "dead", 3, None),
]
SCORES = [0.5, 0.62, 0.75, 0.8, 0.66]  # oldest first; the last run fails the 0.70 threshold


def seed(conn: psycopg.Connection) -> dict:
    ids = []
    for i, (jtype, executor, status, attempts, duration) in enumerate(JOBS):
        finished = status in ("succeeded", "failed")
        row = conn.execute(
            "INSERT INTO jobs (type, executor_id, status, attempts, payload, created_at, started_at, finished_at, error)"
            " VALUES (%s, %s, %s, %s, %s, now() - interval '1 hour',"
            " CASE WHEN %s THEN now() - make_interval(secs => %s + 60) END,"
            " CASE WHEN %s THEN now() - interval '60 seconds' END, %s) RETURNING id",
            (jtype, executor, status, attempts, json.dumps({"seq": i}), status != "queued", duration or 0,
             finished, "TypeError: boom in src/queue/lease.ts" if status == "failed" else None),
        ).fetchone()
        ids.append(row["id"] if isinstance(row, dict) else row[0])
    run_ids = []
    for n, score in enumerate(SCORES):
        row = conn.execute(
            "INSERT INTO quality_runs (score, threshold, passed, succeeded, failed, created_at)"
            " VALUES (%s, 0.7, %s, %s, %s, now() - make_interval(days => %s)) RETURNING id",
            (score, score >= 0.7, int(score * 100), 100 - int(score * 100), len(SCORES) - n),
        ).fetchone()
        run_ids.append(row["id"] if isinstance(row, dict) else row[0])
    content = {  # the shape quality.gate_fix writes
        "gate": "q1", "source": "db", "quality_run_id": run_ids[-1], "source_run_id": run_ids[-1],
        "score": SCORES[-1], "threshold": 0.7, "passed": False, "succeeded": 66, "failed": 34,
        "message": "Q1 0.660 < threshold 0.70", "window": {"start": None, "end": None},
        "job_types": ["code.build.test"], "target": None, "knowledge": {"status": "ok", "note": "seeded"},
        "failing_total": 1,
        "failing_jobs": [{"id": ids[2], "type": "code.build.test", "executor_id": "cogo-work", "finished_at": None,
                          "attempts": 2, "target": None, "command": "npm test",
                          "error_excerpt": "TypeError: boom in src/queue/lease.ts", "locations": [],
                          "locations_note": "seeded"}],
    }
    fix = conn.execute(
        "INSERT INTO gate_fixes (quality_run_id, content) VALUES (%s, %s) RETURNING id",
        (run_ids[-1], json.dumps(content)),
    ).fetchone()
    conn.execute("INSERT INTO snapshots (q1, content) VALUES (0.66, '{\"queue\": []}')")
    for p in range(3):
        conn.execute("INSERT INTO files (repo, path, language, content_hash) VALUES ('cogo-sample', %s, 'ts', 'h')",
                     (f"src/f{p}.ts",))
    for s in range(7):
        conn.execute("INSERT INTO ast_nodes (id, repo, path, kind, name, qualified_name) VALUES"
                     " (%s, 'cogo-sample', 'src/f0.ts', 'function', %s, %s)", (f"n{s}", f"f{s}", f"f{s}"))
    for e in range(5):
        conn.execute("INSERT INTO code_relationships (id, repo, src_id, dst_id, kind) VALUES"
                     " (%s, 'cogo-sample', 'n0', %s, 'calls')", (f"e{e}", f"n{e + 1}"))
    for c in range(4):
        conn.execute("INSERT INTO code_chunks (id, repo, path, chunk_type, content, content_hash) VALUES"
                     " (%s, 'cogo-sample', 'src/f0.ts', 'code', 'x', 'h')", (f"c{c}",))
    conn.commit()
    return {"job_ids": ids, "run_ids": run_ids, "gate_fix_id": fix["id"] if isinstance(fix, dict) else fix[0]}
