"""File summaries: their texts follow the chunks, a vector is kept only for the text it was made
from, the list is read only when complete, and fusion adds it (real store, real index runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from cogo_pipelines.indexing import embedding
from cogo_pipelines.pipeline import index_run
from cogo_pipelines.store import file_summaries, fusion, knowledge
from cogo_pipelines_tests.plugins.knowledge import GivenSummaryModel

MODEL = embedding.model_key("minilm")  # the key SUMMARY_MODEL=minilm records (no model is loaded here)


@pytest.fixture(autouse=True)
def summaries_on(database_url, monkeypatch):
    """SUMMARY_MODEL as deployed (the test session turns it off: conftest.py); texts need no model."""
    from cogo_pipelines import settings

    monkeypatch.setenv("SUMMARY_MODEL", "minilm")
    settings.reload_settings()


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


def _embed_all(conn, repo: str | None = None) -> int:
    rows = file_summaries.pending(conn, MODEL, repo)
    stored = file_summaries.save(conn, MODEL, rows, np.stack([_unit(i) for i in range(len(rows))]))
    conn.commit()
    return stored


def test_a_summary_names_the_file_its_symbols_headers_and_opening_lines():
    text = file_summaries.summary_text("src/core/leaseExpiry.ts", [
        (None, None, "import { x } from './x';\n" + "y" * 600),
        ("computeLeaseExpiry", None, "export function computeLeaseExpiry() {}"),
        ("computeLeaseExpiry", None, "again"),
        (None, "Queue > Leases", "## Leases"),
    ])
    assert text.startswith("src core leaseexpiry lease expiry ts. ")
    assert "computeleaseexpiry compute lease expiry" in text and text.count("computeleaseexpiry") == 1
    assert "Queue > Leases" in text
    assert "import { x } from './x';" in text and "y" * 400 not in text  # the opening, cut at 400 characters


def test_summaries_follow_the_chunks_and_keep_vectors_only_for_unchanged_text(conn, sample_copy: Path):
    index_run.run_index(conn, sample_copy, embed=False)
    repo = "cogo-sample"
    chunked = {r["path"] for r in conn.execute("SELECT path FROM chunked_files WHERE repo = %s", (repo,))}
    total, embedded = file_summaries.counts(conn, MODEL, repo)
    assert total == len(chunked) > 20 and embedded == 0
    assert not file_summaries.complete(conn, MODEL, repo)
    assert _embed_all(conn, repo) == total and file_summaries.complete(conn, MODEL, repo)
    assert file_summaries.counts(conn, "another-model", repo) == (total, 0)

    lease = sample_copy / "src/core/lease.ts"
    lease.write_text("export function renewLeaseForRunner(): number { return 1; }\n" + lease.read_text())
    (sample_copy / "src/core/router.ts").unlink()
    summary = index_run.run_index(conn, sample_copy, embed=False)
    assert summary.summaries_written == 1 and summary.summaries_pending == 1
    rows = {r["path"]: r for r in conn.execute("SELECT path, text, embedding FROM file_summaries WHERE repo = %s",
                                                (repo,))}
    assert "src/core/router.ts" not in rows and len(rows) == total - 1
    assert rows["src/core/lease.ts"]["embedding"] is None and "renew lease for runner" in rows["src/core/lease.ts"]["text"]
    assert all(r["embedding"] is not None for p, r in rows.items() if p != "src/core/lease.ts")
    assert not file_summaries.complete(conn, MODEL, repo)


def test_a_vector_made_for_an_old_text_is_not_stored(conn, sample_copy: Path):
    index_run.run_index(conn, sample_copy, embed=False)
    rows = file_summaries.pending(conn, MODEL, "cogo-sample")
    lease = sample_copy / "src/core/lease.ts"
    lease.write_text("export function renewLeaseForRunner(): number { return 1; }\n" + lease.read_text())
    index_run.run_index(conn, sample_copy, embed=False)  # rewrites lease.ts's text meanwhile
    stored = file_summaries.save(conn, MODEL, rows, np.stack([_unit(i) for i in range(len(rows))]))
    assert stored == len(rows) - 1
    assert [r.path for r in file_summaries.pending(conn, MODEL, "cogo-sample")] == ["src/core/lease.ts"]


def test_the_list_is_scaled_from_the_nearest_file_to_the_hundredth(conn, sample_copy: Path):
    index_run.run_index(conn, sample_copy, embed=False)
    _embed_all(conn)
    target = conn.execute("SELECT path, embedding FROM file_summaries ORDER BY path LIMIT 1").fetchone()
    vector = [float(x) for x in target["embedding"].strip("[]").split(",")]
    listed = file_summaries.ranking(conn, vector, "cogo-sample")
    assert listed[target["path"]] == 1.0 and min(listed.values()) == 0.0
    assert len(listed) == file_summaries.counts(conn, MODEL)[0]  # fewer files than the list's size
    assert len(file_summaries.ranking(conn, vector, "cogo-sample", limit=5)) == 5


def test_the_summary_list_reorders_files_and_brings_in_a_file_no_other_list_named():
    paths = {"a": "src/a.ts", "b": "src/b.ts", "lead": "src/only_summary.ts"}
    keyword = [("a", 10.0), ("b", 9.0)]
    plain = fusion.fuse([(keyword, 1.0)], paths)
    assert plain["a"] > plain["b"] and "lead" not in plain
    listed = {"src/b.ts": 1.0, "src/only_summary.ts": 0.8, "src/a.ts": 0.0}
    scores = fusion.fuse([(keyword, 1.0)], paths, summaries=listed, leads={"src/only_summary.ts": "lead"})
    assert scores["b"] == pytest.approx(0.9 + fusion.SUMMARY_WEIGHT)
    assert scores["a"] == pytest.approx(1.0)
    # its only chunk carries the file, from the other lists' lowest file (b, 0.9 of the best: their bound)
    assert scores["lead"] == pytest.approx(0.9 + fusion.SUMMARY_WEIGHT * 0.8)
    # a lead for a file the other lists named already is not used
    again = fusion.fuse([(keyword, 1.0)], {**paths, "x": "src/a.ts"}, summaries=listed, leads={"src/a.ts": "x"})
    assert "x" not in again


def test_search_adds_the_list_only_when_every_summary_has_the_models_vector(conn, sample_copy: Path):
    index_run.run_index(conn, sample_copy, embed=False)
    _embed_all(conn)
    # a file the question's words do not lead to: the summary list puts it first
    far = conn.execute("SELECT path, embedding FROM file_summaries WHERE path = 'supabase/sql/002_quality.sql'").fetchone()
    vector = [float(x) for x in far["embedding"].strip("[]").split(",")]
    question = "lease expiry of a claimed job"
    def files(hits) -> list[str]:
        return list(dict.fromkeys(h.path for h in hits))

    plain = files(knowledge.search(conn, question, k=60, mode="hybrid"))
    model = GivenSummaryModel(MODEL, vector)
    with_list = files(knowledge.search(conn, question, k=60, mode="hybrid", summary=model))
    assert model.asked == [question]
    assert with_list[0] == plain[0]  # the keyword side's clear winner stays first
    assert with_list.index(far["path"]) < (plain.index(far["path"]) if far["path"] in plain else len(plain))
    # another model's key: the list is incomplete for it, so it is not read and nothing is embedded
    other = GivenSummaryModel("another-model", vector)
    assert files(knowledge.search(conn, question, k=60, summary=other)) == plain and not other.asked
    # a bare identifier is a lookup: keyword side alone, no summary list
    assert [h.path for h in knowledge.search(conn, "computeLeaseExpiry", k=5, summary=model)] == \
        [h.path for h in knowledge.search(conn, "computeLeaseExpiry", k=5)]


def test_a_file_only_the_summary_list_names_is_shown_by_its_chunk_nearest_the_question(seeded_conn, sample_copy):
    conn = seeded_conn
    index_run.run_index(conn, sample_copy, embed=True)
    _embed_all(conn)
    question = "zzqx"  # no keyword match; the vector list reads every chunk of the small sample
    target = "docs/specs/quality-gate.md"
    vector = [float(x) for x in conn.execute("SELECT embedding FROM file_summaries WHERE path = %s",
                                             (target,)).fetchone()["embedding"].strip("[]").split(",")]
    leads = knowledge._lead_chunks(conn, {target}, "cogo-sample", embedding.encode_query("quality threshold"))
    nearest = conn.execute(
        "SELECT id FROM code_chunks WHERE path = %s ORDER BY embedding <=> %s::vector, start_line LIMIT 1",
        (target, knowledge.vector_literal(embedding.encode_query("quality threshold")))).fetchone()["id"]
    assert leads == {target: nearest}
    first = conn.execute("SELECT id FROM code_chunks WHERE path = %s ORDER BY start_line LIMIT 1", (target,)).fetchone()
    assert knowledge._lead_chunks(conn, {target}, None, None) == {target: first["id"]}
    hits = knowledge.search(conn, question, k=3, mode="keyword", summary=GivenSummaryModel(MODEL, vector))
    assert hits == []  # the list belongs to hybrid search only


def test_summaries_off_writes_none(conn, sample_copy: Path, monkeypatch):
    from cogo_pipelines import settings

    monkeypatch.setenv("SUMMARY_MODEL", "off")
    settings.reload_settings()
    summary = index_run.run_index(conn, sample_copy, embed=False)
    assert summary.summaries_written == 0 and file_summaries.counts(conn, MODEL) == (0, 0)
    shutil.rmtree(sample_copy)


def lead_reads(monkeypatch) -> list[int]:
    """How many files each reading of lead chunks (``knowledge._lead_chunks``) is asked for."""
    asked: list[int] = []
    lead_chunks = knowledge._lead_chunks

    def spy(conn, files, repo, vector):
        asked.append(len(files))
        return lead_chunks(conn, files, repo, vector)

    monkeypatch.setattr(knowledge, "_lead_chunks", spy)
    return asked


def _models_of_summaries(conn, n: int) -> list[GivenSummaryModel]:
    """Summary models whose question vector is one stored summary's (the first ``n`` by path)."""
    rows = conn.execute("SELECT embedding FROM file_summaries ORDER BY path LIMIT %s", (n,))
    return [GivenSummaryModel(MODEL, [float(x) for x in r["embedding"].strip("[]").split(",")]) for r in rows]


