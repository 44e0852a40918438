"""Import distance from the entries over the module graph condensed by its cycles.

A file's entry weight is ``1/(1+d)``, ``d`` the number of imports from the nearest entry once
every import cycle (strongly connected component) counts as one module. This is the one global
step of a graph rebuild, on the critical path of a cold ``cogo graph`` between the last parse
and the node rows: networkx's ``condensation`` gave the same numbers, but importing networkx
alone took ~0.1 s of that path, more than the computation. Tarjan's algorithm, iterative (an
import chain thousands of files deep must not hit the recursion limit), linear in files +
imports.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


def strong_components(successors: dict[str, list[str]]) -> dict[str, int]:
    """Component number of every node of ``successors`` (every target must be a key too)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = 0
    for root, targets in successors.items():
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(targets))]
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:  # descend; this node's other children wait on its iterator
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                    break
                if child in on_stack and index[child] < low[node]:
                    low[node] = index[child]
            else:  # every child seen: the node is done
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:  # the root of a component: pop its members
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component[member] = components
                        if member == node:
                            break
                    components += 1
    return component


def entry_weights(files: Iterable[str], imports: Iterable[tuple[str, str]], entries: Iterable[str]) -> dict[str, float]:
    """``1/(1+d)`` for every file and import target, ``d`` the import distance from the nearest
    entry over the condensed graph; 0.0 where no entry reaches."""
    successors: dict[str, list[str]] = {f: [] for f in files}
    for src, dst in imports:
        successors.setdefault(src, []).append(dst)
        successors.setdefault(dst, [])
    component = strong_components(successors)
    condensed: dict[int, set[int]] = {}
    for src, targets in successors.items():
        c = component[src]
        for dst in targets:
            d = component[dst]
            if d != c:
                condensed.setdefault(c, set()).add(d)
    distance: dict[int, int] = {}
    queue: deque[int] = deque()
    for entry in entries:
        if entry in component and component[entry] not in distance:
            distance[component[entry]] = 0
            queue.append(component[entry])
    while queue:
        c = queue.popleft()
        for nxt in condensed.get(c, ()):
            if nxt not in distance:
                distance[nxt] = distance[c] + 1
                queue.append(nxt)
    return {f: (1.0 / (1 + distance[c]) if c in distance else 0.0) for f, c in component.items()}
