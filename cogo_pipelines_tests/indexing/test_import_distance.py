"""Entry weights without networkx: the same numbers as networkx's condensation + BFS (what
``graph.entry_weights`` used before), on random import graphs full of cycles, and deep chains
without recursion."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from cogo_pipelines.indexing.import_distance import entry_weights, strong_components


def _networkx_weights(files, imports, entries):
    g = nx.DiGraph()
    g.add_nodes_from(files)
    g.add_edges_from(imports)
    condensed = nx.condensation(g)
    component = condensed.graph["mapping"]
    sources = {component[e] for e in entries if e in component}
    distance = nx.multi_source_dijkstra_path_length(condensed, sources) if sources else {}
    return {f: (1.0 / (1 + distance[component[f]]) if component[f] in distance else 0.0) for f in g.nodes}


@pytest.mark.parametrize("seed", range(40))
def test_same_weights_as_networkx_condensation(seed: int):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    files = [f"src/m{i}.ts" for i in range(n)]
    outside = [f"lib/x{i}.js" for i in range(3)]  # import targets that are not files of the policy
    imports = [(rng.choice(files), rng.choice(files + outside)) for _ in range(rng.randint(0, 3 * n))]
    entries = rng.sample(files, k=min(n, rng.randint(0, 3))) + ["src/not-there.ts"]
    assert entry_weights(files, imports, entries) == _networkx_weights(files, imports, entries)


def test_components_are_the_cycles():
    successors = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["e"], "e": ["d"], "f": []}
    component = strong_components(successors)
    assert component["a"] == component["b"] == component["c"]
    assert component["d"] == component["e"] != component["a"]
    assert len(set(component.values())) == 3


def test_a_chain_deeper_than_the_recursion_limit():
    files = [f"m{i}.ts" for i in range(20_000)]
    imports = [*itertools.pairwise(files), (files[-1], files[0])]  # one cycle through all of them
    weights = entry_weights(files, imports, [files[0]])
    assert set(weights.values()) == {1.0}
    weights = entry_weights(files, imports[:-1], [files[0]])
    assert weights[files[2]] == pytest.approx(1 / 3) and weights[files[-1]] == pytest.approx(1 / 20_000)
