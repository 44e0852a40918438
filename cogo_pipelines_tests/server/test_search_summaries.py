"""The sidecar with the summary model on: its background fill embeds the file summaries a plain
index left, and `GET /api/search` then ranks with the summary list, over real HTTP."""

from __future__ import annotations

import time

from cogo_pipelines import settings as settings_module
from cogo_pipelines.indexing import embedding
from cogo_pipelines.pipeline import index_run, summaries
from cogo_pipelines.server import create_app
from cogo_pipelines.store import file_summaries, knowledge
from cogo_pipelines_tests.plugins.knowledge import BUILD_QUESTION, GivenSummaryModel
from cogo_pipelines_tests.server.conftest import Sidecar, start_server, stop_server

QUESTION = BUILD_QUESTION


def test_sidecar_search_ranks_with_the_summaries_once_they_are_embedded(secret_env, monkeypatch, conn,
                                                                         sample_repo_path):
    monkeypatch.setenv("SUMMARY_MODEL", "minilm")
    settings = settings_module.reload_settings()
    index_run.run_index(conn, sample_repo_path, embed=False)
    conn.commit()
    key = summaries.model_key()
    plain = [h.as_dict() for h in knowledge.search(conn, QUESTION, k=5)]
    server, thread, url = start_server(create_app(settings))
    try:
        with Sidecar(url, settings, server).client() as client:
            first = client.get("/api/search", params={"q": QUESTION, "k": 5})
            assert first.status_code == 200 and first.json()["hits"]  # served while the model loads
            deadline = time.monotonic() + 180
            while not file_summaries.complete(conn, key, "cogo-sample"):
                assert time.monotonic() < deadline, "the sidecar did not embed the summaries"
                time.sleep(0.2)
            warm = client.get("/api/search", params={"q": QUESTION, "k": 5}).json()["hits"]
            fast = client.get("/api/search", params={"q": QUESTION, "k": 5, "summaries": "false"}).json()["hits"]
            assert [{k: h[k] for k in plain[0]} for h in fast] == plain
            refused = client.get("/api/search", params={"q": QUESTION, "summaries": "yes"})
            assert refused.status_code == 400 and "summaries must be one of true, false" in refused.json()["error"]
            total = file_summaries.counts(conn, key, "cogo-sample")[0]
            metrics = client.get("/metrics").text
            assert f'cogo_index_summaries{{repo="cogo-sample"}} {float(total)}' in metrics
            assert f'cogo_index_summaries_embedded{{repo="cogo-sample"}} {float(total)}' in metrics
            stats = client.get("/api/index/stats").json()
            assert stats["summaries"] == stats["summaries_embedded"] == total
    finally:
        stop_server(server, thread)
    vector = embedding.encode([QUESTION], model="minilm")[0].tolist()
    expected = [h.as_dict() for h in knowledge.search(conn, QUESTION, k=5, summary=GivenSummaryModel(key, vector))]
    assert expected != plain
    assert [{k: h[k] for k in expected[0]} for h in warm] == expected
