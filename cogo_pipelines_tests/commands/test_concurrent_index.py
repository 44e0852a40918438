"""Two ``cogo index`` of one repo at once (issue 18, item 7): both exit 0 and the store holds
what two runs one after the other leave. Before the per-repo write lock one of the two died
with ``UniqueViolation`` on ``code_chunks_pkey`` (3 of 3 trials)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..conftest import TEMPLATE_DB

COGO = [sys.executable, "-m", "cogo_pipelines.cli"]
# What an index run writes; timestamps aside, a row is the same whichever run wrote it.
TABLES = ("files", "ast_nodes", "code_relationships", "code_chunks", "chunked_files", "chunk_postings",
          "chunk_terms", "graph_extractions", "graph_state")


def _index(url: str, repo: Path) -> subprocess.Popen:
    # --no-embed: the chunk write path (replace_file_chunks, postings, terms) without the model
    return subprocess.Popen([*COGO, "index", str(repo), "--no-embed", "--json"], env={**os.environ, "DATABASE_URL": url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _contents(url: str) -> dict[str, list[str]]:
    out = {}
    with psycopg.connect(url) as conn:
        for table in TABLES:
            columns = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                " AND data_type NOT LIKE 'timestamp%%' ORDER BY ordinal_position", (table,))]
            select = ", ".join(f'"{c}"' for c in columns)
            out[table] = [r[0] for r in conn.execute(
                f"SELECT row_to_json(t)::text FROM (SELECT {select} FROM {table}) t ORDER BY 1")]
    return out


def _fresh_database(pg_server) -> str:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    return name


def test_two_index_runs_at_once_both_succeed_and_equal_a_sequential_pair(pg_server, database_url,
                                                                          sample_repo_path: Path):
    together = [_index(database_url, sample_repo_path) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in together]
    outcomes = [(p.returncode, err, out) for p, (out, err) in zip(together, outputs, strict=True)]
    assert [rc for rc, _, _ in outcomes] == [0, 0], [err[-500:] for _, err, _ in outcomes]
    assert all("Traceback" not in err for _, err, _ in outcomes)

    name = _fresh_database(pg_server)
    url = make_conninfo(**{**conninfo_to_dict(database_url), "dbname": name})
    try:
        for _ in range(2):
            one = _index(url, sample_repo_path)
            _, err = one.communicate(timeout=300)
            assert one.returncode == 0, err
        concurrent, sequential = _contents(database_url), _contents(url)
        assert len(concurrent["code_chunks"]) > 100 and len(concurrent["chunk_postings"]) > 1000
        for table in TABLES:
            assert concurrent[table] == sequential[table], table
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
