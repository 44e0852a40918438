"""The staged pipeline against a real store: incremental work, idempotent upsert, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import chunk_writes, knowledge


def chunk_rows(conn, repo: str) -> list[tuple]:
    return [
        (r["path"], r["chunk_type"], r["symbol"], r["start_line"], r["end_line"], r["content_hash"])
        for r in conn.execute("SELECT * FROM code_chunks WHERE repo = %s ORDER BY id", (repo,))
    ]


def test_unchanged_repo_parses_and_embeds_nothing_and_one_edit_recomputes_one_file(
    seeded_conn, sample_copy: Path
):
    conn = seeded_conn
    first = index_run.run_index(conn, sample_copy)
    assert first.files == 35 and first.rechunked_files == 35 and first.chunks > 100
    assert first.embedded == 0 and first.embeddings_from_cache == first.chunks  # all from the session cache
    assert knowledge.index_stats(conn, "cogo-sample")["embedded"] == first.chunks
    before = chunk_rows(conn, "cogo-sample")

    second = index_run.run_index(conn, sample_copy)
    assert (second.parsed, second.rechunked_files, second.embedded, second.embeddings_from_cache) == (
        0,
        0,
        0,
        0,
    )
    assert second.skipped_unchanged == 35
    assert chunk_rows(conn, "cogo-sample") == before  # idempotent: same rows, no duplicates

    target = sample_copy / "src/core/lease.ts"
    target.write_text(
        target.read_text()
        + "\n/** Half of the lease, for tests. */\nexport function halfLease(s: number): number {\n  return s / 2;\n}\n"
    )
    lease_chunks = sum(1 for r in before if r[0] == "src/core/lease.ts")
    at = "SELECT id, ctid::text AS at FROM code_chunks WHERE path = 'src/core/lease.ts'"
    places = {r["id"]: r["at"] for r in conn.execute(at)}
    third = index_run.run_index(conn, sample_copy)
    assert third.rechunked_files == 1 and third.parsed == 1
    assert 1 <= third.embedded <= 2  # the new function (and the module chunk whose outline changed)
    after = chunk_rows(conn, "cogo-sample")
    assert [r for r in after if r[0] != "src/core/lease.ts"] == [
        r for r in before if r[0] != "src/core/lease.ts"
    ]
    assert sum(1 for r in after if r[0] == "src/core/lease.ts") == lease_chunks + 1
    assert any(r[2] == "halfLease" for r in after)
    assert knowledge.index_stats(conn, "cogo-sample")["embedded"] == len(after)
    # the postings of the rows the edit wrote were scored with the repo's average length after the
    # edit (the rows it kept, like the other files, keep the length of their own write): the same
    # as writing them again now
    written = [r["id"] for r in conn.execute(at) if places.get(r["id"]) != r["at"]]
    assert 0 < len(written) <= lease_chunks + 1
    postings = (
        "SELECT term, chunk_id, impact FROM chunk_postings WHERE path = 'src/core/lease.ts'"
        " AND chunk_id = ANY(%s) ORDER BY 1, 2"
    )
    incremental = [tuple(r.values()) for r in conn.execute(postings, (written,))]
    conn.execute("DELETE FROM chunk_postings WHERE chunk_id = ANY(%s)", (written,))
    chunk_writes.write_postings(conn, "cogo-sample", ["src/core/lease.ts"], written)
    assert incremental and [tuple(r.values()) for r in conn.execute(postings, (written,))] == incremental
    conn.rollback()

    (sample_copy / "src/core/lease.ts").unlink()
    fourth = index_run.run_index(conn, sample_copy)
    assert fourth.removed_files == 1 and fourth.embedded == 0
    assert not [r for r in chunk_rows(conn, "cogo-sample") if r[0] == "src/core/lease.ts"]


def test_an_edit_keeps_the_chunk_rows_it_did_not_change(seeded_conn, sample_copy: Path):
    """A body edit that moves no line rewrites its one chunk; the file's other rows stay where
    they are (same tuples: no new vector insert, no new postings), and the result equals writing
    the whole file again."""
    conn = seeded_conn
    index_run.run_index(conn, sample_copy)
    path = "src/core/lease.ts"
    rows = f"SELECT ctid::text AS at, * FROM code_chunks WHERE path = '{path}' ORDER BY id"
    postings = f"SELECT term, chunk_id, impact FROM chunk_postings WHERE path = '{path}' ORDER BY 1, 2"
    before = {r["id"]: r for r in conn.execute(rows)}
    target = sample_copy / path
    target.write_text(target.read_text().replace("Math.floor(remaining", "Math.round(remaining"))

    edit = index_run.run_index(conn, sample_copy)
    after = {r["id"]: r for r in conn.execute(rows)}
    changed = [i for i in after if i not in before or after[i]["at"] != before[i]["at"]]
    assert edit.rechunked_files == 1 and edit.embedded == 1
    assert [after[i]["symbol"] for i in changed] == ["nextHeartbeatAt"] and len(after) == len(before) >= 5
    assert after[changed[0]]["file_hash"] != before[changed[0]]["file_hash"]

    # the same file written from scratch: every column equal but the version each row was made from
    conn.execute("UPDATE chunked_files SET file_hash = '' WHERE path = %s", (path,))
    conn.execute("UPDATE code_chunks SET row_hash = NULL WHERE path = %s", (path,))
    incremental = [tuple(r.values()) for r in conn.execute(postings)]
    index_run.run_index(conn, sample_copy)
    rewritten = {r["id"]: r for r in conn.execute(rows)}
    assert all(rewritten[i]["at"] != after[i]["at"] for i in after)  # really written again

    def columns(r: dict) -> dict:
        return {k: v for k, v in r.items() if k not in ("at", "file_hash", "embedding")} | {
            "embedding": str(r["embedding"])
        }

    assert {i: columns(r) for i, r in rewritten.items()} == {i: columns(r) for i, r in after.items()}
    again = [tuple(r.values()) for r in conn.execute(postings)]
    assert [p[:2] for p in again] == [p[:2] for p in incremental] and len(again) > 20
    assert all(abs(a[2] - b[2]) <= 1e-3 * abs(b[2]) for a, b in zip(again, incremental, strict=True))


def test_bad_files_never_abort_the_run(conn, tmp_path: Path):
    root = tmp_path / "badrepo"
    (root / "src").mkdir(parents=True)
    (root / "docs/specs").mkdir(parents=True)
    (root / "supabase/sql").mkdir(parents=True)
    (root / "src/empty.ts").write_bytes(b"")
    (root / "src/comments.ts").write_text("// nothing but a comment\n/* and another */\n")
    (root / "src/generated.ts").write_bytes(
        b"export const ROWS = [\n" + b"  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],\n" * 130_000 + b"];\n"
    )
    (root / "src/latin1.ts").write_bytes("export const greeting = 'olá café';\n".encode("latin-1"))
    (root / "src/broken.ts").write_text("export function broken( {\n  return ;;\n")
    (root / "docs/specs/plain.md").write_text("no headers here, just a paragraph about leases\n")
    (root / "supabase/sql/bad.sql").write_text("create function f() returns int as $$ begin; select 1;\n")
    (root / "supabase/sql/good.sql").write_text("create table leases (id int);\n")

    summary = index_run.run_index(conn, root, embed=False)
    assert summary.files == 8
    errors = dict(summary.errors)
    assert "too large" in errors["src/generated.ts"]
    assert "UTF-8" in errors["src/latin1.ts"]
    assert "did not parse" in errors["supabase/sql/bad.sql"]
    per_file = {
        r["path"]: r["n"] for r in conn.execute("SELECT path, count(*) AS n FROM code_chunks GROUP BY path")
    }
    assert set(per_file) == {
        "src/empty.ts", "src/comments.ts", "src/generated.ts", "src/latin1.ts", "src/broken.ts",
        "docs/specs/plain.md", "supabase/sql/bad.sql", "supabase/sql/good.sql",
    }  # fmt: skip
    assert per_file["src/generated.ts"] == 1 and per_file["docs/specs/plain.md"] == 1
    recorded = {
        r["path"]: r["error"] for r in conn.execute("SELECT path, error FROM files WHERE error IS NOT NULL")
    }
    assert "supabase/sql/bad.sql" in recorded
    hits = knowledge.search(conn, "paragraph about leases", k=3, repo="badrepo", mode="keyword")
    assert "docs/specs/plain.md" in [h.path for h in hits]  # a header-less document is searchable


def _hnsw(conn) -> tuple[int, str] | None:
    row = conn.execute(
        "SELECT c.oid, pg_get_indexdef(c.oid) AS d FROM pg_class c WHERE c.relname = %s", (chunk_writes.HNSW_INDEX,)
    ).fetchone()
    return (row["oid"], row["d"]) if row else None


def test_a_large_vector_fill_rebuilds_the_index_and_a_busy_table_is_filled_row_by_row(
    seeded_conn, sample_copy: Path, database_url: str, monkeypatch
):
    import psycopg

    from cogo_pipelines.indexing import embedding

    conn = seeded_conn
    before = _hnsw(conn)
    monkeypatch.setattr(chunk_writes, "BULK_FILL_MIN_ROWS", 10)
    summary = index_run.run_index(conn, sample_copy)
    assert summary.embeddings_from_cache == summary.chunks > 100
    rebuilt = _hnsw(conn)
    assert rebuilt is not None and rebuilt[0] != before[0] and rebuilt[1] == before[1]  # same index, new build
    assert knowledge.index_stats(conn, "cogo-sample")["embedded"] == summary.chunks
    hits = knowledge.search(conn, "renew the lease of a claimed job", k=5, repo="cogo-sample", mode="vector")
    assert hits and "src/core/lease.ts" in [h.path for h in hits]

    conn.execute("UPDATE code_chunks SET embedding = NULL")
    conn.commit()
    monkeypatch.setattr(chunk_writes, "BULK_FILL_LOCK_TIMEOUT", "300ms")
    with psycopg.connect(database_url) as reader:  # a search in flight holds the table
        reader.execute("SELECT count(*) FROM code_chunks").fetchone()
        filled = chunk_writes.fill_from_cache(conn, "cogo-sample", embedding.model_key())
        conn.commit()
        reader.rollback()
    assert filled == summary.chunks
    assert _hnsw(conn) == rebuilt  # not rebuilt: the vectors went into the index one by one
    assert knowledge.index_stats(conn, "cogo-sample")["embedded"] == summary.chunks

    # a hosted store's role may write the rows without owning the index: row by row too
    role = "cogo_writer_" + database_url.rsplit("/", 1)[-1].split("?")[0][-8:]
    conn.execute("UPDATE code_chunks SET embedding = NULL")
    conn.execute(f"CREATE ROLE {role}")
    conn.execute(f"GRANT SELECT, UPDATE ON code_chunks, chunk_embeddings TO {role}")
    conn.commit()
    try:
        conn.execute(f"SET ROLE {role}")
        filled = chunk_writes.fill_from_cache(conn, "cogo-sample", embedding.model_key())
        conn.commit()
    finally:
        conn.rollback()
        conn.execute("RESET ROLE")
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")
        conn.commit()
    assert filled == summary.chunks and _hnsw(conn) == rebuilt


def test_chunks_are_written_with_their_rank_and_keyword_search_serves_before_the_vectors(
    conn, sample_copy: Path
):
    index_run.graph_stage(conn, sample_copy)
    index_run.rank_stage(conn, "cogo-sample")
    found = index_run.graph_stage(conn, sample_copy).files
    index_run.chunk_stage(conn, sample_copy, "cogo-sample", list(found))
    # the rule of chunk_writes.refresh_rank, evaluated chunk by chunk over the rows as written
    rule = (
        "SELECT c.rank AS written, coalesce((SELECT max(n.rank) FROM ast_nodes n WHERE n.repo = c.repo"
        " AND n.path = c.path AND n.qualified_name = c.symbol), (SELECT max(n.rank) FROM ast_nodes n"
        " WHERE n.repo = c.repo AND n.path = c.path), 0) AS rule FROM code_chunks c WHERE c.repo = 'cogo-sample'"
    )
    rows = conn.execute(rule).fetchall()
    assert rows and all(abs(r["written"] - r["rule"]) < 1e-6 for r in rows)
    assert sum(r["written"] > 0 for r in rows) > len(rows) / 2
    conn.execute("UPDATE code_chunks SET rank = rank + 1 WHERE path LIKE 'src/core/%'")
    chunk_writes.refresh_rank(conn, "cogo-sample")  # a rank that drifted is written back
    assert all(abs(r["written"] - r["rule"]) < 1e-6 for r in conn.execute(rule).fetchall())
    assert knowledge.index_stats(conn, "cogo-sample")["embedded"] == 0
    hits = knowledge.search(conn, "renew the lease of a claimed job", k=5, repo="cogo-sample")
    assert "src/core/lease.ts" in [h.path for h in hits]  # hybrid, keyword side alone: IDF in place


def test_a_killed_embedding_run_keeps_what_it_encoded_and_the_next_run_encodes_only_the_rest(
    conn, sample_copy: Path, sample_vectors, monkeypatch
):
    import numpy as np

    from cogo_pipelines.indexing import embedding

    index_run.run_index(conn, sample_copy, embed=False)
    encoded: list[str] = []

    def encode(texts, model=None):  # the real model's vectors, computed once per session
        if encoded:
            raise KeyboardInterrupt  # killed during the second batch
        encoded.extend(texts)
        return np.stack([sample_vectors[embedding.text_hash(t)] for t in texts])

    monkeypatch.setattr(index_run, "EMBED_BATCH", 7)
    monkeypatch.setattr(embedding, "encode", encode)
    try:
        index_run.embed_stage(conn, "cogo-sample")
    except KeyboardInterrupt:
        conn.rollback()
    assert len(encoded) == 7
    cached = conn.execute("SELECT count(*) AS n FROM chunk_embeddings").fetchone()["n"]
    assert cached == 7  # the first batch's vectors were committed to the cache

    encoded.clear()

    def encode_all(texts, model=None):
        encoded.extend(texts)
        return np.stack([sample_vectors[embedding.text_hash(t)] for t in texts])

    monkeypatch.setattr(embedding, "encode", encode_all)
    second = index_run.embed_stage(conn, "cogo-sample")
    distinct = conn.execute("SELECT count(DISTINCT content_hash) AS n FROM code_chunks").fetchone()["n"]
    assert second.embedded == len(encoded) == distinct - 7  # nothing encoded twice
    assert second.from_cache >= 7
    stats = knowledge.index_stats(conn, "cogo-sample")
    assert stats["embedded"] == stats["chunks"]


def test_the_idf_table_follows_edits_by_difference_and_equals_a_recount(conn, sample_copy: Path, monkeypatch):
    index_run.run_index(conn, sample_copy, embed=False)
    recount = chunk_writes.refresh_terms
    terms = "SELECT term, ndoc FROM chunk_terms WHERE repo = 'cogo-sample' ORDER BY term"
    target = sample_copy / "src/core/lease.ts"
    target.write_text(target.read_text() + "\nexport function quokkaLease(): number {\n  return 7;\n}\n")
    (sample_copy / "src/core/wombat.ts").write_text("export const wombatBurrow = 'marsupial tunnels';\n")
    removed = next(p for p in sorted((sample_copy / "docs").rglob("*.md")))
    removed.unlink()
    with monkeypatch.context() as m:
        m.setattr(chunk_writes, "refresh_terms", lambda *a: pytest.fail("3 of 35 files changed: no recount"))
        summary = index_run.run_index(conn, sample_copy, embed=False)
    assert summary.rechunked_files == 2 and summary.removed_files == 1
    by_difference = conn.execute(terms).fetchall()
    assert {"quokka", "wombat", "marsupi"} <= {r["term"] for r in by_difference}
    recount(conn, "cogo-sample")
    assert conn.execute(terms).fetchall() == by_difference  # the same table as a full recount
    chunks = conn.execute("SELECT count(*) AS n FROM code_chunks WHERE repo = 'cogo-sample'").fetchone()["n"]
    assert {r["term"]: r["ndoc"] for r in by_difference}[""] == chunks


def test_an_index_run_does_the_stores_daily_upkeep_once(conn, tmp_path: Path):
    """Finished queue history past its time goes after an index run (``store/retention.py``),
    once a day: the next run leaves what expired since for tomorrow's."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src/a.ts").write_text("export const a = 1;\n")

    def old_finished_job() -> None:
        conn.execute("INSERT INTO jobs (type, executor_id, status, created_at, finished_at)"
                     " VALUES ('t', 'cogo-work', 'succeeded', now() - interval '200 days', now() - interval '200 days')")
        conn.commit()

    old_finished_job()
    assert index_run.run_index(conn, root, embed=False).pruned == {"jobs": 1}
    old_finished_job()
    summary = index_run.run_index(conn, root, embed=False)
    assert summary.pruned == {} and conn.execute("SELECT count(*) AS n FROM jobs").fetchone()["n"] == 1


