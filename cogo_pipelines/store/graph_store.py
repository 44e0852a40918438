"""The static graph in the store: ``ast_nodes`` / ``code_relationships`` of one repo.

Reads and writes only; the graph stage that drives them is ``pipeline/graph_index.py``.
Per-file extractions are cached by content hash (``graph_extractions``, compressed compact
JSON) under the version of the extractor code; ``graph_state`` keeps the fingerprint of the last
graph written, so an unchanged repo is not rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import psycopg

from cogo_pipelines.indexing.graph import UNRESOLVED, ModuleEdge
from cogo_pipelines.indexing.ids import file_id, file_prefix
from cogo_pipelines.indexing.model import FileExtraction, SourceFile
from cogo_pipelines.indexing.static_graph import unpack

STATIC_KINDS = ("contains", "imports", "calls", "renders", "references", "extends", "implements")
MODULE_KINDS = ("import", "type", "reexport", "dynamic", "require", "reference", "maybe")


def _code_version(*modules: str) -> str:
    digest = hashlib.sha256()
    for module in modules:
        digest.update((resources.files("cogo_pipelines.indexing") / f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]


# the modules whose code makes an extraction / a linked graph (a test holds every module they
# import in these lists): any change to them rebuilds what is stored
EXTRACTOR_MODULES = ("typescript", "ts_gaps", "ts_mends", "ts_long_strings", "ts_declarations", "ts_module_interface",
                     "ts_scopes", "ts_usage", "ts_nodes", "model", "static_graph", "ts_types", "ts_signatures", "ts_arrays",
                     "specifiers", "ts_narrowing", "ts_generics", "ts_callables", "ts_returns", "sfc", "ts_type_mends",
                     "linking_types", "linking_members")  # their THIS, BOUND, ASSERTED, ELEMENT_CALLBACKS, CALL_RETURN
                                                          # are read by the extractor too
GRAPH_MODULES = ("graph", "import_distance", "linking", "linking_types", "linking_members", "ids", "resolve",
                 "specifiers", "resolve_files", "resolve_packages", "resolve_aliases", "tsconfig", "config_files",
                 "tsconfig_extends", "tsconfig_files", "deno", "packages", "sveltekit", "reading")
EXTRACTOR_VERSION = _code_version(*EXTRACTOR_MODULES)
GRAPH_VERSION = _code_version(*GRAPH_MODULES)


def cached_extractions(conn: psycopg.Connection, files: list[SourceFile]) -> dict[str, FileExtraction]:
    """The stored extractions of ``files`` (by content hash), for those the store has."""
    if not files:
        return {}
    rows = conn.execute(
        "SELECT content_hash, grammar, payload FROM graph_extractions WHERE extractor_version = %s"
        " AND content_hash = ANY(%s)",
        (EXTRACTOR_VERSION, sorted({f.content_hash for f in files})),
    ).fetchall()
    by_key = {(r["content_hash"], r["grammar"]): r["payload"] for r in rows}
    out = {}
    for f in files:
        payload = by_key.get((f.content_hash, f.language))
        if payload is not None:
            extraction = unpack(f.path, payload)
            out[f.path] = extraction
    return out



def cached_extraction(conn: psycopg.Connection, f: SourceFile) -> FileExtraction | None:
    """The stored extraction of one file, or None (``graph_patch`` loads them as lookups reach
    them: a few dozen of a big repo's files, where ``cached_extractions`` would unpack all)."""
    row = conn.execute(
        "SELECT payload FROM graph_extractions WHERE content_hash = %s AND grammar = %s AND extractor_version = %s",
        (f.content_hash, f.language, EXTRACTOR_VERSION),
    ).fetchone()
    return unpack(f.path, row["payload"]) if row else None


def file_weights(conn: psycopg.Connection, repo: str, paths: list[str]) -> dict[str, float]:
    """The stored entry weight of each of ``paths`` (of its file node)."""
    ids = {file_id(repo, path): path for path in paths}
    rows = conn.execute("SELECT id, entry_weight FROM ast_nodes WHERE id = ANY(%s)", (list(ids),)).fetchall()
    return {ids[r["id"]]: r["entry_weight"] for r in rows}


def import_pairs(conn: psycopg.Connection, repo: str) -> list[tuple[str, str]]:
    """(importing path, imported node id) of every ``imports`` edge: the module graph without
    ``module_edges``' join and order (a tenth of its time on a big repo)."""
    rows = conn.execute("SELECT src_path, dst_id FROM code_relationships WHERE repo = %s AND kind = 'imports'",
                        (repo,)).fetchall()
    return [(r["src_path"], r["dst_id"]) for r in rows]


def import_rows(conn: psycopg.Connection, repo: str, paths: list[str]) -> set[tuple[str, str, str, str]]:
    """(source id, target id, detail, confidence) of the ``imports`` edges out of ``paths``."""
    rows = conn.execute("SELECT src_id, dst_id, detail, confidence FROM code_relationships WHERE repo = %s "
                        "AND src_path = ANY(%s) AND kind = 'imports'", (repo, paths)).fetchall()
    return {(r["src_id"], r["dst_id"], r["detail"], r["confidence"]) for r in rows}


def file_ranges(repo: str, paths: list[str]) -> tuple[str, list[str]]:
    """A condition on ``id`` that holds for the rows of ``paths`` (and the parameters it
    takes): a file's nodes, and the edges out of them, are one range of the primary key (their
    ids lead with the file's prefix, ``ids.file_prefix``), so the rows of a few files are read
    from a few index pages, not found in the repo's (``code_relationships`` has no index on
    ``src_path``: the writes of a cold graph would pay for it)."""
    prefixes = sorted({file_prefix(repo, path) for path in paths})
    condition = " OR ".join(["(id >= %s AND id < %s)"] * len(prefixes)) or "false"
    return f"({condition})", [bound for prefix in prefixes for bound in (prefix, prefix + "g")]


def path_counts(conn: psycopg.Connection, repo: str, paths: list[str]) -> tuple[int, int]:
    """(symbol nodes, static edges out of them) the store holds for ``paths``."""
    within, bounds = file_ranges(repo, paths)
    symbols = conn.execute(f"SELECT count(*) AS n FROM ast_nodes WHERE {within} AND repo = %s AND path = ANY(%s) "
                           "AND kind <> 'file'", (*bounds, repo, paths)).fetchone()["n"]
    edges = conn.execute(f"SELECT count(*) AS n FROM code_relationships WHERE {within} AND repo = %s "
                         "AND src_path = ANY(%s) AND kind = ANY(%s)", (*bounds, repo, paths, list(STATIC_KINDS))
                         ).fetchone()["n"]
    return symbols, edges


def cache_extractions(conn: psycopg.Connection, files: dict[str, SourceFile], payloads: dict[str, bytes]) -> None:
    rows = {}
    for path, payload in payloads.items():
        f = files[path]
        rows[(f.content_hash, f.language)] = payload
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO graph_extractions (content_hash, grammar, extractor_version, payload)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(h, g, EXTRACTOR_VERSION, data) for (h, g), data in rows.items()],
        )



