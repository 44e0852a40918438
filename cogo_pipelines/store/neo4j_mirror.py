"""Optional Neo4j mirror of the code graph, for graph queries Postgres is awkward at.

Postgres stays the source of truth: the mirror is rebuilt from its rows with the same ids
(files: ``repo:path``; symbols, chunks and relationships: their primary keys), written with
``UNWIND $rows AS r MERGE …`` in batches, and whatever Postgres no longer has is deleted.
Building the statements is pure (``plan``) so that it is testable without a server; only
``apply`` talks to Neo4j, through the official driver.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

log = logging.getLogger(__name__)

BATCH_SIZE = 500
LABELS = ("File", "Symbol", "Chunk")

CONSTRAINTS = tuple(
    f"CREATE CONSTRAINT cogo_{label.lower()}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
    for label in LABELS
)

MERGE_FILES = (
    "UNWIND $rows AS r MERGE (f:File {id: r.id}) "
    "SET f.repo = r.repo, f.path = r.path, f.language = r.language, f.content_hash = r.content_hash"
)
MERGE_SYMBOLS = (
    "UNWIND $rows AS r MERGE (s:Symbol {id: r.id}) SET s += r.props "
    "WITH s, r MATCH (f:File {id: r.file_id}) MERGE (f)-[:DEFINES]->(s)"
)
MERGE_CHUNKS = (
    "UNWIND $rows AS r MERGE (c:Chunk {id: r.id}) SET c += r.props "
    "WITH c, r MATCH (f:File {id: r.file_id}) MERGE (c)-[:IN_FILE]->(f) "
    "WITH c, r WHERE r.symbol_id IS NOT NULL MATCH (s:Symbol {id: r.symbol_id}) MERGE (c)-[:DESCRIBES]->(s)"
)
# Relationship types cannot be parameters, so each kind gets its own statement; the type name is
# derived from the kind through ``relationship_type`` (letters, digits, underscore only).
MERGE_RELATIONSHIPS = (
    "UNWIND $rows AS r MATCH (s:Symbol {{id: r.src_id}}) MATCH (d:Symbol {{id: r.dst_id}}) "
    "MERGE (s)-[x:{rel_type} {{id: r.id}}]->(d) SET x += r.props RETURN count(x) AS merged"
)
DELETE_NODES = "MATCH (n:{label} {{repo: $repo}}) WHERE NOT n.id IN $ids DETACH DELETE n"
DELETE_RELATIONSHIPS = (
    "MATCH (:Symbol {repo: $repo})-[x]->(:Symbol) WHERE x.id IS NOT NULL AND x.repo = $repo "
    "AND NOT x.id IN $ids DELETE x"
)


@dataclass(frozen=True)
class Statement:
    cypher: str
    params: dict[str, Any]

    @property
    def rows(self) -> list[dict]:
        return self.params.get("rows", [])


@dataclass
class MirrorRows:
    files: list[dict] = field(default_factory=list)
    symbols: list[dict] = field(default_factory=list)
    chunks: list[dict] = field(default_factory=list)
    relationships: list[dict] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in vars(self).items()}


@dataclass
class MirrorResult:
    skipped: bool
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    statements: int = 0
    relationships_unmatched: int = 0
    seconds: float = 0.0


def relationship_type(kind: str) -> str:
    """``calls`` -> ``CALLS``; anything odd becomes underscores so it can never inject Cypher."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", kind).upper().strip("_") or "RELATED"
    return name if name[0].isalpha() else "R_" + name


def file_id(repo: str, path: str) -> str:
    return f"{repo}:{path}"


