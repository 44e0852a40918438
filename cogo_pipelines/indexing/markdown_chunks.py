"""Markdown chunks: one chunk per ``#``/``##`` section (a large ``##`` is cut again at ``###``),
each with its header chain ``# Title > ## Section > ### Sub``.

Apart from the code chunker because a document's units are its headings, not symbols: the
chain says where a section sits, as a symbol's qualified name does for code.
"""

from __future__ import annotations

import re

from cogo_pipelines.indexing.chunk import MAX_CHUNK_CHARS, Chunk
from cogo_pipelines.indexing.text_chunks import split_text

# what a heading needs (a `#`, or a setext underline `===`/`---`, in a quote or list too): a file
# without any has no heading, and parsing it (markdown-it: ~20 µs a block) finds none
_MAY_HEAD = re.compile(r"#|^[ \t>]*(?:=+|-+)[ \t]*$", re.MULTILINE)


def chunk_markdown(path: str, text: str) -> list[Chunk]:
    from markdown_it import MarkdownIt

    lines = text.splitlines(keepends=True)
    tokens = MarkdownIt().parse(text) if _MAY_HEAD.search(text) else []
    headings = [
        (tok.map[0], int(tok.tag[1]), tokens[i + 1].content.strip())
        for i, tok in enumerate(tokens)
        if tok.type == "heading_open" and tok.map
    ]
    if not headings:  # cut as any large section is: one chunk of a whole headingless file was unbounded
        body = text.strip()
        whole = Chunk(path, "markdown", body, 1, max(1, len(lines)))
        return (split_text(whole) if len(body) > MAX_CHUNK_CHARS else [whole]) if body else []
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
        chunks.extend(split_text(chunk) if len(body) > MAX_CHUNK_CHARS else [chunk])

    first = headings[0][0]
    emit(0, first, None, None)
    bounds = [i for i, (_, level, _) in enumerate(headings) if level <= 2]
    if headings[0][1] > 2:
        bounds.insert(0, 0)
    for n, hi in enumerate(bounds):
        after = bounds[n + 1] if n + 1 < len(bounds) else len(headings)
        end_line = headings[after][0] if after < len(headings) else len(lines)
        start_line = headings[hi][0]
        section = headings[hi:after]  # in document order: a slice, not a scan of every heading (quadratic)
        size = sum(len(x) for x in lines[start_line:end_line])
        cuts = [h for h in section if h is section[0] or (size > MAX_CHUNK_CHARS and h[1] == 3)]
        for m, (line, lv, t) in enumerate(cuts):
            stop = cuts[m + 1][0] if m + 1 < len(cuts) else end_line
            for inner_line, inner_lv, inner_t in section:  # keep the chain in step with skipped headings
                if inner_line < line and (inner_lv, inner_t) not in stack:
                    chain_at(inner_lv, inner_t)
            emit(line, stop, chain_at(lv, t), t)
    return chunks
