"""Runtime traces -> caller->callee edge counts between symbols of the static graph.

Two inputs are understood:

* V8 CPU profiles (``node --cpu-prof`` writes ``*.cpuprofile``): every profile node names a
  function by ``url`` + 0-based ``lineNumber`` of its definition; the node's parent is its
  caller. A frame maps to the innermost symbol whose line range holds that line; frames of
  Node itself (no url, ``node:`` urls) are transparent, so a call through a builtin still
  links the two repo symbols around it. An edge counts the samples taken inside the callee
  (inclusive hits) under that caller; a symbol's count is the number of samples with the
  symbol on the stack.
* JSONL, one ``{"caller": "path:Qualified.name", "callee": "...", "count": n}`` per line.

Profile urls come from wherever the profile was taken (a CI checkout, a type-stripped temp
tree), so a url is mapped to a repo path by an explicit prefix map first, else by the longest
path suffix that names exactly one repo file (``.js``/``.mjs``/``.jsx`` may stand for the
``.ts``/``.mts``/``.tsx`` they were compiled from). Nothing is dropped silently: frames and ids
that map to no symbol are counted in ``unknown``; unreadable files and profiles that look like
another codebase (no frame maps, or named frames that disagree with the symbol names) become
``warnings`` and contribute nothing.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from cogo_pipelines.indexing.reading import printable_name, read_regular_text

TRACE_SUFFIXES = (".cpuprofile", ".json", ".jsonl", ".ndjson")
_COMPILED_FROM = {
    ".js": (".ts", ".tsx", ".js"),
    ".mjs": (".mts", ".mjs"),
    ".cjs": (".cts", ".cjs"),
    ".jsx": (".tsx", ".jsx"),
}
# Rows standing for a whole file: they take frames of top-level module code.
MODULE_KINDS = ("file", "module")
# Below this share of named frames agreeing with the symbol they map to, a profile is taken
# to be of another codebase that merely shares file names.
MIN_NAME_AGREEMENT = 0.5
# a trace is read whole; a long run's .cpuprofile is tens of MB
MAX_TRACE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SymbolSpan:
    """The part of an ``ast_nodes`` row the merge needs."""

    id: str
    path: str
    qualified_name: str
    start_line: int | None  # 1-based, inclusive; None for a module/file node
    end_line: int | None
    kind: str = ""

    @property
    def name(self) -> str:
        return self.qualified_name.rsplit(".", 1)[-1]


class SymbolIndex:
    """Symbols by path, answering 'which symbol encloses this line' and 'which id is path:name'."""

    def __init__(self, spans: Iterable[SymbolSpan]):
        self.by_path: dict[str, list[SymbolSpan]] = {}
        self.modules: dict[str, SymbolSpan] = {}
        self.by_qualified: dict[tuple[str, str], SymbolSpan] = {}
        for span in spans:
            if span.start_line is None or span.kind in MODULE_KINDS:
                self.modules.setdefault(span.path, span)
            else:
                self.by_path.setdefault(span.path, []).append(span)
            self.by_qualified.setdefault((span.path, span.qualified_name), span)
        for found in self.by_path.values():
            found.sort(key=lambda s: (s.start_line, -(s.end_line or s.start_line)))
        self._starts = {p: [s.start_line for s in found] for p, found in self.by_path.items()}
        self.paths = set(self.by_path) | set(self.modules)
        self._by_suffix: dict[tuple[str, ...], set[str]] = {}
        for path in self.paths:
            parts = PurePosixPath(path).parts
            for i in range(len(parts)):
                self._by_suffix.setdefault(parts[i:], set()).add(path)

    def enclosing(self, path: str, line: int) -> SymbolSpan | None:
        """Innermost symbol of ``path`` whose 1-based range holds ``line``."""
        found = self.by_path.get(path, [])
        best = None
        for span in found[: bisect.bisect_right(self._starts[path], line)] if found else []:
            end = span.end_line if span.end_line is not None else span.start_line
            if span.start_line <= line <= end and (best is None or span.start_line >= best.start_line):
                best = span
        return best

    def resolve_path(self, url: str, prefix_map: Mapping[str, str] | None = None) -> str | None:
        """The repo path a profile url stands for, or None (unknown or ambiguous)."""
        path = _url_path(url)
        if not path:
            return None
        for prefix, repo_prefix in sorted((prefix_map or {}).items(), key=lambda kv: -len(kv[0])):
            if path.startswith(prefix):
                mapped = repo_prefix + path[len(prefix) :]
                for candidate in _source_candidates(mapped.lstrip("/")):
                    if candidate in self.paths:
                        return candidate
        best: str | None = None
        best_len = 0
        for candidate in _source_candidates(path):
            parts = PurePosixPath(candidate).parts
            for i in range(len(parts)):
                suffix = parts[i:]
                matches = self._by_suffix.get(suffix)
                if not matches:
                    continue
                if len(suffix) > best_len:
                    best_len = len(suffix)
                    best = next(iter(matches)) if len(matches) == 1 else None
                break
        return best


def _url_path(url: str) -> str:
    if not url or url.startswith(("node:", "internal/", "wasm:", "evalmachine")):
        return ""
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in ("file", "http", "https"):
            return ""
        return unquote(parts.path)
    return url.split("?", 1)[0].replace("\\", "/")


def _source_candidates(path: str) -> list[str]:
    pure = PurePosixPath(path)
    alternatives = _COMPILED_FROM.get(pure.suffix)
    if not alternatives:
        return [str(pure)]
    return [str(pure.with_suffix(ext)) for ext in alternatives]


@dataclass
class RuntimeTrace:
    """What the traces say, in symbol ids, plus an account of what could not be used."""

    edges: Counter = field(default_factory=Counter)  # (caller_id, callee_id) -> count
    counts: Counter = field(default_factory=Counter)  # symbol id -> samples/calls
    unknown: Counter = field(default_factory=Counter)  # unmapped frame or id -> occurrences
    warnings: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # trace files that contributed

    def merge(self, other: RuntimeTrace) -> None:
        self.edges.update(other.edges)
        self.counts.update(other.counts)
        self.unknown.update(other.unknown)
        self.warnings.extend(other.warnings)
        self.sources.extend(other.sources)

    @property
    def unknown_total(self) -> int:
        return sum(self.unknown.values())

    def summary(self) -> dict:
        return {
            "sources": len(self.sources),
            "edges": len(self.edges),
            "symbols": len(self.counts),
            "unknown": self.unknown_total,
            "warnings": len(self.warnings),
        }


def parse_cpuprofile(
    profile: Mapping,
    index: SymbolIndex,
    *,
    source: str = "profile",
    prefix_map: Mapping[str, str] | None = None,
) -> RuntimeTrace:
    """Edges and counts from one V8 CPU profile (see the module docstring for the rules)."""
    trace = RuntimeTrace()
    nodes = profile.get("nodes") if isinstance(profile, Mapping) else None
    if not isinstance(nodes, list) or not nodes:
        trace.warnings.append(f"{source}: not a V8 CPU profile (no 'nodes' list)")
        return trace
    # a trace is outside input: a node of another shape is left out rather than trusted
    by_id = {n["id"]: n for n in nodes if isinstance(n, Mapping) and isinstance(n.get("id"), int)}
    parent: dict[int, int] = {}
    for node in by_id.values():
        children = node.get("children")
        for child in children if isinstance(children, list) else ():
            if isinstance(child, int):
                parent[child] = node["id"]

    symbol_of: dict[int, str | None] = {}
    named = agreeing = mapped = 0
    resolved_urls: dict[str, str | None] = {}
    for node_id, node in by_id.items():
        frame = node.get("callFrame")
        frame = frame if isinstance(frame, Mapping) else {}
        url = frame.get("url") if isinstance(frame.get("url"), str) else ""
        if url not in resolved_urls:
            resolved_urls[url] = index.resolve_path(url, prefix_map)
        path = resolved_urls[url]
        if path is None:
            symbol_of[node_id] = None
            if _url_path(url):
                trace.unknown[f"{url.split('?', 1)[0]}:{frame.get('functionName') or '(anonymous)'}"] += 1
            continue
        number = frame.get("lineNumber", -1)
        line = number + 1 if isinstance(number, int) else 0
        span = index.enclosing(path, line) if line > 0 else None
        span = span or index.modules.get(path)
        if span is None:
            symbol_of[node_id] = None
            trace.unknown[f"{path}:{frame.get('functionName') or '(module)'}@{line}"] += 1
            continue
        symbol_of[node_id] = span.id
        mapped += 1
        name = frame.get("functionName") or ""
        if name:
            named += 1
            agreeing += name == span.name or name.rsplit(".", 1)[-1] == span.name
    if mapped == 0:
        trace.warnings.append(f"{source}: no frame maps to a symbol of this repo (another codebase?)")
        return trace
    if named and agreeing / named < MIN_NAME_AGREEMENT:
        trace.warnings.append(
            f"{source}: only {agreeing} of {named} named frames match the symbol at their line; "
            f"looks like another codebase or a stale profile, ignored"
        )
        trace.unknown[f"{source}:(ignored profile)"] += mapped
        return trace

    # every node has one parent at most, so the nodes reached from the roots form a forest, and
    # one pass down it (then back up) gives every sum: walking up from each sampled node was
    # quadratic on a deep chain, and never ended on nodes that are each other's children
    below: dict[int, list[int]] = {}
    for child, of in parent.items():
        below.setdefault(of, []).append(child)
    order, stack = [], [nid for nid in reversed(list(by_id)) if nid not in parent]
    while stack:
        nid = stack.pop()
        order.append(nid)
        stack.extend(reversed(below.get(nid, ())))
    cyclic = len(by_id) - sum(1 for nid in order if nid in by_id)
    if cyclic:
        trace.warnings.append(f"{source}: {cyclic} nodes are children of each other in a cycle; left out")
        if not order:
            return trace
    hits = _sample_hits(profile, by_id)
    inclusive: Counter = Counter()
    for nid in reversed(order):  # a node's descendants come after it in ``order``
        inclusive[nid] += hits.get(nid, 0)
        if nid in parent:
            inclusive[parent[nid]] += inclusive[nid]
    # a symbol counts the samples of every stack it is on, once however often it recurs: the
    # sums below its topmost occurrences (``on_path``: the symbols between the root and the node)
    caller_of: dict[int, str | None] = {}  # the nearest ancestor that maps to a symbol (builtins are transparent)
    on_path: Counter = Counter()
    walk: list[tuple[int, bool]] = [(nid, False) for nid in reversed(order) if nid not in parent]
    while walk:
        nid, leaving = walk.pop()
        symbol = symbol_of.get(nid)
        if leaving:
            on_path[symbol] -= 1
            continue
        up = parent.get(nid)
        caller_of[nid] = (symbol_of.get(up) or caller_of.get(up)) if up is not None else None
        if symbol:
            if not on_path[symbol] and inclusive[nid]:
                trace.counts[symbol] += inclusive[nid]
            on_path[symbol] += 1
            walk.append((nid, True))
        walk.extend((child, False) for child in reversed(below.get(nid, ())))
    for node_id, callee in symbol_of.items():
        if not callee or not inclusive[node_id]:
            continue
        caller = caller_of.get(node_id)
        if caller and caller != callee:
            trace.edges[(caller, callee)] += inclusive[node_id]
    trace.sources.append(source)
    return trace


def _sample_hits(profile: Mapping, by_id: Mapping[int, Mapping]) -> Counter:
    """Samples per node: from ``samples`` when present, else each node's ``hitCount``."""
    samples = profile.get("samples")
    if isinstance(samples, list) and samples:
        return Counter(s for s in samples if isinstance(s, int) and s in by_id)
    return Counter({nid: n["hitCount"] for nid, n in by_id.items()
                    if isinstance(n.get("hitCount"), int) and n["hitCount"] > 0})


