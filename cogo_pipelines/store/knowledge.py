"""``code_chunks`` in Postgres: the keyword model and hybrid search (the writes that build
the index are ``store/chunk_writes.py``'s).

Search (``search``) fuses two ranked lists and then boosts by the symbol graph:

1. vector: cosine distance on the pgvector HNSW index (query embedded by the same model);
2. keyword: BM25F over a weighted ``tsvector`` per chunk — A: path segments and symbol/object
   names, B: header (signature, markdown header chain), C: body, D: the file outline — built
   from text whose identifiers are split (``computeLeaseExpiry`` → ``compute lease expiry``,
   ``claim_job`` → ``claim job``, ``src/core/router.ts`` → ``src core router ts``) on the way
   in and on the query, so identifiers match in any spelling. Each (chunk, lexeme) posting
   stores its BM25 term impact ``tf·(k1+1) / (tf + k1·(1-b+b·dl/avgdl))`` with tf the
   field-weighted count (``FIELD_WEIGHTS``); a query reads the ``POSTINGS_PER_TERM``
   highest-impact postings of each of its terms from an index and sums ``idf · impact``
   (IDF from ``chunk_terms``), so latency does not grow with the number of matching chunks.
   A query that is one bare identifier (``ZodError``, ``JobQueue.claim``) is a lookup: hybrid
   answers it from the keyword side alone (a sentence-embedding model knows nothing of a
   name beyond its sub-words, and its guesses only dilute an exact match; this also skips
   the query encode);
3. fusion and graph boost (``store/fusion.py``): each list is aggregated to files (best chunk
   plus a decaying share of the file's other chunks; tests, stories and changelogs halved;
   ``1 + 0.1 · rank`` from the symbol graph), the two file lists are summed (keyword 1, vector
   0.5) with a bonus for files whose name spells words of the question, and each chunk takes its
   file's score scaled by its share of the file's best chunk. Flat rank fusion of chunks let the weaker vector side
   outvote a clear keyword winner; fusing files keeps it from doing so and lets the two sides
   agree on the file even where they pick different chunks of it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol

import psycopg

from cogo_pipelines.indexing.chunk import IDENTIFIER_PARTS, Chunk
from cogo_pipelines.store import fusion
from cogo_pipelines.store.db import StoreError

CANDIDATES = 100  # per list, before fusion
VECTOR_CANDIDATES = 100
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*")
KEYWORD_WEIGHT, VECTOR_WEIGHT = fusion.KEYWORD_WEIGHT, fusion.VECTOR_WEIGHT
FIELD_WEIGHTS = {"A": 5.0, "B": 1.5, "C": 1.0, "D": 0.3}  # names weigh most, the outline least
BM25_K1, BM25_B = 1.2, 0.75
POSTINGS_PER_TERM = 500


class EmptyIndexError(StoreError):
    def __init__(self, repo: str | None = None) -> None:
        where = f" for repo {repo!r}" if repo else ""
        super().__init__(
            f"nothing is indexed{where} yet; run `cogo index REPO` first (e.g. `cogo index examples/cogo-sample`)"
        )


@dataclass
class SearchHit:
    path: str
    symbol: str | None
    chunk_type: str
    start_line: int
    end_line: int
    score: float
    content: str = ""
    header: str = ""
    repo: str = ""
    kind: str | None = None  # the chunk's kind: a symbol's (function, class, ...), a SQL statement's; None for markdown

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "symbol": self.symbol,
            "chunk_type": self.chunk_type,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "score": round(self.score, 6),
            "repo": self.repo,
        }


# ---- identifier splitting ---------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z0-9_$]+")


def split_identifiers(text: str) -> str:
    """Text with every identifier followed by its parts, punctuation dropped.

    ``JobQueue.reapExpired`` → ``jobqueue job queue reapexpired reap expired``; paths split
    on ``/`` and ``.`` the same way. Both the indexed text and the query go through this.
    """
    return " ".join(filter(None, map(_split_word, _WORD.findall(text))))


@functools.lru_cache(maxsize=1 << 16)
def _split_word(word: str) -> str:
    """One identifier and its parts (code repeats its identifiers: each is split once)."""
    word = word.strip("_$")
    if not word:
        return ""
    parts = [p.lower() for p in IDENTIFIER_PARTS.findall(word)]
    return " ".join([word.lower(), *parts]) if len(parts) > 1 else word.lower()


def keyword_fields(chunk: Chunk) -> tuple[str, str, str, str]:
    """(A, B, C, D) texts of the weighted keyword document."""
    names = " ".join(filter(None, [chunk.path, chunk.symbol, chunk.object_name]))
    header = " ".join(filter(None, [chunk.signature, chunk.header_chain, chunk.kind]))
    outline = " ".join(chunk.extra_terms)
    return tuple(split_identifiers(t) for t in (names, header, chunk.content, outline))  # type: ignore[return-value]


# ---- reads -----------------------------------------------------------------------------


def vector_literal(v: Sequence[float]) -> str:
    """pgvector's text form of a vector (a numpy row or, for a query, a list of floats)."""
    return "[" + ",".join(f"{x:.7g}" for x in (v.tolist() if hasattr(v, "tolist") else v)) + "]"



