"""The call-graph questions over a store holding two repos (pipeline/graph_tools.py)."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.pipeline import graph_tools, index_run


def test_a_call_path_stays_in_the_source_symbols_repo(conn, sample_copy: Path, tmp_path: Path):
    """With two repos indexed and no repo named, ``main`` could be taken from one repo and the
    target from the other: "no call path" for a chain that exists."""
    other = tmp_path / "aaa-other"
    (other / "src").mkdir(parents=True)
    (other / "src" / "index.ts").write_text("export function main() { return 1; }\\n")
    index_run.run_index(conn, other, embed=False, repo="aaa-other")
    index_run.run_index(conn, sample_copy, embed=False)
    found = graph_tools.call_path(conn, "main", "computeLeaseExpiry")
    assert found["path"] is not None and found["from"]["repo"] == found["to"]["repo"] == "cogo-sample"