def test_the_upkeep_never_takes_the_caches_a_live_index_uses(conn, sample_copy: Path):
    """The cache rows a repo's current files and chunks use are referenced (the keys match what
    the stages write), so even with no grace at all the upkeep leaves every one of them, and the
    next run still parses and embeds nothing; an edited file's old versions do go."""
    import dataclasses
    from datetime import timedelta

    from cogo_pipelines.pipeline import upkeep
    from cogo_pipelines.store import retention

    index_run.run_index(conn, sample_copy)
    before = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"]
              for t in ("graph_extractions", "chunk_embeddings")}
    no_grace = dataclasses.replace(upkeep.policy(), cache_grace=timedelta(0))
    assert retention.prune(conn, no_grace)["graph_extractions"] == 0
    assert {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in before} == before
    conn.commit()
    again = index_run.run_index(conn, sample_copy)
    assert again.parsed == 0 and again.embedded == 0

    lease = sample_copy / "src/core/lease.ts"
    lease.write_text(lease.read_text().replace("return", "return /* edited */", 1))  # one body changes
    index_run.run_index(conn, sample_copy)
    deleted = retention.prune(conn, no_grace)
    assert deleted["graph_extractions"] == 1 and deleted["chunk_embeddings"] >= 1  # lease.ts as it was


