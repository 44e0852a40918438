"""Cut files into the retrieval units of ``code_chunks`` (DESIGN.md §3 "Chunks").

- code: one chunk per symbol; a class larger than the budget becomes an outline chunk plus one
  chunk per member; a symbol still larger is cut on AST child boundaries (never mid-token);
  module-level code outside every symbol becomes ``module`` chunks so nothing is unsearchable.
- markdown: one chunk per ``#``/``##`` section (a large ``##`` is cut again at ``###``), each
  with its header chain ``# Title > ## Section > ### Sub``.
- SQL: one chunk per ``create`` statement with its object name (``sqlparse`` splits, so
  dollar-quoted bodies with semicolons stay whole); runs of small other statements are merged.

Every chunk carries a one-line ``header`` (path + name + signature) that is embedded and
keyword-indexed with the body, so a chunk knows where it lives. Bad input never raises:
``chunk_file`` returns the chunks it could make and, when something was off, a note that the
caller records as the file's error.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field, replace

from cogo_pipelines.indexing import sfc
from cogo_pipelines.indexing.model import FileExtraction, SourceFile, Symbol
from cogo_pipelines.indexing.sources import looks_binary

CHUNK_FORMAT = 1  # bump when the chunk or embed text changes: stored chunks of older formats are redone
MAX_CHUNK_CHARS = 4000  # a chunk larger than this is split (about 100 lines of code)
MAX_FILE_BYTES = 1_000_000  # larger files (generated bundles, dumps) get one head chunk
CONTAINER_KINDS = {"class", "interface", "enum", "namespace", "module"}
# identifier -> words (``computeLeaseExpiry`` → compute, Lease, Expiry; ``HTTPServer`` → HTTP, Server):
# the one word split of the indexed text, the embedded text and the fusion's name matching
IDENTIFIER_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


@dataclass
class Chunk:
    path: str
    chunk_type: str  # code | module | markdown | sql | text
    content: str
    start_line: int
    end_line: int
    symbol: str | None = None
    kind: str | None = None
    signature: str | None = None
    header_chain: str | None = None
    object_name: str | None = None
    part: int = 0
    extra_terms: list[str] = field(default_factory=list)  # keyword-only context (e.g. a file outline)

    @property
    def header(self) -> str:
        if self.chunk_type == "markdown":
            label = self.header_chain or "(preamble)"
        elif self.chunk_type == "sql":
            label = f"{self.kind or 'statement'} {self.object_name or ''}".strip()
        elif self.symbol:
            label = f"{self.kind or 'symbol'} {self.symbol}"
            if self.signature:
                label += f": {self.signature}"
        else:
            label = self.chunk_type
        return f"{self.path} | {label}"

    def embed_text(self) -> str:
        """Header, the names in plain words, then the body.

        The model reads only the first 256 word pieces and knows nothing of ``ZodObject`` or
        ``resolveResponse.ts`` beyond their sub-words, so where and what a chunk is come first,
        also spelled as words (``zod object``, ``resolve response``).
        """
        return f"{self.header}\n{self.words()}\n{self.content}"

    def words(self) -> str:
        """The chunk's name and where it lives (folder and file name, no extension) as lower-case words."""
        stem = self.path.rsplit(".", 1)[0] if "/" not in self.path.rsplit(".", 1)[-1] else self.path
        stem = "/".join(stem.split("/")[-2:])  # the deepest folder and the file name say the most
        name = self.symbol or self.object_name or self.header_chain or ""
        return " ".join(IDENTIFIER_PARTS.findall(f"{name} {self.kind or ''} in {stem}")).lower()


@dataclass
class FileChunks:
    path: str
    chunks: list[Chunk]
    error: str | None = None


def decode(data: bytes) -> tuple[str, str | None]:
    """Text of a file and a note when it was not clean UTF-8 (bad bytes become U+FFFD)."""
    try:
        text, note = data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        text, note = (
            data.decode("utf-8", errors="replace"),
            f"not valid UTF-8 ({exc.reason} at byte {exc.start}); undecodable bytes replaced",
        )
    text = text.removeprefix("\ufeff")
    if "\x00" in text:  # Postgres text cannot hold NUL: each becomes U+FFFD (as in graph rows)
        text = text.replace("\x00", "\ufffd")
        if looks_binary(data):  # a NUL inside a string of a source file is no problem to report
            note = "contains NUL bytes (binary?); NULs replaced"
    return text, note