def indexed_repos(conn: psycopg.Connection) -> list[str]:
    """The repos with searchable chunks (one ``chunk_terms`` count row each)."""
    return [r["repo"] for r in conn.execute("SELECT repo FROM chunk_terms WHERE term = '' ORDER BY repo")]


def index_stats(conn: psycopg.Connection, repo: str | None = None) -> dict:
    where, args = ("WHERE repo = %s", (repo,)) if repo else ("", ())

    def count(sql: str) -> int:
        return conn.execute(sql.format(where=where), args).fetchone()["n"]

    return {
        "files": count("SELECT count(*) AS n FROM files {where}"),
        "symbols": count("SELECT count(*) AS n FROM ast_nodes {where}"),
        "edges": count("SELECT count(*) AS n FROM code_relationships {where}"),
        "chunks": count("SELECT count(*) AS n FROM code_chunks {where}"),
        "embedded": count(
            "SELECT count(*) AS n FROM code_chunks {where}"
            + (" AND" if repo else " WHERE")
            + " embedding IS NOT NULL"
        ),
    }


def _query_terms(conn: psycopg.Connection, query: str, repo: str | None) -> list[tuple[str, float]]:
    """Lexemes of the query with their IDF over the searched chunks (one round trip)."""
    repo_sql = "AND t.repo = %(repo)s" if repo else ""
    rows = conn.execute(
        "WITH q AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', %(q)s)))"
        " SELECT q.lexeme AS term, coalesce(sum(t.ndoc), 0) AS df,"
        f" (SELECT coalesce(sum(t.ndoc), 0) FROM chunk_terms t WHERE t.term = '' {repo_sql}) AS total"
        f" FROM q LEFT JOIN chunk_terms t ON t.term = q.lexeme {repo_sql} GROUP BY q.lexeme ORDER BY q.lexeme",
        {"q": split_identifiers(query), "repo": repo},
    ).fetchall()
    total = rows[0]["total"] if rows else 0
    if rows and not total:  # IDF table from before the chunk count was kept: count now
        where = "WHERE repo = %(repo)s" if repo else ""
        total = conn.execute(f"SELECT count(*) AS n FROM code_chunks {where}", {"repo": repo}).fetchone()["n"]
    return [(r["term"], math.log(1 + max(0.0, total - r["df"] + 0.5) / (r["df"] + 0.5))) for r in rows]


def keyword_ranking(
    conn: psycopg.Connection, query: str, repo: str | None, limit: int = CANDIDATES
) -> list[tuple[str, float]]:
    terms = _query_terms(conn, query, repo)
    if not terms:
        return []
    repo_sql = "AND repo = %(repo)s" if repo else ""
    rows = conn.execute(
        "SELECT p.chunk_id, sum(p.impact * q.idf) AS s FROM unnest(%(terms)s::text[], %(idfs)s::float8[]) AS q(t, idf)"
        " CROSS JOIN LATERAL (SELECT chunk_id, impact FROM chunk_postings"
        f"  WHERE term = q.t {repo_sql} ORDER BY impact DESC LIMIT %(per_term)s) p"
        " GROUP BY p.chunk_id ORDER BY s DESC, p.chunk_id LIMIT %(limit)s",
        {"terms": [t for t, _ in terms], "idfs": [w for _, w in terms], "repo": repo,
         "per_term": POSTINGS_PER_TERM, "limit": limit},
    ).fetchall()  # fmt: skip
    return [(r["chunk_id"], float(r["s"])) for r in rows]


