"""The dashboard's gate badge tells the truth about what the gate scored."""

from __future__ import annotations

import re

from cogo_pipelines.quality import gate


def _badge(html: str) -> str:
    match = re.search(r'id="gate-status">([^<]*)<', html)
    assert match, "no gate badge on the dashboard"
    return match.group(1)


def test_an_empty_gate_reads_no_data_never_passed(sidecar, conn):
    """`cogo gate q1 --allow-empty` on an empty queue passes for CI, but scored nothing."""
    outcome = gate.evaluate_q1(conn, allow_empty=True)
    assert outcome.passed and outcome.score is None
    with sidecar.client() as client:
        html = client.get("/dashboard/local").text
    assert _badge(html) == "Q1 gate: no data"
    assert "Q1 gate passed" not in html
