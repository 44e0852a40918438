"""Writing the searchable index: chunk rows per file, the keyword statistics (IDF table, BM25
postings), the graph rank on chunks, and the vectors (the embedding cache and its fill).

The read side, and the keyword model these rows serve (fields, weights, BM25 parameters), is
``store/knowledge.py``. Every write of a repo's chunks holds the repo's write lock
(``lock_repo``) to the end of its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import psycopg

from cogo_pipelines.indexing.chunk import CHUNK_FORMAT, Chunk
from cogo_pipelines.indexing.embedding import text_hash
from cogo_pipelines.store import statistics
from cogo_pipelines.store.knowledge import BM25_B, BM25_K1, FIELD_WEIGHTS, keyword_fields

# Namespace of the per-repo index write lock, in the two-int advisory lock space (the migration
# lock of db.py lives in the one-bigint space, so the two cannot meet).
REPO_LOCK_CLASS = 0x636B6E77


# ---- chunk rows ----------------------------------------------------------------------------

# The graph rank of a chunk: its symbol's own rank (the best of same-named symbols of its file),
# else the best rank in its file, else 0. Joined onto chunk rows ``{c}`` by ``refresh_rank`` (the
# whole repo) and by the chunk INSERT (``{only}``: the one file being written).
_RANK_JOINS = (
    " LEFT JOIN (SELECT path, qualified_name, max(rank) AS rank FROM ast_nodes WHERE repo = %(repo)s{only}"
    "  GROUP BY path, qualified_name) s ON s.path = {c}.path AND s.qualified_name = {c}.symbol"
    " LEFT JOIN (SELECT path, max(rank) AS rank FROM ast_nodes WHERE repo = %(repo)s{only} GROUP BY path) f"
    "  ON f.path = {c}.path"
)
_RANK = "coalesce(s.rank, f.rank, 0)"

# One statement per file: the rows as arrays, and each distinct file outline (field D, the same
# for most of a file's chunks) run through to_tsvector once instead of once per chunk (it was a
# fifth of the text the server parsed on effect).
_INSERT = (
    "WITH o AS MATERIALIZED (SELECT n::int AS n, setweight(to_tsvector('english', t), 'D') AS d"
    "  FROM unnest(%(outlines)s::text[]) WITH ORDINALITY AS x(t, n))"
    " INSERT INTO code_chunks (id, repo, path, chunk_type, symbol, kind, signature, header_chain, object_name,"
    " start_line, end_line, content, content_hash, file_hash, part, rank, search_tsv, row_hash)"
    " SELECT u.id, %(repo)s, u.path, u.chunk_type, u.symbol, u.kind, u.signature, u.header_chain, u.object_name,"
    f"  u.start_line, u.end_line, u.content, u.content_hash, %(file_hash)s, u.part, {_RANK},"
    "  setweight(to_tsvector('english', u.a), 'A') || setweight(to_tsvector('english', u.b), 'B')"
    "  || setweight(to_tsvector('english', u.c), 'C') || o.d, u.row_hash"
    " FROM unnest(%(id)s::text[], %(path)s::text[], %(chunk_type)s::text[], %(symbol)s::text[], %(kind)s::text[],"
    "  %(signature)s::text[], %(header_chain)s::text[], %(object_name)s::text[], %(start_line)s::int[],"
    "  %(end_line)s::int[], %(content)s::text[], %(content_hash)s::text[], %(part)s::int[],"
    "  %(a)s::text[], %(b)s::text[], %(c)s::text[], %(outline)s::int[], %(row_hash)s::text[])"
    "  AS u(id, path, chunk_type, symbol, kind, signature, header_chain, object_name, start_line, end_line,"
    "  content, content_hash, part, a, b, c, outline, row_hash)"
    " JOIN o ON o.n = u.outline" + _RANK_JOINS.format(c="u", only=" AND path = %(file)s")
)
_COLUMNS = ("id", "path", "chunk_type", "symbol", "kind", "signature", "header_chain", "object_name", "start_line",
            "end_line", "content", "content_hash", "part", "a", "b", "c", "outline", "row_hash")  # fmt: skip


def chunk_id(repo: str, chunk: Chunk, ordinal: int) -> str:
    return text_hash(
        f"{repo}\0{chunk.path}\0{ordinal}\0{chunk.chunk_type}\0{chunk.symbol}\0{chunk.start_line}"
    )[:32]


def lock_repo(conn: psycopg.Connection, repo: str) -> None:
    """Wait for ``repo``'s index write lock and hold it to the end of this transaction.

    Two index runs of one repo at once (two ``cogo index``, or one beside Dagster) then take
    turns per write pass instead of inserting the same chunk ids together (UniqueViolation on
    ``code_chunks_pkey``), and the later pass reads what the earlier one committed, so the
    result is that of running them one after the other. Outside a transaction (autocommit) the
    lock would end with the statement: callers write chunks inside one."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (REPO_LOCK_CLASS, repo))


