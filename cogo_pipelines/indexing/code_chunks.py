"""Code chunks: one chunk per symbol, a class larger than the budget as an outline chunk plus
one chunk per member, a symbol still larger cut on AST child boundaries (never mid-token), and
module-level code outside every symbol as ``module`` chunks so nothing is unsearchable.

Apart from the other chunkers because only code has symbols and a syntax tree to cut along;
a component's template (``.vue``, ``.svelte``, ``.astro``) is chunked here too, as text beside
its scripts.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import replace

from cogo_pipelines.indexing import sfc
from cogo_pipelines.indexing.chunk import MAX_CHUNK_CHARS, Chunk
from cogo_pipelines.indexing.model import Symbol
from cogo_pipelines.indexing.text_chunks import decode, split_text

CONTAINER_KINDS = {"class", "interface", "enum", "namespace", "module"}
SPLIT_DEPTH = 64  # AST levels a large symbol is cut along before lines are (``_split_bytes``)
_NEWLINE = re.compile(b"\n")


class _Source:
    """Bytes of a file with byte -> line lookups."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.newlines = [m.start() for m in _NEWLINE.finditer(data)]

    def line(self, byte: int) -> int:
        return bisect.bisect_left(self.newlines, byte) + 1

    def text(self, start: int, end: int) -> str:
        return decode(self.data[start:end])[0]


def markup_chunks(path: str, data: bytes) -> list[Chunk]:
    """A component's template as text chunks (its scripts are chunked as code)."""
    src = _Source(data)
    out: list[Chunk] = []
    for a, b in sfc.markup_spans(data):
        chunk = Chunk(path, "text", src.text(a, b).strip("\n"), src.line(a), src.line(max(a, b - 1)))
        out.extend(split_text(chunk) if len(chunk.content) > MAX_CHUNK_CHARS else [chunk])
    return out


def chunk_code(path: str, data: bytes, symbols: list[Symbol], tree=None) -> list[Chunk]:
    src = _Source(data)
    symbols = [
        replace(s, start_byte=(lead := _leading_start(src, s.start_byte)), start_line=src.line(lead))
        for s in symbols
    ]
    by_parent: dict[str | None, list[Symbol]] = {}
    names = {s.qualified_name for s in symbols}
    for s in sorted(symbols, key=lambda s: (s.start_byte, -s.end_byte)):
        by_parent.setdefault(s.parent if s.parent in names else None, []).append(s)
    chunks: list[Chunk] = []
    top = _outermost(by_parent.get(None, []))
    for sym in top:
        chunks.extend(_symbol_chunks(path, src, sym, by_parent, tree))
    chunks.extend(_module_chunks(path, src, top, tree, [s.qualified_name for s in symbols]))
    return sorted(chunks, key=lambda c: (c.start_line, c.part))


_COMMENT_LINE = re.compile(rb"^\s*(//|/\*|\*|@)")
_PREFIX = re.compile(
    rb"^\s*((export|default|declare|abstract|async|public|private|protected|static|readonly)\s+)*$"
)


def _leading_start(src: _Source, start: int) -> int:
    """Widen a symbol to the start of its line (``export``…) and its doc comment/decorators above."""
    line_start = src.data.rfind(b"\n", 0, start) + 1
    if not _PREFIX.match(src.data[line_start:start]):
        return start
    while line_start > 0:
        prev = src.data.rfind(b"\n", 0, line_start - 1) + 1
        if not _COMMENT_LINE.match(src.data[prev:line_start]):
            break
        line_start = prev
    return line_start


def _outermost(symbols: list[Symbol]) -> list[Symbol]:
    """Drop symbols nested in an earlier one (e.g. a const inside an exported function)."""
    kept: list[Symbol] = []
    for s in symbols:
        if kept and s.start_byte >= kept[-1].start_byte and s.end_byte <= kept[-1].end_byte:
            continue
        kept.append(s)
    return kept


def _symbol_chunks(path: str, src: _Source, sym: Symbol, by_parent, tree) -> list[Chunk]:
    size = sym.end_byte - sym.start_byte
    base = {"symbol": sym.qualified_name, "kind": sym.kind, "signature": sym.signature}
    if size <= MAX_CHUNK_CHARS:
        return [
            Chunk(path, "code", src.text(sym.start_byte, sym.end_byte), sym.start_line, sym.end_line, **base)
        ]
    members = _outermost(by_parent.get(sym.qualified_name, []))
    if members and sym.kind in CONTAINER_KINDS:
        outline, cursor = [], sym.start_byte
        for m in members:
            outline.append(src.text(cursor, m.start_byte))
            outline.append((m.signature or m.name) + " { … }")
            cursor = m.end_byte
        outline.append(src.text(cursor, sym.end_byte))
        head = Chunk(path, "code", "".join(outline), sym.start_line, sym.end_line, **base)
        out = split_text(head) if len(head.content) > MAX_CHUNK_CHARS else [head]
        for m in members:
            out.extend(_symbol_chunks(path, src, m, by_parent, tree))
        return out
    ranges = _split_bytes(_node_at(tree, sym.start_byte, sym.end_byte), sym.start_byte, sym.end_byte, src)
    return [
        Chunk(path, "code", src.text(a, b), src.line(a), src.line(max(a, b - 1)), part=i, **base)
        for i, (a, b) in enumerate(ranges)
    ]


