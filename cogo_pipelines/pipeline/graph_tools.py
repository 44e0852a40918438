"""Questions about the graph: who calls this, what does it call, how does A reach B, what
depends on this change, what does this file import.

Each answer marks how sure it is: ``certain`` edges are resolved through imports and declared
types (checked against the TypeScript compiler, docs/RAG.md), ``maybe`` edges are calls whose
receiver type is not known (``JobStore.update`` on a value typed by the interface is a maybe-call
of every class that implements it), ``observed`` edges come from runtime traces. Walks are
depth-limited and capped, so an answer stays small whatever the repository.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from cogo_pipelines.pipeline.knowledge_tools import (
    MAX_NAME_CHARS,
    Resolved,
    ToolInputError,
    check_k,
    check_repo,
    check_text,
    node_ref,
    resolve,
    several_repos,
)
from cogo_pipelines.store import code_graph

CALL_KINDS = ("calls", "renders", "runtime")
IMPACT_KINDS = ("calls", "renders", "references", "imports", "extends", "implements")
MODULE_KINDS = ("import", "type", "reexport", "dynamic", "require", "reference", "maybe")
DEFAULT_LIMIT = 30
MAX_LIMIT = 200
MAX_DEPTH = 10
MAX_VISITED = 20_000
MAX_TARGETS = 50
_NAMED = re.compile(r"[:#]|\.[A-Za-z]+$")  # path:Name, or a file name with an extension
_TEST_PATH = re.compile(r"(^|/)(__tests__|tests?|spec)/|[._-](test|spec)\.[a-z]+$")


def _confidence(edge: dict[str, Any]) -> str:
    if edge["kind"] == "runtime":
        return "observed"
    return edge["confidence"]


def _merge(found: dict[str, dict[str, Any]], node_id: str, edge: dict[str, Any], **extra: Any) -> None:
    """One entry per neighbour, the surest edge winning (certain > observed > maybe)."""
    order = {"certain": 0, "observed": 1, "maybe": 2}
    conf = _confidence(edge)
    entry = found.get(node_id)
    if entry is None or order.get(conf, 3) < order.get(entry["confidence"], 3):
        found[node_id] = {"confidence": conf, **extra}
    if edge.get("runtime_count"):
        found[node_id]["runtime_count"] = max(found[node_id].get("runtime_count", 0), edge["runtime_count"])


def _listing(conn: psycopg.Connection, found: dict[str, dict[str, Any]], limit: int,
             show_repo: bool) -> tuple[list[dict[str, Any]], int]:
    nodes = code_graph.nodes(conn, found)
    order = {"certain": 0, "observed": 1, "maybe": 2}
    rows = sorted(((nodes[i], f) for i, f in found.items() if i in nodes),
                  key=lambda p: (order.get(p[1]["confidence"], 3), p[0]["path"], p[0]["start_line"] or 0))
    return [{**node_ref(n, repo=show_repo), **f} for n, f in rows[:limit]], len(rows)


def _owners(conn: psycopg.Connection, node: dict[str, Any]) -> list[str]:
    """The class that declares a method and the types it extends or implements: a call
    ``x.m()`` on a value of any of them may land in this method."""
    if node["kind"] != "method":
        return []
    parents = [e["src_id"] for e in code_graph.edges_into(conn, [node["id"]], ["contains"])]
    owners = list(parents)
    for parent in parents:
        owners += [e["dst_id"] for e in code_graph.edges_out_of(conn, parent, ["extends", "implements"])]
    return owners


def _subject(node: dict[str, Any], resolved: Resolved, show_repo: bool) -> dict[str, Any]:
    out = {**node_ref(node, repo=show_repo), "id": node["id"]}
    if resolved.others:
        out["also_named"] = len(resolved.others)
    return out


def callers(conn: psycopg.Connection, symbol: str, repo: str | None = None,
            limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Who calls (or renders) ``symbol``: certain and observed edges into it, and maybe-calls
    made through the interface or base class it implements."""
    repo = check_repo(conn, repo)
    limit = check_k(limit, maximum=MAX_LIMIT, what="limit")
    resolved = resolve(conn, symbol, repo)
    node = resolved.node
    found: dict[str, dict[str, Any]] = {}
    for edge in code_graph.edges_into(conn, [node["id"]], CALL_KINDS):
        _merge(found, edge["src_id"], edge)
    name = node["name"]
    for edge in code_graph.edges_into(conn, _owners(conn, node), ["calls"]):
        if edge["confidence"] == "maybe" and (edge["detail"] or "").rsplit(".", 1)[-1] == name:
            _merge(found, edge["src_id"], edge, via=edge["detail"])
    show_repo = repo is None and several_repos(conn)
    listed, total = _listing(conn, found, limit, show_repo)
    out = {"symbol": _subject(node, resolved, show_repo), "callers": listed, "total": total}
    if total > len(listed):
        out["truncated"] = True
    return out


