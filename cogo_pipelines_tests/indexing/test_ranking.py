from __future__ import annotations

import math

from cogo_pipelines.indexing import ranking


def test_formula_documented_in_the_module():
    assert ranking.rank(1.0, 0, 100) == 0.6
    assert math.isclose(ranking.rank(0.5, 10, 100), 0.6 * 0.5 + 0.4 * math.log1p(10) / math.log1p(100))
    assert ranking.rank(1.0, 100, 100) == 1.0
    assert ranking.rank(0.0, 0, 0) == 0.0


def test_runtime_lifts_a_symbol_past_an_equally_placed_one():
    ranks = ranking.rank_all(
        {
            "hot": ranking.RankInput(0.5, 40),
            "cold": ranking.RankInput(0.5, 0),
            "entry": ranking.RankInput(1.0, 0),
            "script": ranking.RankInput(0.0, 2000),
        }
    )
    assert ranks["hot"] > ranks["cold"]
    assert ranks["script"] == 0.4 and ranks["entry"] == 0.6
    assert [sid for sid, _ in ranking.top(ranks, 4)] == ["entry", "hot", "script", "cold"]
    assert all(0.0 <= r <= 1.0 for r in ranks.values())