def _node_at(tree, start: int, end: int):
    if tree is None:
        return None
    node = tree.root_node.descendant_for_byte_range(start, max(start, end - 1))
    while node is not None and node.parent is not None and (node.end_byte - node.start_byte) < (end - start):
        node = node.parent
    return node


def _split_bytes(node, start: int, end: int, src: _Source, depth: int = 0) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces within the budget at AST child boundaries; lines as a last
    resort, also below ``SPLIT_DEPTH`` levels (generated code nests an expression thousands
    deep: `a + b + …`, and one Python frame a level ended in a RecursionError)."""
    if depth > SPLIT_DEPTH:
        return _split_lines(start, end, src)
    children = [
        c for c in (node.children if node is not None else []) if c.end_byte > start and c.start_byte < end
    ]
    if not children:
        return _split_lines(start, end, src)
    pieces: list[tuple[int, int]] = []
    cur: list[int] | None = None
    for child in children:
        a, b = max(child.start_byte, start), min(child.end_byte, end)
        if b - a > MAX_CHUNK_CHARS:  # recurse; small neighbours join its first/last piece
            sub = _split_bytes(child, a, b, src, depth + 1) if child.child_count else _split_lines(a, b, src)
            if cur and sub and sub[0][1] - cur[0] <= MAX_CHUNK_CHARS:
                sub[0] = (cur[0], sub[0][1])
            elif cur:
                pieces.append((cur[0], cur[1]))
            cur = list(sub.pop()) if sub else None
            pieces.extend(sub)
        elif cur and b - cur[0] > MAX_CHUNK_CHARS:
            pieces.append((cur[0], cur[1]))
            cur = [a, b]
        elif cur:
            cur[1] = b
        else:
            cur = [a, b]
    if cur:
        pieces.append((cur[0], cur[1]))
    return [p for p in pieces if src.data[p[0] : p[1]].strip()]


def _split_lines(start: int, end: int, src: _Source) -> list[tuple[int, int]]:
    pieces, a = [], start
    while a < end:
        b = min(end, a + MAX_CHUNK_CHARS)
        if b < end:
            nl = src.data.rfind(b"\n", a, b)
            b = nl + 1 if nl > a else b
        pieces.append((a, b))
        a = b
    return pieces


def _module_chunks(path: str, src: _Source, top: list[Symbol], tree, outline: list[str]) -> list[Chunk]:
    """Code outside every symbol (imports, top-level statements, file comments)."""
    starts = [s.start_byte for s in top]  # in order
    reach = list(itertools.accumulate((s.end_byte for s in top), max))  # furthest end so far

    def outside(a: int, b: int) -> bool:
        """No symbol overlaps a..b: none of those starting before b ends after a."""
        i = bisect.bisect_left(starts, b)
        return i == 0 or reach[i - 1] <= a

    if tree is not None:
        spans = [
            (c.start_byte, c.end_byte) for c in tree.root_node.children if outside(c.start_byte, c.end_byte)
        ]
    else:  # no parser: the gaps between symbols
        spans, cursor = [], 0
        for s, e in ((s.start_byte, s.end_byte) for s in top):
            spans.append((cursor, s))
            cursor = max(cursor, e)
        spans.append((cursor, len(src.data)))
    spans = [(a, b) for a, b in spans if src.data[a:b].strip()]
    pieces: list[tuple[int, int]] = []
    for a, b in spans:
        if pieces and b - pieces[-1][0] <= MAX_CHUNK_CHARS and outside(pieces[-1][1], a):
            pieces[-1] = (pieces[-1][0], b)
        elif b - a > MAX_CHUNK_CHARS:
            pieces.extend(_split_bytes(_node_at(tree, a, b), a, b, src))
        else:
            pieces.append((a, b))
    chunks = [
        Chunk(
            path,
            "module",
            src.text(a, b).strip("\n"),
            src.line(a),
            src.line(max(a, b - 1)),
            part=i,
            extra_terms=outline,
        )
        for i, (a, b) in enumerate(pieces)
    ]
    if not chunks and not top:  # empty file: still findable by its path
        chunks = [Chunk(path, "module", "", 1, 1, extra_terms=outline)]
    return chunks