# An HNSW read visits ef_search candidates. Only a filter (a repo among others) can drop them below
# the LIMIT, so only then does it go on scanning (iterative scan, relaxed order): set without a
# filter it still cost ~1 ms a read (100k chunks). `search` drops the filter where the repo is the
# store's only one.
HNSW_SETTINGS = {
    False: "SET LOCAL hnsw.ef_search = 100",
    True: "SET LOCAL hnsw.ef_search = 100; SET LOCAL hnsw.iterative_scan = relaxed_order",
}


def vector_ranking(
    conn: psycopg.Connection, query_vector: Sequence[float], repo: str | None, limit: int = CANDIDATES
) -> list[tuple[str, float]]:
    conn.execute(HNSW_SETTINGS[repo is not None])
    repo_sql = "AND repo = %(repo)s" if repo else ""
    rows = conn.execute(
        f"SELECT id, 1 - (embedding <=> %(v)s::vector) AS s FROM code_chunks WHERE embedding IS NOT NULL {repo_sql}"
        " ORDER BY embedding <=> %(v)s::vector LIMIT %(limit)s",
        {"v": vector_literal(query_vector), "repo": repo, "limit": limit},
    ).fetchall()
    return [(r["id"], float(r["s"])) for r in rows]


def chunks_holding(conn: psycopg.Connection, literals: list[str], repo: str, limit: int = 20) -> list[dict]:
    """Chunks of code (and SQL) of ``repo`` whose text holds one of ``literals`` verbatim, in the
    order of ``literals``, each with the ``literal`` it holds. For text a build printed that code
    wrote (an error's message is a string in the code that throws it): word search splits it into
    words that other names hold too. Markdown and text chunks (docs quoting a message) are left out.

    No index serves a substring; the keyword postings narrow it: only the chunks that hold the
    literal's rarest word (``chunk_terms``) are read, and none when a word is in no chunk. At worst
    that is every chunk: a literal of common words costs a scan (60k chunks of 2.4 kB: 0.16 s),
    one with a rare word a few milliseconds. A literal of stop words alone has no word to narrow
    with and finds nothing."""
    if not literals:
        return []
    rows = conn.execute(
        "WITH l AS (SELECT lit, ord, array(SELECT lexeme FROM unnest(to_tsvector('english', words))) AS terms"
        "  FROM unnest(%(lits)s::text[], %(words)s::text[]) WITH ORDINALITY AS l(lit, words, ord)),"
        # a word of the literal that no chunk holds: no chunk holds the literal
        " r AS (SELECT l.lit, l.ord, (SELECT CASE WHEN count(*) = cardinality(l.terms)"
        "  THEN (array_agg(t.term ORDER BY t.ndoc, t.term))[1] END"
        "  FROM chunk_terms t WHERE t.repo = %(repo)s AND t.term = ANY(l.terms)) AS rare FROM l)"
        " SELECT c.id, c.path, c.symbol, c.chunk_type, c.start_line, c.end_line, c.content, r.lit AS literal"
        " FROM r JOIN chunk_postings p ON p.repo = %(repo)s AND p.term = r.rare JOIN code_chunks c ON c.id = p.chunk_id"
        " WHERE strpos(c.content, r.lit) > 0 AND c.chunk_type NOT IN ('markdown', 'text')"
        " ORDER BY r.ord, c.path, c.start_line LIMIT %(limit)s",
        {"lits": literals, "words": [split_identifiers(lit) for lit in literals], "repo": repo, "limit": limit},
    ).fetchall()
    return [dict(r) for r in rows]


class SummaryModel(Protocol):
    """What search needs of the summary model a warm process holds (``pipeline/summaries.py``):
    its key, as the summaries record it, and a question's vector (None while not loaded)."""

    key: str

    def vector(self, text: str) -> Sequence[float] | None: ...

    def notice_incomplete(self) -> None:
        """A search found summaries without its vectors (an index run since): embed them soon."""


def _lead_chunks(conn: psycopg.Connection, files: set[str], repo: str | None,
                 query_vector: Sequence[float] | None) -> dict[str, str]:
    """path -> the chunk that stands for a file only the summary list names: the one nearest
    the query by the chunk vectors, else its first."""
    if not files:
        return {}
    order = "embedding <=> %(v)s::vector NULLS LAST, start_line" if query_vector is not None else "start_line"
    rows = conn.execute(
        f"SELECT DISTINCT ON (path) path, id FROM code_chunks WHERE path = ANY(%(paths)s)"
        f" {'AND repo = %(repo)s' if repo else ''} ORDER BY path, {order}, id",
        {"paths": sorted(files), "repo": repo,
         "v": vector_literal(query_vector) if query_vector is not None else None},
    ).fetchall()
    return {r["path"]: r["id"] for r in rows}


