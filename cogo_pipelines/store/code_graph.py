"""Reads of the stored graph for navigation: symbols by name, edges into and out of a node,
everything that reaches a node (the reverse walk), a file's imports and importers, the repos
and the latest gate run.

Every read follows the indexes the graph is written with (migration 012/013): edges *into* a
node use the hash index on ``dst_id``; edges *out of* a node use the primary key, because a
static edge's id leads with its source file's id prefix (``indexing.ids``), and runtime edges
(ids ``rt:…``) are one more key range; a file's imports use the partial index over import rows.
So a lookup costs a few index probes whatever the size of the repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from cogo_pipelines.indexing.ids import FILE_PREFIX
from cogo_pipelines.store.queries import latest_gate

NODE_COLUMNS = ("id, repo, path, kind, name, qualified_name, signature, start_line, end_line, exported,"
                " entry_weight, runtime_count, rank")
# a letter after every hex digit: [prefix, prefix || 'g') is every id that starts with the hex
# prefix, in C and linguistic collations alike (a punctuation mark could be ignorable in the latter)
_RANGE_END = "g"


def repos(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every repo with a graph or chunks: sizes and when it was last indexed."""
    rows = conn.execute(
        "WITH r AS (SELECT DISTINCT repo FROM files UNION SELECT repo FROM chunk_terms WHERE term = '')"
        " SELECT r.repo,"
        " (SELECT count(*) FROM files f WHERE f.repo = r.repo)::int AS files,"
        " (SELECT count(*) FROM ast_nodes n WHERE n.repo = r.repo AND n.kind <> 'file')::int AS symbols,"
        " (SELECT count(*) FROM code_chunks c WHERE c.repo = r.repo)::int AS chunks,"
        " (SELECT max(indexed_at) FROM files f WHERE f.repo = r.repo) AS indexed_at,"
        " (SELECT root FROM repo_roots rr WHERE rr.repo = r.repo) AS root"
        " FROM r ORDER BY r.repo"
    ).fetchall()
    return [dict(r) for r in rows]


def repo_names(conn: psycopg.Connection) -> list[str]:
    """The names of the indexed repos, from the small per-repo tables (no count over big ones)."""
    rows = conn.execute(
        "SELECT repo FROM repo_roots UNION SELECT repo FROM graph_state"
        " UNION SELECT repo FROM chunk_terms WHERE term = '' ORDER BY repo"
    ).fetchall()
    return [r["repo"] for r in rows]


def has_vectors(conn: psycopg.Connection) -> bool:
    """Whether any chunk is embedded (else search never encodes a query: no model to load)."""
    return conn.execute("SELECT EXISTS (SELECT 1 FROM code_chunks WHERE embedding IS NOT NULL) AS e").fetchone()["e"]


def nodes(conn: psycopg.Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    rows = conn.execute(f"SELECT {NODE_COLUMNS} FROM ast_nodes WHERE id = ANY(%s)", (ids,)).fetchall()
    return {r["id"]: dict(r) for r in rows}


def find_symbols(conn: psycopg.Connection, name: str, repo: str | None, *, path: str | None = None,
                 limit: int = 20) -> list[dict[str, Any]]:
    """Symbols whose qualified name or short name is ``name`` (case-sensitive first), best first:
    an exact qualified name, then exported, higher-ranked symbols. ``path`` is the file's path or
    its end after a ``/`` (``lease.ts:renewLease``, as an agent writes it, for ``src/core/lease.ts``)."""
    rows = conn.execute(
        f"SELECT {NODE_COLUMNS} FROM ast_nodes WHERE (qualified_name = %(n)s OR name = %(n)s"
        "  OR lower(qualified_name) = lower(%(n)s))"
        " AND (%(repo)s::text IS NULL OR repo = %(repo)s)"
        " AND (%(path)s::text IS NULL OR path = %(path)s OR right(path, length(%(path)s) + 1) = '/' || %(path)s)"
        " ORDER BY (qualified_name = %(n)s) DESC, (name = %(n)s) DESC, (kind = 'file'), (path = %(path)s) DESC,"
        " exported DESC, rank DESC, path, start_line LIMIT %(limit)s",
        {"n": name, "repo": repo, "path": path, "limit": limit},
    ).fetchall()
    return [dict(r) for r in rows]


def file_node(conn: psycopg.Connection, path: str, repo: str | None) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {NODE_COLUMNS} FROM ast_nodes WHERE kind = 'file' AND path = %s"
        " AND (%s::text IS NULL OR repo = %s) ORDER BY repo",
        (path, repo, repo),
    ).fetchall()
    return [dict(r) for r in rows]


def files_under(conn: psycopg.Connection, folder: str, repo: str | None, limit: int = 500) -> list[dict[str, Any]]:
    """The file nodes below a folder (``src/core`` → ``src/core/…``)."""
    prefix = folder.rstrip("/") + "/"
    rows = conn.execute(
        f"SELECT {NODE_COLUMNS} FROM ast_nodes WHERE kind = 'file' AND (%s::text IS NULL OR repo = %s)"
        " AND left(path, length(%s)) = %s ORDER BY repo, path LIMIT %s",
        (repo, repo, prefix, prefix, limit),
    ).fetchall()
    return [dict(r) for r in rows]


def named_chunks(conn: psycopg.Connection, name: str, repo: str | None, path: str | None = None,
                 limit: int = 5) -> list[dict[str, Any]]:
    """Chunks that carry a name but are no graph node: SQL objects, markdown sections."""
    rows = conn.execute(
        "SELECT repo, path, chunk_type, kind, symbol, start_line, end_line, content FROM code_chunks"
        " WHERE (symbol = %(n)s OR object_name = %(n)s) AND chunk_type <> 'code'"
        " AND (%(repo)s::text IS NULL OR repo = %(repo)s) AND (%(path)s::text IS NULL OR path = %(path)s)"
        " ORDER BY repo, path, start_line LIMIT %(limit)s",
        {"n": name, "repo": repo, "path": path, "limit": limit},
    ).fetchall()
    return [dict(r) for r in rows]