def chunked_hashes(conn: psycopg.Connection, repo: str) -> dict[str, str]:
    """path -> hash of the file its chunks were made from ('' when made by an older chunk format).

    This read opens a chunk pass: it takes the repo's write lock first (``lock_repo``), so the
    pass decides what changed from the last committed pass and writes alone until it commits."""
    lock_repo(conn, repo)
    rows = conn.execute(
        "SELECT path, CASE WHEN chunk_format = %s THEN file_hash ELSE '' END AS file_hash FROM chunked_files"
        " WHERE repo = %s",
        (CHUNK_FORMAT, repo),
    ).fetchall()
    return {r["path"]: r["file_hash"] for r in rows}


def stored_row_hashes(conn: psycopg.Connection, repo: str, paths: Sequence[str]) -> dict[str, dict[str, str]]:
    """path -> {chunk id: row hash} of the chunks ``paths`` have now (what an edit may keep)."""
    if not paths:
        return {}
    out: dict[str, dict[str, str]] = {}
    for r in conn.execute(
        "SELECT path, id, row_hash FROM code_chunks WHERE repo = %s AND path = ANY(%s) AND row_hash IS NOT NULL",
        (repo, list(paths)),
    ):
        out.setdefault(r["path"], {})[r["id"]] = r["row_hash"]
    return out


def _row_hash(row: tuple, outline: str) -> str:
    return text_hash("\0".join(map(str, (CHUNK_FORMAT, *row, outline))))


def replace_file_chunks(
    conn: psycopg.Connection,
    repo: str,
    path: str,
    file_hash: str,
    chunks: Sequence[Chunk],
    error: str | None = None,
    stored: dict[str, str] | None = None,
) -> list[str]:
    """Make ``path``'s chunks exactly ``chunks`` (idempotent: same input, same rows); returns the
    ids of the rows it inserted (their BM25 postings are the caller's: ``write_postings``).

    ``stored`` (``stored_row_hashes``) is what the file has now: a row whose id and hash are
    unchanged (a chunk before the edit, or after one that moved no line) is kept with its vector,
    rank and postings, and its ``file_hash`` stays the version it was written from. Each row
    written is written once, with its graph ``rank`` already (``_RANK_JOINS``): an UPDATE of a
    fresh row is a second copy of it in every index of the table. Nothing is read back, so a
    caller may send file after file in pipeline mode while the server writes the previous ones."""
    stored = stored or {}
    columns: dict[str, list] = {name: [] for name in _COLUMNS}
    outlines: dict[str, int] = {}
    kept: list[str] = []
    for i, c in enumerate(chunks):
        a, b, body, d = keyword_fields(c)
        row = (chunk_id(repo, c, i), c.path, c.chunk_type, c.symbol, c.kind, c.signature, c.header_chain,
               c.object_name, c.start_line, c.end_line, c.content, text_hash(c.embed_text()), c.part)  # fmt: skip
        row_hash = _row_hash(row, d)
        if stored.get(row[0]) == row_hash:
            kept.append(row[0])
            continue
        for name, value in zip(_COLUMNS, (*row, a, b, body, outlines.setdefault(d, len(outlines) + 1), row_hash),
                               strict=True):  # fmt: skip
            columns[name].append(value)
    conn.execute("DELETE FROM code_chunks WHERE repo = %s AND path = %s AND id <> ALL(%s)", (repo, path, kept))
    conn.execute("DELETE FROM chunk_postings WHERE repo = %s AND path = %s AND chunk_id <> ALL(%s)", (repo, path, kept))
    if columns["id"]:
        conn.execute(
            _INSERT, {**columns, "repo": repo, "file": path, "file_hash": file_hash, "outlines": list(outlines)}
        )
    conn.execute(
        "INSERT INTO chunked_files (repo, path, file_hash, chunks, error, chunk_format) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (repo, path) DO UPDATE SET file_hash = EXCLUDED.file_hash, chunks = EXCLUDED.chunks,"
        " error = EXCLUDED.error, chunk_format = EXCLUDED.chunk_format, chunked_at = now()",
        (repo, path, file_hash, len(chunks), error, CHUNK_FORMAT),
    )
    return columns["id"]


