"""Hybrid search on the indexed sample (vectors seeded from the session cache)."""

from __future__ import annotations

import pytest

from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import knowledge


@pytest.fixture
def indexed(seeded_conn, sample_repo_path):
    index_run.run_index(seeded_conn, sample_repo_path)
    return seeded_conn


def test_search_before_index_is_a_clear_error(conn):
    with pytest.raises(knowledge.EmptyIndexError, match="cogo index"):
        knowledge.search(conn, "anything")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("computeLeaseExpiry", "src/core/lease.ts"),
        ("compute_lease_expiry", "src/core/lease.ts"),  # snake_case spelling of a camelCase name
        ("claim_job", "supabase/sql/001_jobs.sql"),
        ("exponential backoff with jitter for retries", "src/shared/retry.ts"),
        ("which executor does a task type go to", "src/core/router.ts"),
        ("Q1 formula weights of tests lint typecheck coverage", "src/core/quality.ts"),
    ],
)
def test_hybrid_search_finds_the_right_file(indexed, query, expected):
    hits = knowledge.search(indexed, query, k=5, repo="cogo-sample")
    assert expected in [h.path for h in hits[:3]]
    top = hits[0].as_dict()
    assert set(top) == {"path", "symbol", "chunk_type", "start_line", "end_line", "score", "repo"}
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_identifier_match_on_keyword_side(indexed):
    hits = knowledge.search(indexed, "LeaseExpiredError", k=3, repo="cogo-sample", mode="keyword")
    assert hits[0].path == "src/core/errors.ts" and hits[0].symbol == "LeaseExpiredError"
    by_path = knowledge.search(indexed, "handlers debugHandler", k=3, repo="cogo-sample", mode="keyword")
    assert by_path[0].path == "src/queue/handlers/debugHandler.ts"


def test_graph_rank_reaches_chunks_and_stats(indexed):
    ranked = indexed.execute("SELECT max(rank) AS r FROM code_chunks WHERE path = 'src/index.ts'").fetchone()[
        "r"
    ]
    assert ranked > 0
    stats = knowledge.index_stats(indexed, "cogo-sample")
    assert stats["chunks"] == stats["embedded"] > 100 and stats["symbols"] > 0 and stats["files"] == 35


def test_vector_read_on_a_second_connection_gives_the_same_hits(indexed, database_url):
    """The sidecar lends a second connection so a hybrid search reads the vector index beside
    the keyword postings; the answer must not change. A made-up word matches no posting, so
    that query's hits come from the vector read on the other connection alone."""
    from cogo_pipelines.store import db

    indexed.commit()  # the other connection sees the committed index
    with db.connect(database_url, autocommit=True) as other:
        for query in ("exponential backoff with jitter for retries", "which executor does a task type go to",
                      "qqzzxv wibblequark"):  # fmt: skip
            alone = knowledge.search(indexed, query, k=5, repo="cogo-sample")
            beside = knowledge.search(indexed, query, k=5, repo="cogo-sample", vector_conn=other)
            assert beside == alone and beside


def test_a_repo_alone_in_the_store_is_read_without_a_filter(indexed, sample_copy, monkeypatch):
    """The HNSW read filters by repo, and keeps scanning past ef_search for the rows the filter
    drops (iterative scan), only where another repo is in the store: alone, the same hits come
    from a plain read."""
    seen: list[str] = []
    real = indexed.execute
    monkeypatch.setattr(indexed, "execute", lambda query, *a, **k: (seen.append(str(query)), real(query, *a, **k))[1])
    question = "exponential backoff with jitter for retries"

    def reads() -> list[str]:
        return [q for q in seen if "ORDER BY embedding <=>" in q or "hnsw." in q]

    alone = knowledge.search(indexed, question, k=5, repo="cogo-sample")
    assert alone and reads() and not [q for q in reads() if "repo =" in q or "iterative_scan" in q]
    assert knowledge.search(indexed, question, k=5) == alone

    index_run.run_index(indexed, sample_copy, repo="second-copy")
    seen.clear()
    among = knowledge.search(indexed, question, k=5, repo="cogo-sample")
    assert [q for q in reads() if "repo =" in q] and [q for q in reads() if "iterative_scan" in q]
    assert among and {h.repo for h in among} == {"cogo-sample"}