def test_only_the_best_placed_files_only_the_list_names_are_read_and_the_answer_is_the_same(
        conn, sample_copy: Path, monkeypatch):
    """Files only the summary list names enter at one floor, ordered by their place: reading lead
    chunks for the 2k best placed gives the hits that reading them all gives."""
    index_run.run_index(conn, sample_copy, embed=False)
    _embed_all(conn)
    asked = lead_reads(monkeypatch)
    listed_only = 0
    for i, model in enumerate(_models_of_summaries(conn, 12)):
        question = "lease expiry of a claimed job" if i % 2 else "zzqx qqzz"  # a keyword list, or none
        capped = knowledge.search(conn, question, k=3, summary=model)
        assert asked[-1] <= 2 * 3
        with monkeypatch.context() as m:
            m.setattr(knowledge, "LEADS_PER_HIT", 10_000)
            every = knowledge.search(conn, question, k=3, summary=model)
        assert asked[-1] > 2 * 3  # the sample's list names more files than that
        assert [(h.path, h.start_line, h.score) for h in capped] == [(h.path, h.start_line, h.score) for h in every]
        keyword = {h.path for h in knowledge.search(conn, question, k=60, mode="keyword")}
        listed_only += sum(1 for h in capped if h.path not in keyword)
    assert listed_only >= 3  # the comparison covered hits that only the list brought


def test_lead_chunks_read_beside_the_vector_read_give_the_same_hits(database_url, conn, sample_copy: Path,
                                                                     monkeypatch):
    """With a second connection the lead chunks of the best placed files are read while the
    vector list is read on it; what the vector list then names is left out, the gap read after:
    the hits equal those of the one-connection search."""
    from cogo_pipelines.store import db

    index_run.run_index(conn, sample_copy, embed=True)
    _embed_all(conn)
    calls = lead_reads(monkeypatch)
    late: list[int] = []
    with db.connect(database_url, autocommit=True) as other:
        for i, model in enumerate(_models_of_summaries(conn, 10)):
            question = ("lease expiry of a claimed job", "zzqx qqzz", "how is the quality gate threshold set")[i % 3]
            calls.clear()
            beside = knowledge.search(conn, question, k=3, summary=model, vector_conn=other)
            assert len(calls) == 2 and calls[0] == 2 * 3  # early: the 2k best placed outside the keyword list
            alone = knowledge.search(conn, question, k=3, summary=model)
            assert [(h.path, h.start_line, h.score) for h in beside] == [(h.path, h.start_line, h.score) for h in alone]
            late.append(calls[1])
    assert any(late)  # the vector list named some of the early files: the gap was read after it
