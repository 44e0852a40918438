"""The store keeps nothing for ever that no rule keeps (``store/retention.py``): real rows in the
real store, dated around each cut-off."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from cogo_pipelines.pipeline import upkeep
from cogo_pipelines.store import retention
from cogo_pipelines.store.graph_store import EXTRACTOR_VERSION

POLICY = upkeep.policy()  # the settings' defaults: 90 and 395 days
VECTOR = "[" + ",".join(["0.1"] * 384) + "]"


def ago(conn, delta: timedelta):
    return conn.execute("SELECT now() - %s AS t", (delta,)).fetchone()["t"]


def ids(conn, table: str, column: str = "id") -> set:
    return {r[column] for r in conn.execute(f"SELECT {column} FROM {table}")}


def test_cache_rows_go_once_nothing_refers_to_them_and_their_grace_is_over(conn):
    old, new = ago(conn, POLICY.cache_grace + timedelta(days=1)), ago(conn, timedelta(hours=1))
    conn.execute("INSERT INTO files (repo, path, language, content_hash) VALUES ('r', 'a.ts', 'typescript', 'used')")
    conn.execute("INSERT INTO code_chunks (id, repo, path, chunk_type, content, content_hash)"
                 " VALUES ('c1', 'r', 'a.ts', 'code', 'x', 'text-used')")
    for content_hash, version, created in (("used", EXTRACTOR_VERSION, old), ("gone", EXTRACTOR_VERSION, old),
                                           ("fresh", EXTRACTOR_VERSION, new), ("used", "an-older-extractor", old)):
        conn.execute("INSERT INTO graph_extractions (content_hash, grammar, extractor_version, payload, created_at)"
                     " VALUES (%s, 'typescript', %s, '\\x00', %s)", (content_hash, version, created))
    for content_hash, model, created in (("text-used", "m", old), ("text-used", "another-model", old),
                                         ("text-gone", "m", old), ("text-fresh", "m", new)):
        conn.execute("INSERT INTO chunk_embeddings (content_hash, model, embedding, created_at)"
                     " VALUES (%s, %s, %s, %s)", (content_hash, model, VECTOR, created))

    deleted = retention.prune(conn, POLICY)

    assert deleted["graph_extractions"] == 2 and deleted["chunk_embeddings"] == 1
    left = {(r["content_hash"], r["extractor_version"]) for r in conn.execute(
        "SELECT content_hash, extractor_version FROM graph_extractions")}
    assert left == {("used", EXTRACTOR_VERSION), ("fresh", EXTRACTOR_VERSION)}
    left = {(r["content_hash"], r["model"]) for r in conn.execute("SELECT content_hash, model FROM chunk_embeddings")}
    assert left == {("text-used", "m"), ("text-used", "another-model"), ("text-fresh", "m")}


def test_finished_queue_history_goes_after_its_time_open_work_never(conn):
    old, new = ago(conn, POLICY.history + timedelta(days=1)), ago(conn, POLICY.history - timedelta(days=1))
    jobs = {}
    for name, status, finished in (("done-old", "succeeded", old), ("dead-old", "dead", old),
                                   ("done-recent", "succeeded", new), ("queued-old", "queued", None),
                                   ("running-old", "running", None)):
        jobs[name] = conn.execute(
            "INSERT INTO jobs (type, executor_id, status, created_at, finished_at) VALUES ('t', 'cogo-work', %s, %s, %s)"
            " RETURNING id", (status, old, finished)).fetchone()["id"]
        conn.execute("INSERT INTO job_events (job_id, event, at) VALUES (%s, 'claimed', %s)", (jobs[name], old))
    conn.execute("INSERT INTO notifications (kind, status, created_at) VALUES ('gate_failure', 'sent', %s),"
                 " ('gate_failure', 'sent', %s)", (old, new))
    runs = [conn.execute("INSERT INTO index_runs (repo, started_at, finished_at) VALUES (%s, %s, %s) RETURNING id",
                         (repo, at, at)).fetchone()["id"]
            for repo, at in (("a", old), ("a", old), ("b", old), ("a", new))]

    deleted = retention.prune(conn, POLICY)

    assert ids(conn, "jobs") == {jobs["done-recent"], jobs["queued-old"], jobs["running-old"]}
    assert ids(conn, "job_events", "job_id") == ids(conn, "jobs")  # their events went with them
    assert len(ids(conn, "notifications")) == 1
    # repo b's only run stays however old: the latest run of a repo is what the sidecar reports
    assert ids(conn, "index_runs") == {runs[2], runs[3]}
    assert deleted["jobs"] == 2 and deleted["notifications"] == 1 and deleted["index_runs"] == 2


def test_records_are_kept_a_year_and_the_latest_gate_fix_with_its_run_always(conn):
    old, new = ago(conn, POLICY.records + timedelta(days=1)), ago(conn, timedelta(days=30))

    def quality_run(at) -> int:
        return conn.execute("INSERT INTO quality_runs (threshold, passed, created_at) VALUES (0.7, false, %s)"
                            " RETURNING id", (at,)).fetchone()["id"]

    runs = [quality_run(old) for _ in range(3)] + [quality_run(new)]
    fixes = [conn.execute("INSERT INTO gate_fixes (quality_run_id, created_at) VALUES (%s, %s) RETURNING id",
                          (run, old)).fetchone()["id"] for run in runs[:2]]
    conn.execute("INSERT INTO snapshots (created_at) VALUES (%s), (%s)", (old, new))
    conn.execute("INSERT INTO vault_audit (provider, action, actor, outcome, created_at)"
                 " VALUES ('openai', 'get', 'cogo-work', 'ok', %s), ('openai', 'get', 'cogo-work', 'ok', %s)", (old, new))

    retention.prune(conn, POLICY)

    assert ids(conn, "gate_fixes") == {fixes[1]}  # the latest, a year old or not
    assert ids(conn, "quality_runs") == {runs[1], runs[3]}  # the latest gate_fix's run, and the recent one
    assert len(ids(conn, "snapshots")) == len(ids(conn, "vault_audit")) == 1


def test_upkeep_runs_at_most_once_per_period(conn):
    conn.execute("INSERT INTO index_runs (repo, started_at, finished_at) VALUES ('a', now() - interval '400 days',"
                 " now() - interval '400 days'), ('a', now(), now())")
    assert retention.prune_if_due(conn, POLICY) == {**dict.fromkeys(retention._STATEMENTS, 0), "index_runs": 1}
    assert retention.prune_if_due(conn, POLICY) is None  # done today
    assert retention.prune_if_due(conn, dataclasses.replace(POLICY, every=timedelta(0))) is not None


def test_upkeep_deletes_the_files_of_gate_fixes_the_store_let_go(conn):
    import os
    import time

    from cogo_pipelines.quality import gate_fix

    old = ago(conn, POLICY.records + timedelta(days=1))
    expired, latest = (conn.execute("INSERT INTO gate_fixes (created_at) VALUES (%s) RETURNING id", (old,))
                       .fetchone()["id"] for _ in range(2))
    folder = gate_fix.gate_fix_dir()
    folder.mkdir(parents=True)
    day_ago = time.time() - 2 * 86400
    for fix_id in (expired, latest, 999):
        for suffix in (".json", ".md"):
            (folder / f"{fix_id}{suffix}").write_text("{}")
            os.utime(folder / f"{fix_id}{suffix}", (day_ago, day_ago))
    (folder / "1000.md").write_text("written just now, its row not yet committed")
    (folder / "notes.txt").write_text("not an artifact")

    assert upkeep.run_upkeep(conn) == {"gate_fixes": 1, "gate_fix files": 4}
    assert sorted(p.name for p in folder.iterdir()) == ["1000.md", f"{latest}.json", f"{latest}.md", "notes.txt"]


def test_a_run_with_thousands_of_file_errors_stores_a_bounded_summary(conn):
    from datetime import UTC, datetime

    from cogo_pipelines.store import index_runs

    errors = [{"path": f"src/broken{i}.ts", "error": "not UTF-8: invalid start byte at byte 0"} for i in range(5000)]
    run_id = index_runs.record_run(conn, "r", datetime.now(UTC), 1.0, {"files": 5000, "errors": errors})
    stored = conn.execute("SELECT summary, pg_column_size(summary) AS bytes FROM index_runs WHERE id = %s",
                          (run_id,)).fetchone()
    assert stored["summary"]["errors"] == errors[:index_runs.MAX_LISTED]
    assert stored["summary"]["errors_total"] == 5000 and stored["summary"]["files"] == 5000
    assert stored["bytes"] < 20_000


def test_the_days_kept_come_from_the_settings(conn, monkeypatch):
    from cogo_pipelines import settings as settings_module

    for days in (20, 5):
        conn.execute("INSERT INTO jobs (type, executor_id, status, created_at, finished_at)"
                     " VALUES ('t', 'cogo-work', 'succeeded', now() - %s, now() - %s)",
                     (timedelta(days=days),) * 2)
    monkeypatch.setenv("RETENTION_HISTORY_DAYS", "10")
    settings_module.reload_settings()
    try:
        assert upkeep.policy().history == timedelta(days=10)
        assert upkeep.run_upkeep(conn, force=True) == {"jobs": 1}
        assert [r["n"] for r in conn.execute("SELECT count(*) AS n FROM jobs")] == [1]
    finally:
        monkeypatch.delenv("RETENTION_HISTORY_DAYS")
        settings_module.reload_settings()
