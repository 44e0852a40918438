"""Score fusion keeps a clear keyword winner ahead; a chunk-format change re-chunks a stored repo."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.indexing.chunking import CHUNK_FORMAT, Chunk
from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import knowledge


def test_fusion_keeps_a_clear_keyword_winner_over_a_vector_near_tie():
    keyword = [("a", 12.0), ("b", 3.0), ("c", 2.9)]
    vector = [("c", 0.52), ("b", 0.51), ("a", 0.50)]  # the sentence model barely prefers c
    scores = knowledge.fuse([(keyword, knowledge.KEYWORD_WEIGHT), (vector, knowledge.VECTOR_WEIGHT)])
    assert max(scores, key=scores.get) == "a"
    assert knowledge.fuse([([("x", -0.1)], 1.0)]) == {}  # nothing positive: no evidence


def test_embed_text_spells_the_name_and_file_as_words():
    text = Chunk(
        "src/v4/core/resolveResponse.ts", "code", "body", 1, 2, symbol="ZodType.parse", kind="method"
    ).embed_text()
    lines = text.splitlines()
    assert lines[0].startswith("src/v4/core/resolveResponse.ts | method ZodType.parse")
    assert lines[1] == "zod type parse method in core resolve response"
    assert lines[-1] == "body"


def test_chunks_of_an_older_chunk_format_are_redone(seeded_conn, sample_copy: Path):
    conn = seeded_conn
    first = index_run.run_index(conn, sample_copy, embed=False)
    assert first.rechunked_files == 35
    conn.execute("UPDATE chunked_files SET chunk_format = %s WHERE path LIKE 'src/%%'", (CHUNK_FORMAT - 1,))
    conn.commit()
    old = conn.execute(
        "SELECT count(*) AS n FROM chunked_files WHERE chunk_format <> %s", (CHUNK_FORMAT,)
    ).fetchone()["n"]
    assert old > 0
    again = index_run.run_index(conn, sample_copy, embed=False)
    assert again.rechunked_files == old and again.parsed == 0
    assert index_run.run_index(conn, sample_copy, embed=False).rechunked_files == 0