def delete_files(conn: psycopg.Connection, repo: str, paths: Iterable[str]) -> int:
    paths = list(paths)
    if not paths:
        return 0
    cur = conn.execute("DELETE FROM code_chunks WHERE repo = %s AND path = ANY(%s)", (repo, paths))
    conn.execute("DELETE FROM chunked_files WHERE repo = %s AND path = ANY(%s)", (repo, paths))
    conn.execute("DELETE FROM chunk_postings WHERE repo = %s AND path = ANY(%s)", (repo, paths))
    return cur.rowcount


def refresh_terms(conn: psycopg.Connection, repo: str) -> None:
    """Recount keyword document frequencies (IDF) after the repo's chunks changed (under the
    repo's write lock: two recounts at once would insert the same terms)."""
    lock_repo(conn, repo)
    conn.execute("DELETE FROM chunk_terms WHERE repo = %s", (repo,))
    conn.execute(
        "INSERT INTO chunk_terms (repo, term, ndoc) SELECT %s, word, ndoc FROM"
        " ts_stat(format('SELECT search_tsv FROM code_chunks WHERE repo = %%L', %s::text))"
        " UNION ALL SELECT %s, '', count(*) FROM code_chunks WHERE repo = %s",  # '' = the number of chunks
        (repo, repo, repo, repo),
    )


def has_terms(conn: psycopg.Connection, repo: str) -> bool:
    """Whether the repo's IDF table was made (its chunk count row is there)."""
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM chunk_terms WHERE repo = %s AND term = '') AS e", (repo,)
    ).fetchone()["e"]


