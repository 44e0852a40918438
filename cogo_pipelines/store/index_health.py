"""Questions asked of one repo's index by the data-quality checks (Dagster asset checks), each
a single read: are the entries indexed, are relationships anchored, is every chunk embedded."""

from __future__ import annotations

import psycopg

# Targets the static graph keeps as text on purpose (graph.py: unresolved names, npm packages).
PLACEHOLDER_PREFIXES = ("unresolved:", "external:")


def entry_weights(conn: psycopg.Connection, repo: str, entries: list[str]) -> dict[str, float | None]:
    """Entry path -> its highest node entry_weight, for the entries that are indexed files."""
    rows = conn.execute(
        "SELECT f.path, max(n.entry_weight) AS weight FROM files f"
        " LEFT JOIN ast_nodes n ON n.repo = f.repo AND n.path = f.path"
        " WHERE f.repo = %s AND f.path = ANY(%s) GROUP BY f.path",
        (repo, entries),
    ).fetchall()
    return {r["path"]: r["weight"] for r in rows}


def orphan_relationships(conn: psycopg.Connection, repo: str) -> tuple[dict[str, int], int]:
    """Relationships whose endpoint is missing from ast_nodes, by kind (deliberate placeholder
    targets aside), and how many placeholder targets are kept."""
    placeholders = [f"{p}%" for p in PLACEHOLDER_PREFIXES]
    rows = conn.execute(
        "SELECT r.kind, count(*) AS n FROM code_relationships r WHERE r.repo = %s AND"
        " (NOT EXISTS (SELECT 1 FROM ast_nodes a WHERE a.id = r.src_id)"
        "  OR (NOT EXISTS (SELECT 1 FROM ast_nodes a WHERE a.id = r.dst_id) AND NOT r.dst_id LIKE ANY(%s)))"
        " GROUP BY r.kind",
        (repo, placeholders),
    ).fetchall()
    kept = conn.execute(
        "SELECT count(*) AS n FROM code_relationships WHERE repo = %s AND dst_id LIKE ANY(%s)",
        (repo, placeholders),
    ).fetchone()["n"]
    return {r["kind"]: r["n"] for r in rows}, kept


def embedding_coverage(conn: psycopg.Connection, repo: str) -> tuple[int, int]:
    """(chunks, chunks without an embedding)."""
    row = conn.execute(
        "SELECT count(*) AS chunks, count(*) FILTER (WHERE embedding IS NULL) AS missing"
        " FROM code_chunks WHERE repo = %s",
        (repo,),
    ).fetchone()
    return row["chunks"], row["missing"]


def ranked_chunks(conn: psycopg.Connection, repo: str) -> int:
    """Chunks with a positive graph rank."""
    return int(conn.execute("SELECT count(*) AS n FROM code_chunks WHERE repo = %s AND rank > 0", (repo,)).fetchone()["n"])
