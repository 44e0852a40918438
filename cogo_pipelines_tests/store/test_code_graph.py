"""The graph reads every face shares: the reverse walk (``reaching``) that test impact and the
``impact`` question both use, and the call edges the gate_fix locator reads, checked on the
sample's real graph against a plain reading of the whole edge table."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest

from cogo_pipelines.quality.impact import REACH_DEPTH, REACH_KINDS
from cogo_pipelines.quality.locate import MAX_NEIGHBOURS, GraphLocator
from cogo_pipelines.store import code_graph

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cogo-sample"


@pytest.fixture
def graphed(conn):
    from cogo_pipelines.pipeline.index_run import run_index

    run_index(conn, SAMPLE, embed=False)
    conn.commit()
    return conn


def _oracle(edges: list[dict], seeds: list[str], kinds, max_depth: int) -> dict[str, int]:
    """Breadth-first over the whole table read once: the fewest steps from each node to a seed."""
    into: dict[str, list[str]] = {}
    for e in edges:
        if e["kind"] in kinds:
            into.setdefault(e["dst_id"], []).append(e["src_id"])
    depth = dict.fromkeys(seeds, 0)
    queue = deque(seeds)
    while queue:
        node = queue.popleft()
        if depth[node] == max_depth:
            continue
        for src in into.get(node, []):
            if src not in depth:
                depth[src] = depth[node] + 1
                queue.append(src)
    return depth


def test_reaching_is_the_whole_reverse_reach_with_fewest_steps(graphed):
    edges = graphed.execute("SELECT src_id, dst_id, kind FROM code_relationships").fetchall()
    files = graphed.execute("SELECT id, path FROM ast_nodes WHERE kind = 'file' ORDER BY path").fetchall()
    assert len(files) > 5 and len(edges) > 20
    walked = 0
    for file in files:
        seeds = [n["id"] for n in code_graph.file_symbols(graphed, "cogo-sample", file["path"])]
        for kinds, depth in ((REACH_KINDS, REACH_DEPTH), (("calls", "renders", "imports"), 2), (("calls",), 1)):
            got = code_graph.reaching(graphed, seeds, kinds, max_depth=depth)
            assert got == _oracle(edges, seeds, kinds, depth), (file["path"], kinds, depth)
            walked += len(got) > len(seeds)
    assert walked > 5  # the sample has files that others reach


def test_reaching_stops_at_cycles_and_after_the_step_past_max_visited(conn):
    rows = [("e1", "a", "b"), ("e2", "b", "a"), ("e3", "c", "b"), ("e4", "d", "c"), ("e5", "x", "a")]
    for edge_id, src, dst in rows:  # edges src -> dst: a and b call each other, c calls b, d calls c
        conn.execute("INSERT INTO code_relationships (id, repo, src_id, dst_id, kind) VALUES (%s, 'r', %s, %s, 'calls')",
                     (edge_id, src, dst))
    assert code_graph.reaching(conn, ["b"], ["calls"], max_depth=10) == {"b": 0, "a": 1, "c": 1, "d": 2, "x": 2}
    assert code_graph.reaching(conn, ["b"], ["imports"], max_depth=10) == {"b": 0}
    assert code_graph.reaching(conn, ["b"], ["calls"], max_depth=1) == {"b": 0, "a": 1, "c": 1}
    assert code_graph.reaching(conn, ["b"], ["calls"], max_depth=10, max_visited=2) == {"b": 0, "a": 1, "c": 1}
    assert code_graph.reaching(conn, [], ["calls"], max_depth=10) == {}


_OLD_NEIGHBOURS = (  # the locator's own query before it read the shared edges: kept as the oracle
    "SELECT 'callee' AS rel, n.id, n.kind, r.confidence FROM code_relationships r JOIN ast_nodes n ON n.id = r.dst_id"
    " WHERE r.src_id = %(id)s AND r.kind = 'calls'"
    " UNION ALL SELECT 'caller', n.id, n.kind, r.confidence FROM code_relationships r"
    " JOIN ast_nodes n ON n.id = r.src_id WHERE r.dst_id = %(id)s AND r.kind = 'calls'")


def test_locator_neighbours_are_the_call_edges_either_way(graphed):
    locator = GraphLocator(graphed)
    symbols = graphed.execute("SELECT id FROM ast_nodes WHERE kind <> 'file' ORDER BY id").fetchall()
    with_neighbours = 0
    for symbol in symbols:
        got = locator.neighbours(symbol["id"])
        expected = [r for r in graphed.execute(_OLD_NEIGHBOURS, {"id": symbol["id"]}).fetchall() if r["kind"] != "file"]
        if len(expected) <= MAX_NEIGHBOURS:  # all of them (past the cap, the order of ties decides)
            assert sorted((rel, row["id"], row["confidence"]) for rel, row in got) == sorted(
                (r["rel"], r["id"], r["confidence"]) for r in expected), symbol["id"]
        assert len(got) == min(len(expected), MAX_NEIGHBOURS)
        assert [rel for rel, _ in got] == sorted((rel for rel, _ in got), key=lambda rel: rel != "callee")
        with_neighbours += bool(got)
    assert with_neighbours > 10