def parse_jsonl(lines: Iterable[str], index: SymbolIndex, *, source: str = "trace.jsonl") -> RuntimeTrace:
    """Edges from ``{"caller","callee","count"}`` lines with ``path:qualifiedName`` ids."""
    trace = RuntimeTrace()
    bad = used = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            caller_ref, callee_ref = str(record["caller"]), str(record["callee"])
            count = int(record.get("count", 1))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            bad += 1
            if bad <= 3:
                trace.warnings.append(f"{source}:{number}: not a {{caller, callee, count}} JSON line")
            continue
        ids = [_lookup(index, ref) for ref in (caller_ref, callee_ref)]
        for ref, found in zip((caller_ref, callee_ref), ids, strict=True):
            if found is None:
                trace.unknown[ref] += count
        if None in ids or count <= 0:
            continue
        used += 1
        caller, callee = ids
        trace.counts[callee] += count
        if caller != callee:
            trace.edges[(caller, callee)] += count
    if bad > 3:
        trace.warnings.append(f"{source}: {bad} malformed lines in all")
    if used == 0 and not bad:
        trace.warnings.append(f"{source}: no line names two symbols of this repo (another codebase?)")
    if used:
        trace.sources.append(source)
    return trace


def _lookup(index: SymbolIndex, ref: str) -> str | None:
    path, _, qualified = ref.rpartition(":")
    if not path:
        return None
    span = index.by_qualified.get((path, qualified))
    if span is None and qualified in ("", "(module)"):
        span = index.modules.get(path)
    return span.id if span else None