def chunk_file(
    file: SourceFile, data: bytes, extraction: FileExtraction | None = None, tree=None
) -> FileChunks:
    """All chunks of one file; ``extraction``/``tree`` come from indexing/typescript for code."""
    text, note = decode(data)
    if len(data) > MAX_FILE_BYTES:
        head = text[:MAX_CHUNK_CHARS]
        chunk = Chunk(file.path, "text", head, 1, head.count("\n") + 1)
        return FileChunks(
            file.path,
            [chunk],
            f"file too large ({len(data)} bytes > {MAX_FILE_BYTES}); indexed its head only",
        )
    try:
        if file.language in ("typescript", "tsx", "javascript"):
            chunks = chunk_code(file.path, data, extraction.symbols if extraction else [], tree)
            if sfc.is_component(file.path):
                chunks += _markup_chunks(file.path, data)
            if extraction and extraction.error and not note:
                note = extraction.error
        elif file.language == "markdown":
            chunks = chunk_markdown(file.path, text)
        elif file.language == "sql":
            chunks, sql_note = chunk_sql(file.path, text)
            note = note or sql_note
        else:
            chunks = chunk_text(file.path, text)
    except Exception as exc:  # noqa: BLE001 — one odd file must not stop the run: keep it whole, say why
        chunks = chunk_text(file.path, text)
        note = f"chunking failed ({type(exc).__name__}: {exc}); indexed as plain text"
    if not chunks:
        chunks = [Chunk(file.path, "text", text.strip(), 1, max(1, text.count("\n")))]
    return FileChunks(file.path, chunks, note)


# ---- code -------------------------------------------------------------------------------


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


def _markup_chunks(path: str, data: bytes) -> list[Chunk]:
    """A component's template as text chunks (its scripts are chunked as code)."""
    src = _Source(data)
    out: list[Chunk] = []
    for a, b in sfc.markup_spans(data):
        chunk = Chunk(path, "text", src.text(a, b).strip("\n"), src.line(a), src.line(max(a, b - 1)))
        out.extend(_split_text(chunk) if len(chunk.content) > MAX_CHUNK_CHARS else [chunk])
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
        out = _split_text(head) if len(head.content) > MAX_CHUNK_CHARS else [head]
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