def load_rows(conn: psycopg.Connection, repo: str) -> MirrorRows:
    """The repo's rows from Postgres, shaped for the Cypher statements (no embeddings)."""
    rows = MirrorRows()
    for r in conn.execute("SELECT repo, path, language, content_hash FROM files WHERE repo = %s", (repo,)):
        rows.files.append({"id": file_id(repo, r["path"]), **r})
    for r in conn.execute(
        "SELECT id, repo, path, kind, name, qualified_name, signature, start_line, end_line, exported,"
        " entry_weight, runtime_count, rank FROM ast_nodes WHERE repo = %s ORDER BY id",
        (repo,),
    ):
        rows.symbols.append({"id": r["id"], "file_id": file_id(repo, r["path"]), "props": _props(r)})
    symbol_ids = {(s["props"]["path"], s["props"]["qualified_name"]): s["id"] for s in rows.symbols}
    for r in conn.execute(
        "SELECT id, repo, path, chunk_type, symbol, kind, header_chain, object_name, start_line, end_line,"
        " content_hash, rank FROM code_chunks WHERE repo = %s ORDER BY id",
        (repo,),
    ):
        rows.chunks.append(
            {
                "id": r["id"],
                "file_id": file_id(repo, r["path"]),
                "symbol_id": symbol_ids.get((r["path"], r["symbol"])),
                "props": _props(r),
            }
        )
    for r in conn.execute(
        "SELECT id, repo, src_id, dst_id, kind, confidence, weight, runtime_count, src_path, detail"
        " FROM code_relationships WHERE repo = %s ORDER BY id",
        (repo,),
    ):
        rows.relationships.append(
            {
                "id": r["id"],
                "src_id": r["src_id"],
                "dst_id": r["dst_id"],
                "kind": r["kind"],
                "props": _props(r, skip=("src_id", "dst_id")),
            }
        )
    return rows


def _props(row: dict, skip: Sequence[str] = ()) -> dict:
    return {
        k: (float(v) if isinstance(v, float) else v)
        for k, v in row.items()
        if v is not None and k not in skip
    }


def batched(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def plan(rows: MirrorRows, repo: str, batch_size: int = BATCH_SIZE) -> list[Statement]:
    """Every statement, in order: constraints, merges (files before what points at them), deletes."""
    statements = [Statement(c, {}) for c in CONSTRAINTS]
    for cypher, items in (
        (MERGE_FILES, rows.files),
        (MERGE_SYMBOLS, rows.symbols),
        (MERGE_CHUNKS, rows.chunks),
    ):
        statements += [Statement(cypher, {"rows": batch}) for batch in batched(items, batch_size)]
    by_type: dict[str, list[dict]] = {}
    for rel in rows.relationships:
        by_type.setdefault(relationship_type(rel["kind"]), []).append(rel)
    for rel_type, items in sorted(by_type.items()):
        cypher = MERGE_RELATIONSHIPS.format(rel_type=rel_type)
        statements += [Statement(cypher, {"rows": batch}) for batch in batched(items, batch_size)]
    statements.append(
        Statement(DELETE_RELATIONSHIPS, {"repo": repo, "ids": [r["id"] for r in rows.relationships]})
    )
    for label, items in (("Chunk", rows.chunks), ("Symbol", rows.symbols), ("File", rows.files)):
        statements.append(
            Statement(DELETE_NODES.format(label=label), {"repo": repo, "ids": [i["id"] for i in items]})
        )
    return statements


def apply(driver: Any, statements: Sequence[Statement], database: str | None = None) -> int:
    """Run the statements, one write transaction each; returns relationships that found no endpoint."""
    unmatched = 0
    with driver.session(database=database) as session:
        for st in statements:
            if st.cypher.startswith("CREATE CONSTRAINT"):
                session.run(st.cypher).consume()
                continue
            records = session.execute_write(lambda tx, s=st: list(tx.run(s.cypher, s.params)))
            if "merged" in (records[0].keys() if records else ()):
                unmatched += len(st.rows) - int(records[0]["merged"])
    return unmatched


def mirror(
    conn: psycopg.Connection,
    repo: str,
    *,
    uri: str | None,
    user: str = "neo4j",
    password: str | None = None,
    database: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> MirrorResult:
    """Mirror one repo; with no ``uri`` nothing happens and the result says why."""
    if not uri:
        log.info("neo4j mirror skipped: NEO4J_URI is not set")
        return MirrorResult(skipped=True, reason="NEO4J_URI is not set")
    from neo4j import GraphDatabase

    started = time.perf_counter()
    rows = load_rows(conn, repo)
    statements = plan(rows, repo, batch_size)
    auth = (user, password) if password else None
    with GraphDatabase.driver(uri, auth=auth) as driver:
        driver.verify_connectivity()
        unmatched = apply(driver, statements, database)
    return MirrorResult(
        skipped=False,
        counts=rows.counts(),
        statements=len(statements),
        relationships_unmatched=unmatched,
        seconds=round(time.perf_counter() - started, 3),
    )
