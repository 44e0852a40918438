"""Optional Neo4j mirror of the code graph, for graph queries Postgres is awkward at.

Postgres stays the source of truth: the mirror is rebuilt from its rows with the same ids
(files: the graph's file-node id, ``graph.file_id``; symbols, chunks and relationships: their
primary keys), written with
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

from cogo_pipelines.indexing.graph import file_id

log = logging.getLogger(__name__)

BATCH_SIZE = 500
# Every mirrored node is a CodeNode (one uniqueness constraint, one index for relationship
# endpoints) plus the label of what it is. Placeholders stand for the targets Postgres keeps as
# text only (``unresolved:…``, ``external:…``), so that ``maybe`` edges survive the mirror.
NODE_LABEL = "CodeNode"
LABELS = ("File", "Symbol", "Chunk", "Placeholder")

CONSTRAINTS = (
    f"CREATE CONSTRAINT cogo_code_node_id IF NOT EXISTS FOR (n:{NODE_LABEL}) REQUIRE n.id IS UNIQUE",
)

MERGE_NODES = "UNWIND $rows AS r MERGE (n:CodeNode {{id: r.id}}) SET n:{label}, n += r.props"
MERGE_CHUNKS = (
    "UNWIND $rows AS r MERGE (c:CodeNode {id: r.id}) SET c:Chunk, c += r.props "
    "WITH c, r MATCH (f:CodeNode {id: r.file_id}) MERGE (c)-[:IN_FILE]->(f) "
    "WITH c, r WHERE r.symbol_id IS NOT NULL MATCH (s:CodeNode {id: r.symbol_id}) MERGE (c)-[:DESCRIBES]->(s)"
)
# Relationship types cannot be parameters, so each kind gets its own statement; the type name is
# derived from the kind through ``relationship_type`` (letters, digits, underscore only).
MERGE_RELATIONSHIPS = (
    "UNWIND $rows AS r MATCH (s:CodeNode {{id: r.src_id}}) MATCH (d:CodeNode {{id: r.dst_id}}) "
    "MERGE (s)-[x:{rel_type} {{id: r.id}}]->(d) SET x += r.props RETURN count(x) AS merged"
)
DELETE_NODES = "MATCH (n:{label} {{repo: $repo}}) WHERE NOT n.id IN $ids DETACH DELETE n"
DELETE_RELATIONSHIPS = (
    "MATCH (:CodeNode {repo: $repo})-[x]->(:CodeNode) WHERE x.id IS NOT NULL AND x.repo = $repo "
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
    placeholders: list[dict] = field(default_factory=list)

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


def load_rows(conn: psycopg.Connection, repo: str) -> MirrorRows:
    """The repo's rows from Postgres, shaped for the Cypher statements (no embeddings).

    A file is one node: the ``files`` row merged with the graph's ``kind='file'`` row, under
    the graph's file id (``graph.file_id``), which markdown/SQL files without a graph row share.
    """
    rows = MirrorRows()
    graph_rows = conn.execute(
        "SELECT id, repo, path, kind, name, qualified_name, signature, start_line, end_line, exported,"
        " entry_weight, runtime_count, rank FROM ast_nodes WHERE repo = %s ORDER BY id",
        (repo,),
    ).fetchall()
    file_rows = {r["path"]: r for r in graph_rows if r["kind"] == "file"}
    for r in conn.execute(
        "SELECT repo, path, language, content_hash FROM files WHERE repo = %s ORDER BY path", (repo,)
    ):
        graph_row = file_rows.pop(r["path"], None)
        node_id = graph_row["id"] if graph_row else file_id(repo, r["path"])
        rows.files.append({"id": node_id, "props": _props({**(graph_row or {}), **r}, skip=("id",))})
    for r in file_rows.values():  # graph files the walk no longer lists: still real graph nodes
        rows.files.append({"id": r["id"], "props": _props(r, skip=("id",))})
    known = {f["id"] for f in rows.files}
    for r in graph_rows:
        if r["kind"] != "file":
            rows.symbols.append({"id": r["id"], "props": _props(r, skip=("id",))})
            known.add(r["id"])
    symbol_ids = {(r["path"], r["qualified_name"]): r["id"] for r in graph_rows if r["kind"] != "file"}
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
                "props": _props(r, skip=("id",)),
            }
        )
    placeholders: dict[str, dict] = {}
    for r in conn.execute(
        "SELECT id, repo, src_id, dst_id, kind, confidence, weight, runtime_count, src_path, detail"
        " FROM code_relationships WHERE repo = %s ORDER BY id",
        (repo,),
    ):
        for end in (r["src_id"], r["dst_id"]):
            if end not in known and end not in placeholders:
                placeholders[end] = {"id": end, "props": {"repo": repo, "name": end}}
        rows.relationships.append(
            {
                "id": r["id"],
                "src_id": r["src_id"],
                "dst_id": r["dst_id"],
                "kind": r["kind"],
                "props": _props(r, skip=("src_id", "dst_id")),
            }
        )
    rows.placeholders = list(placeholders.values())
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
    """Every statement, in order: constraints, nodes, chunks, relationships, then deletions."""
    statements = [Statement(c, {}) for c in CONSTRAINTS]
    for label, items in (("File", rows.files), ("Symbol", rows.symbols), ("Placeholder", rows.placeholders)):
        cypher = MERGE_NODES.format(label=label)
        statements += [Statement(cypher, {"rows": batch}) for batch in batched(items, batch_size)]
    statements += [Statement(MERGE_CHUNKS, {"rows": batch}) for batch in batched(rows.chunks, batch_size)]
    by_type: dict[str, list[dict]] = {}
    for rel in rows.relationships:
        by_type.setdefault(relationship_type(rel["kind"]), []).append(rel)
    for rel_type, items in sorted(by_type.items()):
        cypher = MERGE_RELATIONSHIPS.format(rel_type=rel_type)
        statements += [Statement(cypher, {"rows": batch}) for batch in batched(items, batch_size)]
    rel_ids = [r["id"] for r in rows.relationships]
    statements.append(Statement(DELETE_RELATIONSHIPS, {"repo": repo, "ids": rel_ids}))
    for label, items in (
        ("Chunk", rows.chunks),
        ("Symbol", rows.symbols),
        ("Placeholder", rows.placeholders),
        ("File", rows.files),
    ):
        ids = [i["id"] for i in items]
        statements.append(Statement(DELETE_NODES.format(label=label), {"repo": repo, "ids": ids}))
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
        return mirror_with(conn, repo, None)
    from neo4j import GraphDatabase

    auth = (user, password) if password else None
    with GraphDatabase.driver(uri, auth=auth) as driver:
        return mirror_with(conn, repo, driver, database=database, batch_size=batch_size)


def mirror_with(conn: psycopg.Connection, repo: str, driver, *, database: str | None = None,
                batch_size: int = BATCH_SIZE) -> MirrorResult:
    """Mirror one repo through an open ``neo4j.Driver`` (the caller owns it); None = skipped."""
    if driver is None:
        log.info("neo4j mirror skipped: NEO4J_URI is not set")
        return MirrorResult(skipped=True, reason="NEO4J_URI is not set")
    started = time.perf_counter()
    rows = load_rows(conn, repo)
    statements = plan(rows, repo, batch_size)
    driver.verify_connectivity()
    unmatched = apply(driver, statements, database)
    return MirrorResult(
        skipped=False,
        counts=rows.counts(),
        statements=len(statements),
        relationships_unmatched=unmatched,
        seconds=round(time.perf_counter() - started, 3),
    )