def test_an_upkeep_that_fails_never_fails_the_index_run(conn, tmp_path: Path, caplog):
    """The index is committed before the upkeep runs: a role that may not delete history (a
    hosted store) leaves the upkeep to later and the run reports success."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src/a.ts").write_text("export const a = 1;\n")
    conn.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
                 " BEGIN RAISE EXCEPTION 'permission denied for table jobs'; END $$")
    conn.execute("CREATE TRIGGER no_deletes BEFORE DELETE ON jobs FOR EACH ROW EXECUTE FUNCTION refuse()")
    conn.execute("INSERT INTO jobs (type, executor_id, status, created_at, finished_at)"
                 " VALUES ('t', 'cogo-work', 'succeeded', now() - interval '200 days', now() - interval '200 days')")
    conn.commit()
    summary = index_run.run_index(conn, root, embed=False)
    assert summary.pruned == {} and "store upkeep skipped: permission denied for table jobs" in caplog.text
    assert conn.execute("SELECT count(*) AS n FROM code_chunks WHERE path = 'src/a.ts'").fetchone()["n"] > 0
    assert conn.execute("SELECT count(*) AS n FROM jobs").fetchone()["n"] == 1


def test_switching_the_embedding_model_embeds_again_and_search_never_mixes_models(conn, sample_copy: Path,
                                                                                     tmp_path: Path):
    """A run under another model found every chunk with a vector, embedded nothing and said so:
    the old model's vectors stayed, compared with queries embedded by the new one. The repo
    now records its vectors' model; a switch clears and embeds them again, and search leaves the
    vector side out while the query's model is not the repo's."""
    import shutil

    from cogo_pipelines.indexing import embedding, static_embedding
    from cogo_pipelines.settings import get_settings

    index_run.run_index(conn, sample_copy)
    chunks = knowledge.index_stats(conn, "cogo-sample")["chunks"]
    assert knowledge.search(conn, "lease expiry", repo="cogo-sample", mode="vector")
    other = tmp_path / "other-static"  # the same weights under another name: another model to the store
    shutil.copytree(static_embedding.model_dir(get_settings().cogo_home.resolve()), other)
    switched = index_run.embed_stage(conn, "cogo-sample", model_name=str(other))
    distinct = conn.execute("SELECT count(DISTINCT content_hash) AS n FROM code_chunks").fetchone()["n"]
    assert switched.cleared == chunks and switched.embedded == distinct
    assert knowledge.index_stats(conn, "cogo-sample")["embedded"] == chunks
    recorded = conn.execute("SELECT model FROM repo_vectors WHERE repo = 'cogo-sample'").fetchone()["model"]
    assert recorded == embedding.model_key(str(other)) != embedding.model_key()
    assert knowledge.search(conn, "lease expiry", repo="cogo-sample", mode="vector") == []  # not the query's model
    assert knowledge.search(conn, "lease expiry", repo="cogo-sample")  # keyword side still serves
    again = index_run.embed_stage(conn, "cogo-sample")  # back: from the cache, nothing encoded
    assert again.cleared == chunks and again.embedded == 0 and again.from_cache == chunks
    assert knowledge.search(conn, "lease expiry", repo="cogo-sample", mode="vector")