def load_trace_file(
    file: Path, index: SymbolIndex, *, prefix_map: Mapping[str, str] | None = None
) -> RuntimeTrace:
    """Parse one trace file by its content (a JSON object = profile, else JSONL)."""
    source = printable_name(file.name)  # it goes into warnings, the run's summary and the store
    try:
        text = read_regular_text(file, limit=MAX_TRACE_BYTES)  # a pipe named x.jsonl blocked the read
    except (OSError, UnicodeDecodeError) as exc:
        return RuntimeTrace(warnings=[f"{source}: unreadable ({type(exc).__name__}: {exc})"])
    stripped = text.lstrip()
    if stripped.startswith("{") and file.suffix != ".jsonl":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # nested past the decoder's stack: not a profile
            data = None
        if isinstance(data, dict) and "caller" not in data:
            return parse_cpuprofile(data, index, source=source, prefix_map=prefix_map)
    if stripped.startswith("{"):
        return parse_jsonl(text.splitlines(), index, source=source)
    return RuntimeTrace(warnings=[f"{source}: not JSON (neither a .cpuprofile nor JSONL); skipped"])


def trace_files(trace_dir: Path) -> list[Path]:
    if not trace_dir.is_dir():
        return []
    return sorted(p for p in trace_dir.rglob("*") if p.is_file() and p.suffix in TRACE_SUFFIXES)


def load_traces(
    paths: Iterable[Path], index: SymbolIndex, *, prefix_map: Mapping[str, str] | None = None
) -> RuntimeTrace:
    """Merge every trace file; a bad file only adds a warning."""
    total = RuntimeTrace()
    for file in paths:
        total.merge(load_trace_file(file, index, prefix_map=prefix_map))
    return total