def graph_state(conn: psycopg.Connection, repo: str) -> dict | None:
    """The fingerprint and stats of the graph last written for ``repo``."""
    return conn.execute("SELECT fingerprint, stats FROM graph_state WHERE repo = %s", (repo,)).fetchone()


def save_graph_state(conn: psycopg.Connection, repo: str, fingerprint: str, stats: dict) -> None:
    conn.execute(
        "INSERT INTO graph_state (repo, fingerprint, stats) VALUES (%s, %s, %s::jsonb) ON CONFLICT (repo) DO UPDATE "
        "SET fingerprint = EXCLUDED.fingerprint, stats = EXCLUDED.stats, updated_at = now()",
        (repo, fingerprint, json.dumps(stats)),
    )


def relax_commit(conn: psycopg.Connection) -> None:
    """The graph is derived data: a crash right after the commit may lose this write (never
    corrupt it), and the next run, finding no matching graph_state, writes it again; in
    exchange the commit does not wait for its WAL to reach the disk."""
    conn.execute("SET LOCAL synchronous_commit = off")


def stored_errors(conn: psycopg.Connection, repo: str) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT path, error FROM files WHERE repo = %s AND error IS NOT NULL ORDER BY path", (repo,))
    return [(r["path"], r["error"]) for r in rows]


def module_edges(conn: psycopg.Connection, repo: str) -> list[ModuleEdge]:
    """The stored module graph: one edge per (from, to, kind), placeholders as ``<unresolved>``."""
    rows = conn.execute(
        "SELECT r.src_path, d.path AS dst_path, r.dst_id, r.detail FROM code_relationships r "
        "LEFT JOIN ast_nodes d ON d.id = r.dst_id WHERE r.repo = %s AND r.kind = 'imports' AND r.detail = ANY(%s) "
        "ORDER BY r.src_path, d.path, r.detail",
        (repo, list(MODULE_KINDS)),
    ).fetchall()
    return [
        ModuleEdge(r["src_path"], r["dst_path"] or UNRESOLVED, r["detail"], 0,
                   r["dst_id"].removeprefix("unresolved:") if r["dst_path"] is None else None)
        for r in rows
    ]


def unresolved_imports(conn: psycopg.Connection, repo: str) -> list[tuple[str, str, str]]:
    """(path, specifier, reason) of imports that named a file that is not there."""
    rows = conn.execute(
        "SELECT src_path, dst_id, detail FROM code_relationships WHERE repo = %s AND kind = 'imports' "
        "AND NOT (detail = ANY(%s)) ORDER BY src_path, dst_id",
        (repo, list(MODULE_KINDS)),
    ).fetchall()
    return [(r["src_path"], r["dst_id"].removeprefix("unresolved:"), r["detail"]) for r in rows]


def graphed_repos(conn: psycopg.Connection) -> set[str]:
    """The repos with a static graph in the store (``ast_nodes`` rows)."""
    return {r["repo"] for r in conn.execute("SELECT DISTINCT repo FROM ast_nodes")}