def _split_bytes(node, start: int, end: int, src: _Source) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces within the budget at AST child boundaries; lines as a last resort."""
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
            sub = _split_bytes(child, a, b, src) if child.child_count else _split_lines(a, b, src)
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


# ---- markdown ---------------------------------------------------------------------------


def chunk_markdown(path: str, text: str) -> list[Chunk]:
    from markdown_it import MarkdownIt

    lines = text.splitlines(keepends=True)
    tokens = MarkdownIt().parse(text)
    headings = [
        (tok.map[0], int(tok.tag[1]), tokens[i + 1].content.strip())
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open" and tok.map
    ]
    if not headings:
        body = text.strip()
        return [Chunk(path, "markdown", body, 1, max(1, len(lines)))] if body else []
    chunks: list[Chunk] = []
    stack: list[tuple[int, str]] = []

    def chain_at(level: int, title: str) -> str:
        nonlocal stack
        stack = [(lv, t) for lv, t in stack if lv < level] + [(level, title)]
        return " > ".join("#" * lv + " " + t for lv, t in stack)

    def emit(start: int, end: int, chain: str | None, symbol: str | None) -> None:
        body = "".join(lines[start:end]).strip()
        if not body:
            return
        chunk = Chunk(
            path, "markdown", body, start + 1, end, symbol=symbol, header_chain=chain, part=len(chunks)
        )
        chunks.extend(_split_text(chunk) if len(body) > MAX_CHUNK_CHARS else [chunk])

    first = headings[0][0]
    emit(0, first, None, None)
    bounds = [i for i, (_, level, _) in enumerate(headings) if level <= 2]
    if headings[0][1] > 2:
        bounds.insert(0, 0)
    for n, hi in enumerate(bounds):
        end_line = headings[bounds[n + 1]][0] if n + 1 < len(bounds) else len(lines)
        start_line = headings[hi][0]
        section = [h for h in headings if start_line <= h[0] < end_line]
        size = sum(len(x) for x in lines[start_line:end_line])
        cuts = [h for h in section if h is section[0] or (size > MAX_CHUNK_CHARS and h[1] == 3)]
        for m, (line, lv, t) in enumerate(cuts):
            stop = cuts[m + 1][0] if m + 1 < len(cuts) else end_line
            for inner_line, inner_lv, inner_t in section:  # keep the chain in step with skipped headings
                if inner_line < line and (inner_lv, inner_t) not in stack:
                    chain_at(inner_lv, inner_t)
            emit(line, stop, chain_at(lv, t), t)
    return chunks


def _split_text(chunk: Chunk) -> list[Chunk]:
    """Cut an oversized text chunk at blank lines (paragraphs), else at line ends."""
    out: list[Chunk] = []
    buf: list[str] = []
    line = start = chunk.start_line
    for para in chunk.content.split("\n\n"):
        for piece in [para[i : i + MAX_CHUNK_CHARS] for i in range(0, max(1, len(para)), MAX_CHUNK_CHARS)]:
            if buf and sum(len(b) + 2 for b in buf) + len(piece) > MAX_CHUNK_CHARS:
                body = "\n\n".join(buf)
                out.append(_replace(chunk, body, start, line - 1, len(out)))
                buf, start = [], line
            buf.append(piece)
            line += piece.count("\n")
        line += 2
    if buf:
        out.append(_replace(chunk, "\n\n".join(buf), start, chunk.end_line, len(out)))
    return out


def _replace(chunk: Chunk, content: str, start: int, end: int, part: int) -> Chunk:
    return Chunk(
        **{
            **chunk.__dict__,
            "content": content,
            "start_line": start,
            "end_line": max(start, end),
            "part": part,
        }
    )


def chunk_text(path: str, text: str) -> list[Chunk]:
    body = text.strip()
    if not body:
        return []
    chunk = Chunk(path, "text", body, 1, max(1, text.count("\n") + 1))
    return _split_text(chunk) if len(body) > MAX_CHUNK_CHARS else [chunk]


# ---- SQL --------------------------------------------------------------------------------

_OBJECT_TYPES = {
    "TABLE", "FUNCTION", "PROCEDURE", "INDEX", "VIEW", "TRIGGER", "POLICY", "TYPE", "EXTENSION",
    "SCHEMA", "SEQUENCE", "ROLE", "DOMAIN", "MATERIALIZED",
}  # fmt: skip
_SKIP = {
    "OR",
    "REPLACE",
    "TEMP",
    "TEMPORARY",
    "UNIQUE",
    "IF",
    "NOT",
    "EXISTS",
    "CONCURRENTLY",
    "UNLOGGED",
    "VIEW",
    "ONLY",
}


def sql_object(statement) -> tuple[str | None, str | None]:
    """(kind, name) of a DDL statement, e.g. ("create function", "claim_job")."""
    from sqlparse import tokens as T  # deferred, as in chunk_sql
    words = [t for t in statement.flatten() if not t.is_whitespace and t.ttype not in T.Comment]
    if (
        not words
        or words[0].ttype not in T.Keyword.DDL
        and words[0].normalized not in ("ALTER", "COMMENT", "GRANT")
    ):
        return (statement.get_type().lower() if statement.get_type() != "UNKNOWN" else None), None
    verb, kind, name = words[0].normalized.split()[0].lower(), None, []
    for tok in words[1:]:
        up = tok.normalized.upper()
        skip = all(w in _SKIP for w in up.split())
        if kind is None:
            if up in _OBJECT_TYPES:
                kind = up.lower() if up != "MATERIALIZED" else "materialized view"
            continue
        if skip and not name:
            continue
        if (
            tok.ttype in T.Name
            or tok.ttype in T.Literal.String.Symbol
            or (tok.ttype in T.Keyword and not name)
        ):
            name.append(tok.value.strip('"'))
        elif tok.value == "." and name:
            continue
        else:
            break
    return f"{verb} {kind}" if kind else verb, ".".join(name) or None


def chunk_sql(path: str, text: str) -> tuple[list[Chunk], str | None]:
    # deferred (with markdown_it in chunk_markdown): `cogo search` imports this module for
    # ``Chunk`` and should not pay for the parsers
    import sqlparse
    from sqlparse import tokens as T

    statements = sqlparse.parse(text)
    if any(tok.ttype in T.Error for st in statements for tok in st.flatten()):
        bad = next(tok for st in statements for tok in st.flatten() if tok.ttype in T.Error)
        return chunk_text(
            path, text
        ), f"SQL did not parse (unexpected {bad.value!r}, e.g. an unterminated quote); indexed as plain text"
    chunks: list[Chunk] = []
    offset = 0
    for st in statements:
        raw = str(st)
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        start = text.count("\n", 0, offset + lead) + 1
        offset += len(raw)
        if not body:
            continue
        end = start + body.count("\n")
        kind, name = sql_object(st)
        prev = chunks[-1] if chunks else None
        if (
            prev is not None and not prev.object_name and not name
            and len(prev.content) + len(body) < MAX_CHUNK_CHARS
        ):  # fmt: skip
            prev.content += "\n" + body
            prev.end_line = end
            continue
        chunks.append(
            Chunk(path, "sql", body, start, end, symbol=name, kind=kind, object_name=name, part=len(chunks))
        )
    return [
        c for big in chunks for c in (_split_text(big) if len(big.content) > MAX_CHUNK_CHARS else [big])
    ], None