def file_symbols(conn: psycopg.Connection, repo: str, path: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {NODE_COLUMNS} FROM ast_nodes WHERE repo = %s AND path = %s ORDER BY start_line NULLS FIRST, name",
        (repo, path),
    ).fetchall()
    return [dict(r) for r in rows]


def similar_names(conn: psycopg.Connection, name: str, repo: str | None, limit: int = 5) -> list[str]:
    """Names that look like ``name`` (trigram similarity, then substring): the "did you mean"."""
    rows = conn.execute(
        "SELECT DISTINCT ON (qualified_name) qualified_name, greatest(similarity(name, %(n)s),"
        "  similarity(qualified_name, %(n)s)) AS s FROM ast_nodes"
        " WHERE kind <> 'file' AND (%(repo)s::text IS NULL OR repo = %(repo)s)"
        "  AND (name %% %(n)s OR qualified_name %% %(n)s OR name ILIKE '%%' || %(like)s || '%%')"
        " ORDER BY qualified_name, s DESC",
        {"n": name, "repo": repo, "like": name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")},
    ).fetchall()
    return [r["qualified_name"] for r in sorted(rows, key=lambda r: -r["s"])[:limit]]


def edges_into(conn: psycopg.Connection, ids: Sequence[str], kinds: Sequence[str]) -> list[dict[str, Any]]:
    """Edges whose destination is one of ``ids`` (callers, importers, referrers)."""
    if not ids:
        return []
    rows = conn.execute(
        "SELECT src_id, dst_id, kind, confidence, detail, runtime_count FROM code_relationships"
        " WHERE dst_id = ANY(%s) AND kind = ANY(%s)",
        (list(ids), list(kinds)),
    ).fetchall()
    return [dict(r) for r in rows]


def edges_out_of(conn: psycopg.Connection, node_id: str, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """Edges whose source is ``node_id``: its file's key range of static edges, plus runtime edges."""
    prefix = node_id[:FILE_PREFIX]
    rows = conn.execute(
        "SELECT src_id, dst_id, kind, confidence, detail, runtime_count FROM code_relationships"
        " WHERE ((id >= %(p)s AND id < %(p)s || %(end)s) OR (id >= 'rt:' AND id < 'rt:' || %(end)s))"
        " AND src_id = %(id)s AND kind = ANY(%(kinds)s)",
        {"p": prefix, "end": _RANGE_END, "id": node_id, "kinds": list(kinds)},
    ).fetchall()
    return [dict(r) for r in rows]


def reaching(conn: psycopg.Connection, seeds: Iterable[str], kinds: Sequence[str], *, max_depth: int,
             max_visited: int | None = None) -> dict[str, int]:
    """Every node that reaches one of ``seeds`` along edges of ``kinds`` (the graph walked
    backwards: callers, importers, referrers, transitively), with the fewest steps it takes
    (seeds 0), at most ``max_depth`` steps.

    One query per step over the index on ``dst_id``, each node expanded once, so a cycle costs
    nothing more. ``max_visited`` stops the walk after the step that passes it (an answer kept
    small); without it the walk is complete, as test impact needs: skipping a target is only
    done on the evidence of the whole reach. Test impact (``quality.impact``) and the
    ``impact`` question (``pipeline.graph_tools``) both walk with it."""
    depth_of: dict[str, int] = dict.fromkeys(seeds, 0)
    frontier, depth = list(depth_of), 0
    while frontier and depth < max_depth and (max_visited is None or len(depth_of) < max_visited):
        depth += 1
        reached = []
        for edge in edges_into(conn, frontier, kinds):
            if edge["src_id"] not in depth_of:
                depth_of[edge["src_id"]] = depth
                reached.append(edge["src_id"])
        frontier = reached
    return depth_of


def imports_of(conn: psycopg.Connection, repo: str, path: str) -> list[dict[str, Any]]:
    """The import rows written for file ``path`` (resolved targets joined; placeholders have none)."""
    rows = conn.execute(
        "SELECT r.dst_id, r.detail, r.confidence, d.path AS dst_path FROM code_relationships r"
        " LEFT JOIN ast_nodes d ON d.id = r.dst_id"
        " WHERE r.repo = %s AND r.src_path = %s AND r.kind = 'imports' ORDER BY d.path NULLS LAST, r.dst_id",
        (repo, path),
    ).fetchall()
    return [dict(r) for r in rows]


def latest_gate_run(conn: psycopg.Connection, gate: str = "q1") -> dict[str, Any] | None:
    """The gate's verdict as ``queries.latest_gate`` takes it (repo-wide runs first)."""
    run = latest_gate(conn, gate)
    keys = ("id", "score", "threshold", "passed", "succeeded", "failed", "window_start", "window_end", "created_at")
    return {k: run[k] for k in keys} if run else None


def symbol_chunks(conn: psycopg.Connection, repo: str, path: str, qualified_name: str) -> list[dict[str, Any]]:
    """The chunks that hold a symbol's source (one, or an outline plus parts for a large one)."""
    rows = conn.execute(
        "SELECT start_line, end_line, content FROM code_chunks WHERE repo = %s AND path = %s AND symbol = %s"
        " ORDER BY start_line, part",
        (repo, path, qualified_name),
    ).fetchall()
    return [dict(r) for r in rows]
