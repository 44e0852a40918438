"""What the search tool tells an agent beside the ranking (pipeline/knowledge_tools.py)."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.pipeline import index_run, knowledge_tools


def test_search_says_which_words_each_hit_holds_and_when_none_does(conn, sample_copy: Path):
    """Scores are relative (the best hit is ~1 whatever it is): an agent could not tell a search
    whose words were found from one answered by meaning alone."""
    index_run.run_index(conn, sample_copy)
    found = knowledge_tools.search(conn, "lease expiry heartbeat", k=5)
    assert found["results"] and "note" not in found
    assert all(set(r["matched"]) <= {"lease", "expiry", "heartbeat"} for r in found["results"])
    assert "lease" in found["results"][0]["matched"]
    nothing = knowledge_tools.search(conn, "zqxv plorfendish wuggle", k=5)
    assert nothing["results"] and all(r["matched"] == [] for r in nothing["results"])
    assert "ranked by meaning alone" in nothing["note"]