def adjust_terms(conn: psycopg.Connection, repo: str, paths: Sequence[str], sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) the document frequencies of the chunks ``paths`` have
    now, so that an edit costs in proportion to what changed: take away before the files'
    chunks are replaced or deleted, add after (``refresh_terms`` recounted the whole repo every
    run: 0.25 s on effect for one edited file). Terms no chunk has any more are dropped."""
    if not paths:
        return
    lock_repo(conn, repo)
    conn.execute(
        "INSERT INTO chunk_terms (repo, term, ndoc) SELECT %(repo)s, word, %(sign)s * ndoc FROM"
        " ts_stat(format('SELECT search_tsv FROM code_chunks WHERE repo = %%L AND path = ANY(%%L::text[])',"
        "  %(repo)s::text, %(paths)s::text[]))"
        " UNION ALL SELECT %(repo)s, '', %(sign)s * count(*) FROM code_chunks WHERE repo = %(repo)s"
        "  AND path = ANY(%(paths)s)"
        " ON CONFLICT (repo, term) DO UPDATE SET ndoc = chunk_terms.ndoc + EXCLUDED.ndoc",
        {"repo": repo, "paths": list(paths), "sign": sign},
    )
    if sign < 0:
        conn.execute("DELETE FROM chunk_terms WHERE repo = %s AND term <> '' AND ndoc <= 0", (repo,))


def write_postings(
    conn: psycopg.Connection, repo: str, paths: Sequence[str], chunk_ids: Sequence[str] | None = None
) -> None:
    """BM25 postings of the chunks of ``paths`` (their old postings are gone with their chunks),
    or of only ``chunk_ids`` among them: the rows ``replace_file_chunks`` inserted (a kept row
    keeps its postings, scored with the average length of its own write, as every other file's).

    Call it after ``refresh_terms``: the average document length comes from the IDF table
    (Σ ndoc over the lexemes = Σ distinct lexemes per chunk = Σ length(search_tsv), the same
    number), not from reading every tsvector of the repo again (0.15-0.3 s on effect when one
    file changed)."""
    if not paths or (chunk_ids is not None and not chunk_ids):
        return
    # float8 throughout: the weights as bare literals made the sums numeric, a third of the
    # statement's time on a cold repo (effect's 973k postings: 2.8 -> 1.8 s before the insert)
    case = " ".join(f"WHEN '{k}' THEN {v}::float8" for k, v in FIELD_WEIGHTS.items())
    conn.execute(
        "WITH stats AS (SELECT greatest(sum(ndoc) FILTER (WHERE term <> '')::numeric"
        "  / nullif(sum(ndoc) FILTER (WHERE term = ''), 0), 1)::float8 AS avgdl FROM chunk_terms WHERE repo = %(repo)s)"
        " INSERT INTO chunk_postings (repo, term, chunk_id, path, impact)"
        " SELECT c.repo, u.lexeme, c.id, c.path,"
        "  t.tf * (%(k1)s + 1) / (t.tf + %(k1)s * (1 - %(b)s + %(b)s * length(c.search_tsv) / stats.avgdl))"
        " FROM code_chunks c CROSS JOIN stats CROSS JOIN LATERAL unnest(c.search_tsv) u"
        f" CROSS JOIN LATERAL (SELECT sum(CASE w {case} ELSE 0::float8 END) AS tf FROM unnest(u.weights) w) t"
        " WHERE c.repo = %(repo)s AND c.path = ANY(%(paths)s)"
        + (" AND c.id = ANY(%(ids)s)" if chunk_ids is not None else "")
        # in the order of the (repo, term, impact) index: its pages fill in turn instead of at
        # random (a cold write of effect's 973k postings: 11.0 -> 8.5 s)
        + " ORDER BY 2, 5 DESC",
        {"repo": repo, "paths": list(paths), "ids": list(chunk_ids or ()), "k1": BM25_K1, "b": BM25_B},
    )


def refresh_statistics(conn: psycopg.Connection, repo: str, chunks_written: int) -> list[str]:
    """After a chunk stage that wrote ``chunks_written`` rows: the planner's statistics of the
    chunk tables taken again when that was a bulk write (``store/statistics``: the embedding fill
    and later stages join the repo's chunks)."""
    return statistics.refresh_after_bulk_write(
        conn, repo, dict.fromkeys(("code_chunks", "chunk_postings", "chunk_terms"), chunks_written))


def refresh_rank(conn: psycopg.Connection, repo: str) -> None:
    """Copy the graph ``rank`` onto chunks: the symbol's own, else the best of its file.

    The repo's chunks and symbols are read once, side by side, and each chunk takes the best
    rank of its (file, symbol) and of its file by window functions over them: one sort,
    whatever the planner thinks of the repo's size. (Joined to the two aggregates instead, a
    repo the planner's statistics do not know, which is every repo below autovacuum's threshold
    in a store of larger ones, was planned as one row and the aggregates re-run per chunk:
    0.25 s per edit of a 650-chunk repo in a store of 150k chunks, quadratic in the repo. A
    per-chunk lookup took 0.30 s on effect's 17k chunks even with nothing to change.) Only
    chunks whose rank differs are written."""
    conn.execute(
        "UPDATE code_chunks c SET rank = x.rank FROM ("
        " SELECT id, coalesce(max(rank) OVER (PARTITION BY path, name), max(rank) OVER (PARTITION BY path), 0) AS rank"
        " FROM (SELECT id, path, symbol AS name, NULL::real AS rank FROM code_chunks WHERE repo = %(repo)s"
        "  UNION ALL SELECT NULL, path, qualified_name, rank FROM ast_nodes WHERE repo = %(repo)s) u) x"
        " WHERE x.id IS NOT NULL AND c.id = x.id AND c.rank IS DISTINCT FROM x.rank",
        {"repo": repo},
    )


# ---- embeddings ------------------------------------------------------------------------


# A fill this large (rows, and this share of the table's vectors after it) rebuilds the HNSW index
# instead of inserting each vector into it: on effect's 17k chunks one UPDATE that inserts them
# takes 7.5 s, the UPDATE without the index 0.6 s and a build from scratch 2.0 s.
BULK_FILL_MIN_ROWS = 2000
BULK_FILL_MIN_SHARE = 0.3
HNSW_INDEX = "code_chunks_embedding_hnsw"
# How long a rebuild waits for searches and writers of other repos to let go of the table before
# it fills row by row instead (searches wait behind a rebuild: seconds, once per cold index).
BULK_FILL_LOCK_TIMEOUT = "3s"
_FILL = (
    "UPDATE code_chunks c SET embedding = e.embedding FROM chunk_embeddings e"
    " WHERE c.repo = %s AND c.embedding IS NULL AND e.content_hash = c.content_hash AND e.model = %s"
)


def use_vectors_model(conn: psycopg.Connection, repo: str, model: str) -> int:
    """Make ``model`` the one the repo's chunk vectors come from; returns how many vectors of
    another model were cleared (they are embedded again, from the cache where this model has
    them). Without this a switched ``EMBEDDING_MODEL`` embedded nothing ("every chunk has a
    vector") and a query embedded by one model was compared with another model's vectors. A repo
    with no record yet (indexed before it was kept) is taken to be this model's."""
    lock_repo(conn, repo)
    row = conn.execute("SELECT model FROM repo_vectors WHERE repo = %s", (repo,)).fetchone()
    if row is not None and row["model"] == model:
        return 0
    cleared = 0
    if row is not None:
        cleared = conn.execute("UPDATE code_chunks SET embedding = NULL WHERE repo = %s AND embedding IS NOT NULL",
                               (repo,)).rowcount
    conn.execute("INSERT INTO repo_vectors (repo, model) VALUES (%s, %s)"
                 " ON CONFLICT (repo) DO UPDATE SET model = excluded.model, updated_at = now()", (repo, model))
    return cleared


def fill_from_cache(conn: psycopg.Connection, repo: str, model: str) -> int:
    """Give chunks whose text was embedded before (by this model) their cached vector; returns
    the number of chunks filled. Under the repo's write lock, like every write to its chunks.

    A large fill (a cold index: most of the table's vectors arrive at once) drops the HNSW index,
    fills, and builds the index again in the same transaction, so a crash leaves the index as it
    was; the rebuild needs the table to itself for a moment and fills row by row when it cannot
    have it within ``BULK_FILL_LOCK_TIMEOUT``."""
    lock_repo(conn, repo)
    n = conn.execute(
        "SELECT count(*) AS n FROM code_chunks c JOIN chunk_embeddings e ON e.content_hash = c.content_hash"
        " AND e.model = %s WHERE c.repo = %s AND c.embedding IS NULL",
        (model, repo),
    ).fetchone()["n"]
    if not n:
        return 0
    if n >= BULK_FILL_MIN_ROWS:
        have = conn.execute(
            "SELECT count(*) AS n FROM code_chunks WHERE embedding IS NOT NULL"
        ).fetchone()["n"]
        if n >= BULK_FILL_MIN_SHARE * (have + n):
            filled = _fill_rebuilding_index(conn, repo, model)
            if filled is not None:
                return filled
    return conn.execute(_FILL, (repo, model)).rowcount


def _fill_rebuilding_index(conn: psycopg.Connection, repo: str, model: str) -> int | None:
    """The fill with the HNSW index dropped and built again (same definition); None when the
    table could not be had within the lock timeout, the role may not drop the index, or the
    index is not there to rebuild."""
    definition = conn.execute(
        "SELECT pg_get_indexdef(i.indexrelid) AS d FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname = %s AND i.indrelid = 'code_chunks'::regclass",
        (HNSW_INDEX,),
    ).fetchone()
    if definition is None:
        return None
    try:
        with conn.transaction():  # a savepoint: a lock not had in time rolls back to here
            conn.execute(f"SET LOCAL lock_timeout = '{BULK_FILL_LOCK_TIMEOUT}'")
            conn.execute("LOCK TABLE code_chunks IN ACCESS EXCLUSIVE MODE")
            conn.execute("SET LOCAL lock_timeout = DEFAULT")
            conn.execute(f"DROP INDEX {HNSW_INDEX}")
            filled = conn.execute(_FILL, (repo, model)).rowcount
            # the graph in memory: a build that outgrows maintenance_work_mem is several times slower
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            conn.execute(definition["d"])
            return filled
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected, psycopg.errors.InsufficientPrivilege):
        return None  # busy, or a role that may write rows but not own the index (a hosted store)


def texts_to_embed(conn: psycopg.Connection, repo: str, *, only_missing: bool = True) -> dict[str, str]:
    """hash -> embed text of the chunks still without a vector (one entry per distinct text)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (content_hash) content_hash, path, chunk_type, symbol, kind, signature, header_chain,"
        " object_name, content FROM code_chunks WHERE repo = %s"
        + (" AND embedding IS NULL" if only_missing else ""),
        (repo,),
    ).fetchall()
    out = {}
    for r in rows:
        chunk = Chunk(r["path"], r["chunk_type"], r["content"], 0, 0, symbol=r["symbol"], kind=r["kind"],
                      signature=r["signature"], header_chain=r["header_chain"], object_name=r["object_name"])  # fmt: skip
        out[r["content_hash"]] = chunk.embed_text()
    return out


def save_embeddings(conn: psycopg.Connection, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
    """Cache vectors by (text hash, model); the chunks take them in ``fill_from_cache``, once
    for a whole run (a fill per batch rewrote the chunk rows a batch at a time: 67 fills of
    effect's 17k chunks took 32 s, one fill 0.6-3 s)."""
    from pgvector.psycopg.vector import register_vector_info
    from psycopg.types import TypeInfo

    with conn.cursor() as cur:
        # binary vectors, adapted on this cursor only (other reads keep the text form): printing
        # 384 floats per vector was 3.2 s of effect's 17k
        register_vector_info(cur, TypeInfo.fetch(conn, "vector"))
        cur.executemany(
            "INSERT INTO chunk_embeddings (content_hash, model, embedding) VALUES (%s, %s, %b)"
            " ON CONFLICT (content_hash, model) DO NOTHING",
            [(h, model, np.asarray(v, dtype=np.float32)) for h, v in zip(hashes, vectors, strict=True)],
        )