def callees(conn: psycopg.Connection, symbol: str, repo: str | None = None,
            limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """What ``symbol`` calls: symbols of the repo (certain, observed, or maybe with the call as
    written), and the calls that name nothing in the repo (built-ins, packages) by name only."""
    repo = check_repo(conn, repo)
    limit = check_k(limit, maximum=MAX_LIMIT, what="limit")
    resolved = resolve(conn, symbol, repo)
    node = resolved.node
    edges = code_graph.edges_out_of(conn, node["id"], CALL_KINDS)
    known = code_graph.nodes(conn, [e["dst_id"] for e in edges])
    found: dict[str, dict[str, Any]] = {}
    outside: list[str] = []
    for edge in edges:
        if edge["dst_id"] in known:
            extra = {"via": edge["detail"]} if edge["confidence"] == "maybe" and edge["detail"] else {}
            _merge(found, edge["dst_id"], edge, **extra)
        else:
            outside.append(edge["detail"] or edge["dst_id"].removeprefix("unresolved:"))
    show_repo = repo is None and several_repos(conn)
    listed, total = _listing(conn, found, limit, show_repo)
    out = {"symbol": _subject(node, resolved, show_repo), "callees": listed, "total": total}
    if total > len(listed):
        out["truncated"] = True
    if outside:
        out["outside_repo"] = sorted(set(outside))[:20]
    return out


def _same_repo(source, target) -> tuple[dict[str, Any], dict[str, Any]]:
    """The best source and target symbols of one repo: calls never cross repos, and by name alone
    (no repo given) the best ``main`` could be one repo's and the target another's ("no call
    path" for a chain that exists)."""
    targets = [target.node, *target.others]
    for start in (source.node, *source.others):
        goal = next((t for t in targets if t["repo"] == start["repo"]), None)
        if goal is not None:
            return start, goal
    raise ToolInputError(f"{source.node['qualified_name']!r} is in repo {source.node['repo']!r} and "
                         f"{target.node['qualified_name']!r} in {target.node['repo']!r}: calls never cross repos")


def _reaches(conn: psycopg.Connection, source_id: str, target_id: str, max_depth: int) -> bool:
    """Whether calls lead from ``source_id`` to ``target_id`` within ``max_depth`` (the walk back
    from the target, at most ``MAX_VISITED`` symbols): to tell "none this way, but the other
    way" apart."""
    return source_id in code_graph.reaching(conn, [target_id], CALL_KINDS, max_depth=max_depth,
                                            max_visited=MAX_VISITED)


def call_path(conn: psycopg.Connection, source: str, target: str, repo: str | None = None,
              max_depth: int = 6) -> dict[str, Any]:
    """The shortest chain of calls from ``source`` to ``target`` (at most ``max_depth`` calls),
    walked backwards from the target along the index on edge destinations."""
    repo = check_repo(conn, repo)
    max_depth = check_k(max_depth, maximum=MAX_DEPTH, what="max_depth")
    start, goal = _same_repo(resolve(conn, source, repo), resolve(conn, target, repo))
    show_repo = repo is None and several_repos(conn)
    ends = {"from": node_ref(start, repo=show_repo), "to": node_ref(goal, repo=show_repo)}
    if start["id"] == goal["id"]:
        return {**ends, "path": [node_ref(start, repo=show_repo)], "calls": 0}
    next_hop: dict[str, tuple[str, str]] = {}  # caller -> (callee towards the goal, confidence)
    frontier, depth = [goal["id"]], 0
    while frontier and depth < max_depth and start["id"] not in next_hop and len(next_hop) < MAX_VISITED:
        depth += 1
        reached = []
        for edge in code_graph.edges_into(conn, frontier, CALL_KINDS):
            src = edge["src_id"]
            if src != goal["id"] and src not in next_hop:
                next_hop[src] = (edge["dst_id"], _confidence(edge))
                reached.append(src)
            elif src in next_hop and next_hop[src][0] == edge["dst_id"] and _confidence(edge) == "certain":
                next_hop[src] = (edge["dst_id"], "certain")
        frontier = reached
    if start["id"] not in next_hop:
        note = f"no call path of at most {max_depth} calls"
        if _reaches(conn, goal["id"], start["id"], max_depth):
            note += f"; there is one the other way, from {goal['qualified_name'] or goal['path']}"
        return {**ends, "path": None, "note": note}
    chain, steps, current = [start["id"]], [], start["id"]
    while current != goal["id"]:
        current, conf = next_hop[current]
        chain.append(current)
        steps.append(conf)
    nodes = code_graph.nodes(conn, chain)
    path = [node_ref(nodes[chain[0]], repo=show_repo)]
    for node_id, conf in zip(chain[1:], steps, strict=True):
        path.append({**node_ref(nodes[node_id], repo=show_repo), "confidence": conf})
    return {**ends, "path": path, "calls": len(steps), "certain": all(s == "certain" for s in steps)}


def _seeds(conn: psycopg.Connection, target: str, repo: str | None) -> tuple[list[dict[str, Any]], str]:
    """The nodes a changed path or symbol stands for: a file is its file node and every symbol
    in it, a folder every file below it; a class also its members."""
    files = code_graph.file_node(conn, target, repo)
    if not files and "/" in target and not _NAMED.search(target):
        files = code_graph.files_under(conn, target, repo)  # a folder: every file below it
    if files:
        out = []
        for f in files:
            out += code_graph.file_symbols(conn, f["repo"], f["path"])
        return out, "file"
    node = resolve(conn, target, repo).node
    prefix = node["qualified_name"] + "."
    members = [s for s in code_graph.file_symbols(conn, node["repo"], node["path"])
               if s["qualified_name"].startswith(prefix)]
    return [node, *members], "symbol"


def impact(conn: psycopg.Connection, targets: list[str] | str, repo: str | None = None,
           max_depth: int = 4, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """What depends on the given files or symbols: everything that calls, renders, references,
    imports, extends or implements them, transitively (``max_depth`` steps), grouped by file,
    nearest first; which entries and which test files it reaches."""
    repo = check_repo(conn, repo)
    max_depth = check_k(max_depth, maximum=MAX_DEPTH, what="max_depth")
    limit = check_k(limit, maximum=MAX_LIMIT, what="limit")
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list) or not targets:
        raise ToolInputError("give at least one changed file path or symbol name")
    if len(targets) > MAX_TARGETS:
        raise ToolInputError(f"at most {MAX_TARGETS} paths or symbols at once (got {len(targets)})")
    seeds: dict[str, dict[str, Any]] = {}
    for target in targets:
        nodes, _ = _seeds(conn, check_text(target, "path or symbol", MAX_NAME_CHARS), repo)
        seeds.update({n["id"]: n for n in nodes})
    depth_of = code_graph.reaching(conn, seeds, IMPACT_KINDS, max_depth=max_depth, max_visited=MAX_VISITED)
    affected = code_graph.nodes(conn, [i for i in depth_of if i not in seeds])
    by_file: dict[tuple[str, str], dict[str, Any]] = {}
    for node_id, node in affected.items():
        key = (node["repo"], node["path"])
        entry = by_file.setdefault(key, {"path": node["path"], "repo": node["repo"], "depth": depth_of[node_id],
                                         "symbols": [], "entry": False, "rank": 0.0})
        entry["depth"] = min(entry["depth"], depth_of[node_id])
        entry["rank"] = max(entry["rank"], node["rank"] or 0.0)
        if node["kind"] == "file":
            entry["entry"] = (node["entry_weight"] or 0) >= 1.0
        else:
            entry["symbols"].append(node["qualified_name"])
    seed_files = {(n["repo"], n["path"]) for n in seeds.values()}
    show_repo = repo is None and several_repos(conn)
    files = sorted(by_file.values(), key=lambda e: (e["depth"], -e["rank"], e["path"]))
    listed = []
    for e in files[:limit]:
        item = {"path": e["path"], "depth": e["depth"], "symbols": sorted(e["symbols"])[:8]}
        if len(e["symbols"]) > 8:
            item["more_symbols"] = len(e["symbols"]) - 8
        if show_repo:
            item["repo"] = e["repo"]
        listed.append(item)
    out = {"changed": sorted(p for _, p in seed_files), "changed_symbols": sum(1 for n in seeds.values()
                                                                               if n["kind"] != "file"),
           "affected_files": listed, "total_files": len(files),
           "entries_reached": sorted(e["path"] for e in files if e["entry"]),
           "tests_reached": sorted(e["path"] for e in files if _TEST_PATH.search(e["path"]))[:20],
           "max_depth": max_depth}
    if len(files) > len(listed):
        out["truncated"] = True
    return out


def module_graph(conn: psycopg.Connection, path: str, repo: str | None = None,
                 limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """The files a file imports (with the import's kind) and the files that import it, at most
    ``limit`` of each (with their counts when cut: a hub that 3,000 files import was a 131 kB
    answer)."""
    limit = check_k(limit, maximum=MAX_LIMIT, what="limit")
    repo = check_repo(conn, repo)
    path = check_text(path, "path", MAX_NAME_CHARS).removeprefix("./")
    files = code_graph.file_node(conn, path, repo)
    if not files:
        raise ToolInputError(f"no indexed file {path!r}" + (f" in repo {repo!r}" if repo else "")
                             + "; paths are relative to the repo root, e.g. src/index.ts")
    file = files[0]
    imports, unresolved = [], []
    for row in code_graph.imports_of(conn, file["repo"], file["path"]):
        if row["detail"] not in MODULE_KINDS:
            unresolved.append({"specifier": row["dst_id"].removeprefix("unresolved:"), "why": row["detail"]})
        elif row["dst_path"] is None:
            unresolved.append({"specifier": row["dst_id"].removeprefix("unresolved:"), "kind": row["detail"]})
        else:
            imports.append({"path": row["dst_path"], "kind": row["detail"]}
                           | ({"confidence": "maybe"} if row["confidence"] == "maybe" else {}))
    edges = code_graph.edges_into(conn, [file["id"]], ["imports"])
    sources = code_graph.nodes(conn, [e["src_id"] for e in edges])
    importers = sorted(({"path": sources[e["src_id"]]["path"], "kind": e["detail"]}
                        for e in edges if e["src_id"] in sources), key=lambda d: (d["path"], d["kind"] or ""))
    out: dict[str, Any] = {"path": file["path"]}
    if repo is None and several_repos(conn):
        out["repo"] = file["repo"]
    out.update(imports=imports[:limit], importers=importers[:limit], entry=(file["entry_weight"] or 0) >= 1.0)
    for key, listed in (("imports", imports), ("importers", importers)):
        if len(listed) > limit:
            out[f"{key}_total"] = len(listed)
    if unresolved:
        out["unresolved"] = unresolved[:20]
    return out
