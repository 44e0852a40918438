"""Neo4j mirror: statements built from real store rows; the server round trip needs NEO4J_URI."""

from __future__ import annotations

import os
import uuid

import pytest

from cogo_pipelines.indexing import graph
from cogo_pipelines.store import neo4j_mirror

REPO = "mirror-repo"


def seed(conn, repo: str = REPO, n_symbols: int = 7) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO files (repo, path, language, content_hash) VALUES (%s, 'src/a.ts', 'typescript', 'h')",
            (repo,),
        )
        cur.executemany(
            "INSERT INTO ast_nodes (id, repo, path, kind, name, qualified_name, start_line, end_line, rank)"
            " VALUES (%s, %s, 'src/a.ts', 'function', %s, %s, %s, %s, 0.5)",
            [(f"{repo}#f{i}", repo, f"f{i}", f"f{i}", i * 3 + 1, i * 3 + 2) for i in range(n_symbols)],
        )
        cur.executemany(
            "INSERT INTO code_relationships (id, repo, src_id, dst_id, kind, confidence) VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (
                    f"{repo}-r{i}",
                    repo,
                    f"{repo}#f{i}",
                    f"{repo}#f{i + 1}" if i < 4 else "unresolved:./x",
                    kind,
                    conf,
                )
                for i, (kind, conf) in enumerate(
                    [
                        ("calls", "certain"),
                        ("runtime", "observed"),
                        ("imports", "maybe"),
                        ("x) DETACH DELETE n //", "certain"),
                        ("imports", "maybe"),
                    ]
                )
            ],
        )
        cur.execute(
            "INSERT INTO code_chunks (id, repo, path, chunk_type, symbol, content, content_hash)"
            " VALUES (%s, %s, 'src/a.ts', 'code', 'f1', 'function f1() {}', 'c')",
            (f"{repo}-c1", repo),
        )


def test_plan_batches_unwind_merge_with_postgres_ids(conn):
    seed(conn)
    rows = neo4j_mirror.load_rows(conn, REPO)
    assert rows.counts() == {"files": 1, "symbols": 7, "chunks": 1, "relationships": 5, "placeholders": 1}
    statements = neo4j_mirror.plan(rows, REPO, batch_size=3)
    constraints = [s for s in statements if s.cypher.startswith("CREATE CONSTRAINT")]
    assert len(constraints) == 1 and "(n:CodeNode) REQUIRE n.id IS UNIQUE" in constraints[0].cypher
    symbol_batches = [s for s in statements if "SET n:Symbol" in s.cypher]
    assert [len(s.rows) for s in symbol_batches] == [3, 3, 1]
    assert all(s.cypher.startswith("UNWIND $rows AS r MERGE (n:CodeNode {id: r.id})") for s in symbol_batches)
    assert symbol_batches[0].rows[0]["id"] == f"{REPO}#f0"
    file_row = next(s for s in statements if "SET n:File" in s.cypher).rows[0]
    assert file_row["id"] == graph.file_id(REPO, "src/a.ts") and file_row["props"]["content_hash"] == "h"
    placeholder = next(s for s in statements if "SET n:Placeholder" in s.cypher).rows[0]
    assert placeholder["id"] == "unresolved:./x"
    chunk = next(s for s in statements if "SET c:Chunk" in s.cypher).rows[0]
    assert (
        chunk["id"] == f"{REPO}-c1"
        and chunk["symbol_id"] == f"{REPO}#f1"
        and "embedding" not in chunk["props"]
    )
    rel_types = {
        s.cypher.split("[x:")[1].split(" ")[0]
        for s in statements
        if "[x:" in s.cypher and "MERGE" in s.cypher
    }
    # the hostile kind became a harmless type name
    assert rel_types == {"CALLS", "RUNTIME", "IMPORTS", "X__DETACH_DELETE_N"}
    deletes = [s for s in statements if "DELETE" in s.cypher and "MERGE" not in s.cypher]
    assert {d.params["repo"] for d in deletes} == {REPO}
    rel_delete = next(d for d in deletes if "x.id" in d.cypher)
    assert sorted(rel_delete.params["ids"]) == [f"{REPO}-r{i}" for i in range(5)]


def test_unset_uri_skips_with_a_reason(conn, caplog):
    caplog.set_level("INFO")
    result = neo4j_mirror.mirror(conn, REPO, uri=None)
    assert result.skipped and "NEO4J_URI" in result.reason
    assert "NEO4J_URI is not set" in caplog.text


def test_relationship_type_names():
    assert neo4j_mirror.relationship_type("calls") == "CALLS"
    assert neo4j_mirror.relationship_type("1bad") == "R_1BAD"
    assert neo4j_mirror.relationship_type("") == "RELATED"


@pytest.mark.neo4j
@pytest.mark.skipif(
    not os.environ.get("NEO4J_URI"), reason="NEO4J_URI not set: no Neo4j server to mirror into"
)
def test_mirror_round_trip_and_deletion(conn):
    from neo4j import GraphDatabase

    repo = "mirror-" + uuid.uuid4().hex[:8]
    seed(conn, repo)
    kwargs = {
        "uri": os.environ["NEO4J_URI"],
        "user": os.environ.get("NEO4J_USER", "neo4j"),
        "password": os.environ.get("NEO4J_PASSWORD"),
        "database": os.environ.get("NEO4J_DATABASE"),
    }
    result = neo4j_mirror.mirror(conn, repo, **kwargs)
    assert not result.skipped and result.relationships_unmatched == 0
    conn.execute("DELETE FROM ast_nodes WHERE id = %s", (f"{repo}#f6",))
    conn.execute("DELETE FROM code_relationships WHERE id = %s", (f"{repo}-r0",))
    neo4j_mirror.mirror(conn, repo, **kwargs)
    auth = (kwargs["user"], kwargs["password"]) if kwargs["password"] else None
    with (
        GraphDatabase.driver(kwargs["uri"], auth=auth) as driver,
        driver.session(database=kwargs["database"]) as s,
    ):
        symbols = s.run("MATCH (n:Symbol {repo: $repo}) RETURN count(n) AS n", repo=repo).single()["n"]
        rels = s.run(
            "MATCH (:CodeNode {repo: $repo})-[x]->(:CodeNode) WHERE x.id IS NOT NULL RETURN collect(x.id) AS ids",
            repo=repo,
        ).single()["ids"]
        chunk = s.run(
            "MATCH (c:Chunk {id: $id})-[:DESCRIBES]->(s:Symbol) RETURN s.id AS sid", id=f"{repo}-c1"
        ).single()
        s.run("MATCH (n {repo: $repo}) DETACH DELETE n", repo=repo).consume()
    assert symbols == 6
    assert sorted(rels) == [f"{repo}-r{i}" for i in (1, 2, 3, 4)]
    assert chunk["sid"] == f"{repo}#f1"