LEADS_PER_HIT = 2  # list-only files given a lead chunk per hit asked for (2: room for ties and files gone)


def _best_placed(summaries: dict[str, float], named: set[str], n: int) -> list[str]:
    """The ``n`` files of the summary list best placed in it that ``named`` does not hold."""
    return sorted(set(summaries) - named, key=lambda p: (-summaries[p], p))[:n]


def _chunk_rows(conn: psycopg.Connection, ids: list[str]) -> list[dict]:
    """id, path, graph rank and whether a tool wrote the file, of each chunk of ``ids`` still stored."""
    if not ids:
        return []
    return conn.execute(
        "SELECT c.id, c.path, c.rank, f.generated FROM code_chunks c"
        " LEFT JOIN files f ON f.repo = c.repo AND f.path = c.path WHERE c.id = ANY(%s)",
        (ids,),
    ).fetchall()


# Shared by the searches of a process; threads start only when a search passes ``vector_conn``.
# Past 4 concurrent searches their vector reads queue here, where the store's cores are busy anyway.
_BESIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cogo-vector-read")


def _vector_ranking_in_transaction(
    conn: psycopg.Connection, query_vector: Sequence[float], repo: str | None
) -> list[tuple[str, float]]:
    with conn.transaction():  # SET LOCAL needs one
        return vector_ranking(conn, query_vector, repo, VECTOR_CANDIDATES)


