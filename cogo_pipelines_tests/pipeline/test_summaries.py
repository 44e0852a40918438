"""The summary model for real (the shipped MiniLM transformer): `cogo index --summaries` embeds
each file's summary once, an edit re-embeds only its file, and a warm process's encoder embeds
what a plain index left and then ranks with the list."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cogo_pipelines import settings
from cogo_pipelines.indexing import embedding
from cogo_pipelines.pipeline import dagster_events, index_run, knowledge_tools, summaries
from cogo_pipelines.store import db, file_summaries, knowledge
from cogo_pipelines_tests.plugins.knowledge import BUILD_QUESTION, GivenSummaryModel

COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]


@pytest.fixture(autouse=True)
def summaries_on(database_url, monkeypatch):
    monkeypatch.setenv("SUMMARY_MODEL", "minilm")
    settings.reload_settings()


def test_cogo_index_summaries_embeds_each_file_once_and_an_edit_only_its_file(database_url, sample_copy: Path):
    env = {**__import__("os").environ, "DATABASE_URL": database_url}

    def index(*flags: str) -> dict:
        done = subprocess.run([*COGO, "index", str(sample_copy), "--json", *flags], env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    refused = subprocess.run([*COGO, "index", str(sample_copy), "--summaries", "--no-embed"], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode == 2 and refused.stderr.strip().splitlines() == [
        "cogo index: --summaries embeds the file summaries, --no-embed embeds nothing: pass one of them"]
    first = index("--summaries")
    assert first["summaries_written"] == first["summaries_embedded"] == first["files"] > 20
    assert first["summaries_pending"] == 0
    (sample_copy / "src/core/lease.ts").write_text("export const leaseSeconds = 30;\n")
    plain = index()  # an edit without --summaries: the text is rewritten, its vector left to a warm process
    assert plain["summaries_written"] == 1 and plain["summaries_embedded"] == 0 and plain["summaries_pending"] == 1
    (sample_copy / "src/core/lease.ts").write_text("export const leaseSeconds = 60;\n")
    told = subprocess.run([*COGO, "index", str(sample_copy)], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert told.returncode == 0 and "1 file summaries wait for their vectors" in told.stderr, told.stderr
    again = index("--summaries")
    assert again["summaries_written"] == 0 and again["summaries_embedded"] == 1 and again["summaries_pending"] == 0
    with db.connect(database_url) as conn:
        assert file_summaries.complete(conn, summaries.model_key(), "cogo-sample")


def test_dagster_sees_the_summaries_only_once_every_file_has_its_vector(conn, sample_copy: Path):
    plain = index_run.run_index(conn, sample_copy, embed=True)
    assert "file_summaries" not in dagster_events.asset_metadata(plain, sample_copy, embedded=True)
    done = index_run.run_index(conn, sample_copy, embed=True, summaries=True)
    meta = dagster_events.asset_metadata(done, sample_copy, embedded=True)["file_summaries"]
    assert meta["embedded"] == plain.summaries_pending == plain.files and meta["pending"] == 0


def test_summaries_are_embedded_a_page_at_a_time_and_all_of_them(conn, sample_copy: Path, monkeypatch):
    """No more than a page of texts is read at once, and every page is embedded, its progress
    counted against the whole (not the page)."""
    plain = index_run.run_index(conn, sample_copy, embed=False)
    monkeypatch.setattr(summaries, "PAGE", 7)
    read: list[int] = []
    reading = file_summaries.pending

    def spy(conn, model, repo=None, limit=None):
        rows = reading(conn, model, repo, limit)
        read.append(len(rows))
        return rows

    monkeypatch.setattr(file_summaries, "pending", spy)
    seen: list[tuple[int, int]] = []
    stored = summaries.embed_summaries(conn, progress=lambda _stage, done, total: seen.append((done, total)))
    assert stored == plain.files > 7 and max(read) == 7 and len(read) == -(-plain.files // 7) + (plain.files % 7 == 0)
    assert seen[-1] == (plain.files, plain.files) and {total for _, total in seen} == {plain.files}
    assert file_summaries.counts(conn, summaries.model_key()) == (plain.files, plain.files)


def test_a_warm_encoder_embeds_what_a_plain_index_left_and_search_then_reads_the_list(database_url, conn,
                                                                                     sample_copy: Path, monkeypatch):
    monkeypatch.setattr(summaries, "RECHECK_SECONDS", 3600.0)  # only a search's notice brings the fill back
    index_run.run_index(conn, sample_copy, embed=False)
    conn.commit()
    key = summaries.model_key()
    assert file_summaries.counts(conn, key, "cogo-sample")[1] == 0
    question = BUILD_QUESTION
    plain = knowledge_tools.search(conn, question, 8)
    encoder = summaries.SummaryEncoder(lambda: db.connect(database_url, autocommit=True))
    assert encoder.vector(question) is None  # not loaded yet: search ranks without the list
    encoder.start()
    try:
        assert encoder.wait_ready(120)
        deadline = time.monotonic() + 120
        while not file_summaries.complete(conn, key, "cogo-sample"):
            assert time.monotonic() < deadline, "the background fill did not embed the summaries"
            time.sleep(0.2)
        warm = knowledge_tools.search(conn, question, 8, summary=encoder)
        vector = embedding.encode([question], model="minilm")[0].tolist()
        assert warm == knowledge_tools.search(conn, question, 8, summary=GivenSummaryModel(key, vector))
        # an edit indexed without --summaries: the next search ranks without the list and wakes
        # the fill, which embeds the edited file's summary at once, not at its next look
        edited = sample_copy / "src" / "core" / "lease.ts"
        edited.write_text(edited.read_text() + "\nexport const leaseGraceSeconds = 5;\n")
        index_run.run_index(conn, sample_copy, embed=False)
        conn.commit()
        assert not file_summaries.complete(conn, key, "cogo-sample")
        assert knowledge_tools.search(conn, question, 8, summary=encoder)["results"]
        deadline = time.monotonic() + 30
        while not file_summaries.complete(conn, key, "cogo-sample"):
            assert time.monotonic() < deadline, "a search that found a summary without its vector did not wake the fill"
            time.sleep(0.1)
    finally:
        encoder.stop()
    assert [r["score"] for r in warm["results"]] != [r["score"] for r in plain["results"]]
    assert warm["results"][0]["path"] in {r["path"] for r in plain["results"][:3]}
    # the vectors are the transformer's: the nearest summary to a file's own text is that file
    row = conn.execute("SELECT path, text FROM file_summaries WHERE path = 'src/core/lease.ts'").fetchone()
    own = embedding.encode([row["text"]], model="minilm")[0].tolist()
    assert next(iter(file_summaries.ranking(conn, own, "cogo-sample"))) == row["path"]


def test_a_summary_model_that_cannot_load_leaves_search_as_it_was(conn, sample_copy: Path, monkeypatch, caplog):
    monkeypatch.setenv("SUMMARY_MODEL", str(sample_copy / "no-such-model"))
    settings.reload_settings()
    index_run.run_index(conn, sample_copy, embed=False)
    conn.commit()
    encoder = summaries.SummaryEncoder().start()
    encoder._thread.join(60)
    assert not encoder.ready and encoder.vector("lease") is None
    assert "summary model" in caplog.text and "not loaded" in caplog.text
    plain = knowledge_tools.search(conn, "lease expiry", 5)
    assert knowledge_tools.search(conn, "lease expiry", 5, summary=encoder) == plain


def test_summaries_off_no_encoder_runs(monkeypatch):
    monkeypatch.setenv("SUMMARY_MODEL", "off")
    settings.reload_settings()
    encoder = summaries.SummaryEncoder(lambda: pytest.fail("no store is opened when summaries are off")).start()
    assert not encoder.enabled and encoder.vector("anything") is None and not encoder.wait_ready(0.05)
    assert knowledge.SummaryModel  # the protocol search takes
