import multiprocessing
import subprocess
import sys

import psycopg
import pytest

from cogo_pipelines.store import db

EXPECTED_TABLES = {
    "files", "ast_nodes", "code_relationships", "code_chunks", "jobs",
    "quality_runs", "gate_fixes", "snapshots", "notifications",
}


def test_migrations_create_the_design_tables(conn):
    names = {r["table_name"] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert EXPECTED_TABLES <= names
    col = conn.execute(
        "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute "
        "WHERE attrelid = 'code_chunks'::regclass AND attname = 'embedding'").fetchone()
    assert col["t"] == "vector(384)"
    idx = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'code_chunks'").fetchall()
    assert any("hnsw" in r["indexdef"] and "vector_cosine_ops" in r["indexdef"] for r in idx)


def test_graph_ids_compare_byte_by_byte(conn):
    """The ids' b-tree steps skip the locale (migration 120); a join across collations fails."""
    rows = conn.execute(
        "SELECT table_name || '.' || column_name AS col, collation_name FROM information_schema.columns "
        "WHERE (table_name, column_name) IN (('ast_nodes', 'id'), ('code_relationships', 'id'),"
        " ('code_relationships', 'src_id'), ('code_relationships', 'dst_id'))").fetchall()
    assert {r["col"]: r["collation_name"] for r in rows} == dict.fromkeys(
        ["ast_nodes.id", "code_relationships.id", "code_relationships.src_id", "code_relationships.dst_id"], "C")


def test_migrate_is_idempotent(conn):
    before = conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"]
    assert db.migrate(conn) == []
    after = conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"]
    assert before == after == len(db.migration_files())


def _migrate_fresh(url: str) -> list[str]:
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as c:
        return db.migrate(c)


def test_concurrent_migrations_apply_once(pg_server):
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS race_db")
        c.execute("CREATE DATABASE race_db")
    url = pg_server.get_uri("race_db")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_migrate_fresh, [url] * 4)
    applied = [name for r in results for name in r]
    assert sorted(applied) == sorted(name for name, _ in db.migration_files())
    with psycopg.connect(url) as c:
        assert c.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(db.migration_files())


def test_unreachable_database_url_is_one_clear_line(tmp_path):
    env = {"DATABASE_URL": "postgresql://cogo@127.0.0.1:1/nowhere", "PATH": "/usr/bin:/bin", "COGO_HOME": str(tmp_path)}
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("export const a = 1;\n")  # a repo with no file is its own error now
    proc = subprocess.run([sys.executable, "-m", "cogo_pipelines.cli", "index", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 2
    assert "DATABASE_URL" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_corrupted_embedded_store_says_how_to_reset(tmp_path, monkeypatch):
    pg = tmp_path / "pg"
    pg.mkdir()
    (pg / "garbage").write_text("not a cluster")
    with pytest.raises(db.StoreError, match="reset"):
        db.embedded_uri(pg)
    assert (pg / "garbage").exists(), "nothing is deleted automatically"


def test_a_new_embedded_store_starts_with_its_write_settings(tmp_path):
    pg = tmp_path / "pg"
    uri = db.embedded_uri(pg)
    try:
        with psycopg.connect(uri) as conn:
            assert {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in db.EMBEDDED_SETTINGS} == db.EMBEDDED_SETTINGS
        # a second process finds it running, tuned, and leaves it alone
        script = "import sys, pathlib; from cogo_pipelines.store import db; print(db.embedded_uri(pathlib.Path(sys.argv[1])))"
        out = subprocess.run([sys.executable, "-c", script, str(pg)], capture_output=True, text=True, timeout=60,
                             check=False)
        assert out.returncode == 0 and out.stdout.strip() == uri
    finally:
        import pgserver
        from pgserver._commands import pg_ctl

        server = pgserver.get_server(pg, cleanup_mode=None)  # this process's handle on it
        pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user)


def test_a_running_tuned_store_is_found_from_its_pid_file_alone(tmp_path):
    """The fast path of ``embedded_uri`` (no pgserver import, no settings connection) answers
    only for a live, ready server with its socket and settings in place; else the locked start-up."""
    import os

    pg = tmp_path / "pg"
    pg.mkdir()
    settings = "".join(f"{k} = '{v}'\n" for k, v in db.EMBEDDED_SETTINGS.items())

    def pid_file(pid: int, status: str = "ready") -> None:
        (pg / "postmaster.pid").write_text(f"{pid}\n{pg}\n1700000000\n5432\n{pg}\nlocalhost\n  1  2\n{status}\n")

    assert db._running_uri(pg) is None  # no pid file
    pid_file(os.getpid())
    (pg / "postgresql.auto.conf").write_text(settings)
    assert db._running_uri(pg) is None  # no socket
    (pg / ".s.PGSQL.5432").write_text("")
    assert db._running_uri(pg) == f"postgresql://postgres:@/postgres?host={pg}"
    pid_file(os.getpid(), "starting")
    assert db._running_uri(pg) is None  # not ready yet
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    pid_file(dead)
    assert db._running_uri(pg) is None  # a stale file of a crashed server
    pid_file(os.getpid())
    (pg / "postgresql.auto.conf").write_text("")
    assert db._running_uri(pg) is None  # settings not written yet: the start-up path writes them