def search(
    conn: psycopg.Connection,
    query: str,
    k: int = 10,
    repo: str | None = None,
    *,
    mode: str = "hybrid",
    query_vector: Sequence[float] | None = None,
    vector_conn: psycopg.Connection | None = None,
    summary: SummaryModel | None = None,
) -> list[SearchHit]:
    """Top-``k`` chunks for ``query`` (``mode``: hybrid | vector | keyword); see the module doc.

    ``vector_conn``: a second connection to the same store (the sidecar's pool lends one when
    it has one idle); a hybrid search then reads the vector index on it while the keyword
    postings are read on ``conn`` (the two reads take about as long as the slower one).
    ``summary``: the summary model a warm process holds; a hybrid search adds the file summary
    list (``store/file_summaries.py``) where the searched repos' summaries all have its vectors
    (the question is embedded by it only then)."""
    where = "WHERE repo = %(repo)s" if repo else "WHERE true"
    lookup = mode == "hybrid" and _IDENTIFIER.fullmatch(query.strip()) is not None
    wants_vectors = mode in ("hybrid", "vector") and not lookup
    model = None
    if wants_vectors:
        from cogo_pipelines.indexing.embedding import encode_query, model_key

        model = model_key()
    # one statement: anything indexed, any vector, and (when vectors are wanted) vectors of another
    # model than the query's (a switched EMBEDDING_MODEL, the repo not indexed again yet: they
    # would rank noise, so that repo is searched by keyword meanwhile)
    # sole_*: the repo asked for is the only one in that table (min = max: two reads of its repo
    # index), so its HNSW reads need no filter; asked only where there is a filter to drop (and,
    # for the summaries, a summary model that may read their list)
    def sole(table: str, asked: bool = True) -> str:
        return f"(SELECT min(repo) FROM {table}) = %(repo)s AND (SELECT max(repo) FROM {table}) = %(repo)s" \
            if repo and asked else "false"

    has = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM code_chunks {where}) AS n,"
        f" EXISTS (SELECT 1 FROM code_chunks {where} AND embedding IS NOT NULL) AS e,"
        f" %(model)s::text IS NOT NULL AND EXISTS (SELECT 1 FROM repo_vectors {where} AND model <> %(model)s)"
        f" AS other, {sole('code_chunks')} AS sole_chunks,"
        f" {sole('file_summaries', summary is not None)} AS sole_summaries",
        {"repo": repo, "model": model},
    ).fetchone()
    vector_repo = None if has["sole_chunks"] else repo
    summary_repo = None if has["sole_summaries"] else repo
    if not has["n"]:
        raise EmptyIndexError(repo)
    rankings: list[tuple[list[tuple[str, float]], float]] = []
    vectors = wants_vectors and has["e"] and not has["other"]
    if vectors and query_vector is None:
        query_vector = encode_query(query)
    summary_vector = None
    if summary is not None and mode == "hybrid" and not lookup:
        from cogo_pipelines.store import file_summaries  # it reads this module's text helpers

        if file_summaries.complete(conn, summary.key, repo):
            # the transformer encodes the question (~10 ms of CPU) while the store reads the lists
            summary_vector = _BESIDE.submit(summary.vector, query)
        else:  # ranked without the list until the model's holder has embedded what is new
            summary.notice_incomplete()
    pending = None
    if vectors and mode == "hybrid" and vector_conn is not None:
        # the HNSW read is most of a hybrid search: run it beside the keyword read
        pending = _BESIDE.submit(_vector_ranking_in_transaction, vector_conn, query_vector, vector_repo)
    summaries: dict[str, float] = {}
    early: dict[str, str] = {}  # lead chunks read while the vector read runs beside
    asked: set[str] = set()
    light: list[dict] = []  # the rows of the chunks the lists name, as far as read
    try:
        with conn.transaction():
            if mode in ("hybrid", "keyword"):
                rankings.append((keyword_ranking(conn, query, repo), KEYWORD_WEIGHT))
            if vectors and pending is None:
                rankings.append((vector_ranking(conn, query_vector, vector_repo, VECTOR_CANDIDATES), VECTOR_WEIGHT))
            if summary_vector is not None and (vector := summary_vector.result()) is not None:
                summaries = file_summaries.ranking(conn, vector, summary_repo)
                if pending is not None and summaries:
                    # the vector read is the longer one: meanwhile read the lead chunks of the
                    # best placed files the keyword list does not name (the vector list may name
                    # some of them: the rest are read after it, below)
                    light = _chunk_rows(conn, list({cid for ranked, _ in rankings for cid, _ in ranked}))
                    asked = set(_best_placed(summaries, {r["path"] for r in light}, LEADS_PER_HIT * k))
                    early = _lead_chunks(conn, asked, repo, query_vector if vectors else None)
    finally:  # never hand ``vector_conn`` back to its pool while the read still runs on it
        if pending is not None:
            wait([pending])
    if pending is not None:
        rankings.append((pending.result(), VECTOR_WEIGHT))
    ids = list({cid for ranked, _ in rankings for cid, _ in ranked})
    if not ids and not summaries:
        return []
    read = {r["id"] for r in light}
    light += _chunk_rows(conn, [cid for cid in ids if cid not in read])
    paths = {r["id"]: r["path"] for r in light}  # a chunk deleted meanwhile drops out here
    # files only the summary list names all enter at one floor, ordered by their place in it (see
    # fusion.fuse): no more than k of them can reach the top k, so only the best placed need a lead
    # chunk (reading every chunk of a hundred files cost 40 ms a search with 20 chunks a file)
    only_listed = _best_placed(summaries, set(paths.values()), LEADS_PER_HIT * k)
    leads = {path: early[path] for path in only_listed if path in early}
    leads.update(_lead_chunks(conn, set(only_listed) - asked, repo, query_vector if vectors else None))
    paths.update({cid: path for path, cid in leads.items()})
    rankings = [([(cid, s) for cid, s in ranked if cid in paths], w) for ranked, w in rankings]
    generated = {r["id"] for r in light if r["generated"]}
    scores = fusion.fuse(rankings, paths, {r["id"]: r["rank"] or 0.0 for r in light}, query, generated,
                         summaries, leads)
    if not scores:
        return []
    top = fusion.top_chunks(scores, paths, k)
    hits = []
    for r in conn.execute(
        "SELECT id, repo, path, symbol, chunk_type, start_line, end_line, content, kind, signature, header_chain,"
        " object_name FROM code_chunks WHERE id = ANY(%s)",
        (top,),
    ):
        chunk = Chunk(r["path"], r["chunk_type"], r["content"], r["start_line"], r["end_line"], symbol=r["symbol"],
                      kind=r["kind"], signature=r["signature"], header_chain=r["header_chain"], object_name=r["object_name"])  # fmt: skip
        hits.append(SearchHit(r["path"], r["symbol"], r["chunk_type"], r["start_line"], r["end_line"], scores[r["id"]],
                              r["content"], chunk.header, r["repo"], r["kind"]))  # fmt: skip
    hits.sort(key=lambda h: (-h.score, h.path, h.start_line))
    return hits[:k]
