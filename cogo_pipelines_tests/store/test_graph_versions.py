"""The stored extractions and graphs are keyed by a hash of the code that makes them
(``graph_store.EXTRACTOR_VERSION`` / ``GRAPH_VERSION``): a module of that code left out of the
hash would let a change to it serve stale rows. Checked over the import graph of the sources."""

from __future__ import annotations

import ast
from importlib import resources

from cogo_pipelines.store import graph_store

INDEXING = resources.files("cogo_pipelines.indexing")
# discovery (reading and hashing files): its changes are not the extractor's or the linker's
OUTSIDE = {"sources"}


def _indexing_imports(module: str) -> set[str]:
    tree = ast.parse((INDEXING / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "cogo_pipelines.indexing":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("cogo_pipelines.indexing."):
                found.add(node.module.split(".")[2])
    return found


def _closure(roots: set[str]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        module = todo.pop()
        if module in seen or module in OUTSIDE:
            continue
        seen.add(module)
        todo += _indexing_imports(module)
    return seen


def test_every_module_the_extractor_and_the_linker_run_is_in_their_version_hash():
    hashed = set()
    for names in (graph_store.EXTRACTOR_MODULES, graph_store.GRAPH_MODULES):
        hashed |= set(names)
    needed = _closure({"typescript", "static_graph", "graph", "linking", "resolve"})
    assert needed - hashed == set()
