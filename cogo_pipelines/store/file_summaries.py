"""``file_summaries``: one short text per indexed file and its vector from a sentence
transformer, the third list of a search that a warm process serves (``store/knowledge.py``).

Why: the chunk vectors come from the static model (a token look-up, so a cold index and a
query cost milliseconds), which bridges paraphrases poorly ("hand a website over" →
``transfer/route.ts``). The MiniLM transformer bridges them far better, but it costs a model load
(~10 s) and ~30 ms a text, too much for every chunk of a repo and for each ``cogo search``
process. One text per file is ~20× fewer texts than chunks, and a process that stays up (the MCP
server, the sidecar) loads the model once. Measured on ten question sets (docs/RAG.md): hybrid
NDCG@10 mean .708 → .739, the application repos most (formbricks +.17, storage +.06).

A file's text is its path split into words, the names of its chunks' symbols, its markdown
header chains and the first 400 characters of its first chunk (``summary_text``): what the file
is about, short enough for the transformer's 256 tokens. Rows follow the chunks: the chunk stage's
files are summarised again, a vanished file's row goes. A row's vector is valid while its
``text_hash`` and ``model`` are the current ones; search reads a repo's list only when every row of
it has one (a list with holes would favour the files embedded first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import psycopg

from cogo_pipelines.indexing.embedding import text_hash
from cogo_pipelines.store.knowledge import HNSW_SETTINGS, split_identifiers, vector_literal

MAX_NAMES = 30
MAX_HEADERS = 10
OPENING_CHARS = 400
LIST_SIZE = 100  # files in a search's summary list (min-max scaled over these)


@dataclass(frozen=True)
class Pending:
    """A summary whose vector is missing or stale."""

    repo: str
    path: str
    text_hash: str
    text: str


def summary_text(path: str, chunks: Iterable[tuple[str | None, str | None, str | None]]) -> str:
    """The text embedded for file ``path`` from its chunks ``(symbol, header_chain, content)``
    in file order."""
    names: list[str] = []
    headers: list[str] = []
    opening = None
    for symbol, header_chain, content in chunks:
        if opening is None:
            opening = content or ""
        if symbol and symbol not in names:
            names.append(symbol)
        if header_chain and header_chain not in headers:
            headers.append(header_chain)
    return (f"{split_identifiers(path)}. {', '.join(split_identifiers(n) for n in names[:MAX_NAMES])}. "
            f"{'; '.join(headers[:MAX_HEADERS])}. {(opening or '')[:OPENING_CHARS]}")


def sync(conn: psycopg.Connection, repo: str, paths: Sequence[str] | None = None) -> int:
    """Write the summary of ``paths`` (None: every chunked file of ``repo``) and of every
    chunked file that has none yet, and delete the rows of files no longer chunked; returns how
    many texts changed (their vectors are cleared). An unchanged text keeps its vector."""
    conn.execute(
        "DELETE FROM file_summaries s WHERE s.repo = %s AND NOT EXISTS"
        " (SELECT 1 FROM chunked_files f WHERE f.repo = s.repo AND f.path = s.path)",
        (repo,),
    )
    if paths is None:
        wanted = None
    else:
        missing = conn.execute(
            "SELECT f.path FROM chunked_files f LEFT JOIN file_summaries s ON s.repo = f.repo AND s.path = f.path"
            " WHERE f.repo = %s AND s.path IS NULL",
            (repo,),
        ).fetchall()
        wanted = sorted(set(paths) | {r["path"] for r in missing})
        if not wanted:
            return 0
    rows = conn.execute(
        "SELECT path, symbol, header_chain, left(content, %s) AS content FROM code_chunks WHERE repo = %s"
        + ("" if wanted is None else " AND path = ANY(%s)") + " ORDER BY path, start_line, part",
        (OPENING_CHARS, repo) + (() if wanted is None else (wanted,)),
    ).fetchall()
    files: dict[str, list[tuple]] = {}
    for r in rows:
        files.setdefault(r["path"], []).append((r["symbol"], r["header_chain"], r["content"]))
    texts = {path: summary_text(path, chunks) for path, chunks in files.items()}
    if not texts:
        return 0
    cur = conn.execute(
        "INSERT INTO file_summaries (repo, path, text_hash, text)"
        " SELECT %s, p, h, t FROM unnest(%s::text[], %s::text[], %s::text[]) AS u(p, h, t)"
        " ON CONFLICT (repo, path) DO UPDATE SET text_hash = excluded.text_hash, text = excluded.text,"
        "  model = NULL, embedding = NULL, updated_at = now()"
        " WHERE file_summaries.text_hash <> excluded.text_hash",
        (repo, list(texts), [text_hash(t) for t in texts.values()], list(texts.values())),
    )
    return cur.rowcount


def pending(conn: psycopg.Connection, model: str, repo: str | None = None, limit: int | None = None) -> list[Pending]:
    """Summaries without a vector of ``model`` (of ``repo``, else of every repo), shortest first
    (batches of similar length pad less); the first ``limit`` of them when given (a caller that
    embeds them reads a page at a time: 100k texts at once would hold ~100 MB)."""
    rows = conn.execute(
        "SELECT repo, path, text_hash, text FROM file_summaries WHERE (model IS DISTINCT FROM %s OR embedding IS NULL)"
        + (" AND repo = %s" if repo else "") + " ORDER BY length(text), repo, path"
        + (" LIMIT %s" if limit is not None else ""),
        (model,) + ((repo,) if repo else ()) + ((limit,) if limit is not None else ()),
    ).fetchall()
    return [Pending(r["repo"], r["path"], r["text_hash"], r["text"]) for r in rows]


def save(conn: psycopg.Connection, model: str, rows: Sequence[Pending], vectors: np.ndarray) -> int:
    """Store each row's vector unless its text changed meanwhile (an index run rewrote it: the
    vector would describe the old text); returns the rows stored."""
    from pgvector.psycopg.vector import register_vector_info
    from psycopg.types import TypeInfo

    stored = 0
    with conn.cursor() as cur:
        register_vector_info(cur, TypeInfo.fetch(conn, "vector"))
        for row, vector in zip(rows, vectors, strict=True):
            cur.execute(
                "UPDATE file_summaries SET model = %s, embedding = %b, updated_at = now()"
                " WHERE repo = %s AND path = %s AND text_hash = %s",
                (model, np.asarray(vector, dtype=np.float32), row.repo, row.path, row.text_hash),
            )
            stored += cur.rowcount
    return stored


def counts(conn: psycopg.Connection, model: str, repo: str | None = None) -> tuple[int, int]:
    """(summaries, those with a vector of ``model``) of ``repo``, else of every repo."""
    row = conn.execute(
        "SELECT count(*) AS n, count(*) FILTER (WHERE model = %s AND embedding IS NOT NULL) AS e"
        " FROM file_summaries" + (" WHERE repo = %s" if repo else ""),
        (model,) + ((repo,) if repo else ()),
    ).fetchone()
    return row["n"], row["e"]


def complete(conn: psycopg.Connection, model: str, repo: str | None = None) -> bool:
    """Whether the summaries of ``repo`` (else of every repo) all have a vector of ``model``:
    only then is their list read (one with holes would favour the files embedded first). This runs
    on every question, so it reads the ends of indexes, not the rows: a summary without a vector
    (the partial index of 160), and the least and greatest model (161, 162: a row without a
    vector has no model, so min = max = ``model`` says every other row is that model's). As
    ``EXISTS (… model <> %s)`` it was a scan once psycopg prepared it (a generic plan): 16-29 ms on
    30k summaries."""
    where = "WHERE repo = %(repo)s" if repo else ""
    holes = "AND embedding IS NULL" if repo else "WHERE embedding IS NULL"
    row = conn.execute(
        f"SELECT (SELECT min(model) FROM file_summaries {where}) AS low,"
        f" (SELECT max(model) FROM file_summaries {where}) AS high,"
        f" EXISTS (SELECT 1 FROM file_summaries {where} {holes}) AS holes",
        {"repo": repo},
    ).fetchone()
    return row["low"] == row["high"] == model and not row["holes"]


def ranking(conn: psycopg.Connection, vector: Sequence[float], repo: str | None = None,
            limit: int = LIST_SIZE) -> dict[str, float]:
    """path -> the file's place in the summary list, min-max scaled over its ``limit`` nearest
    (1 for the nearest, 0 for the last). Read it when ``complete``; through the HNSW index, as the
    chunk vectors are (``knowledge.vector_ranking``)."""
    with conn.transaction():  # SET LOCAL needs one
        conn.execute(HNSW_SETTINGS[repo is not None])
        rows = conn.execute(
            "SELECT path, s FROM (SELECT path, 1 - (embedding <=> %(v)s::vector) AS s FROM file_summaries"
            " WHERE embedding IS NOT NULL" + (" AND repo = %(repo)s" if repo else "") + " ORDER BY embedding <=> %(v)s::vector LIMIT %(limit)s) n"
            " ORDER BY s DESC, path",
            {"v": vector_literal(vector), "repo": repo, "limit": limit},
        ).fetchall()
    if not rows:
        return {}
    top, low = float(rows[0]["s"]), float(rows[-1]["s"])
    span = top - low
    out: dict[str, float] = {}
    for r in rows:  # a path held by two repos keeps its better place
        out.setdefault(r["path"], (float(r["s"]) - low) / span if span > 0 else 1.0)
    return out
