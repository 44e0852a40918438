"""The staged pipeline against a real store: incremental work, idempotent upsert, bad input."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import knowledge


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

    (sample_copy / "src/core/lease.ts").unlink()
    fourth = index_run.run_index(conn, sample_copy)
    assert fourth.removed_files == 1 and fourth.embedded == 0
    assert not [r for r in chunk_rows(conn, "cogo-sample") if r[0] == "src/core/lease.ts"]


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
