"""Plain text chunks: the text of a file's bytes, files with no structure of their own, and the
paragraph cut every chunker falls back to when a piece is still over ``MAX_CHUNK_CHARS``.

One module because code (templates, class outlines), markdown sections, SQL statements and
plain files all end in the same cut, and all read bytes through the same ``decode``.
"""

from __future__ import annotations

from cogo_pipelines.indexing.chunk import MAX_CHUNK_CHARS, Chunk
from cogo_pipelines.indexing.sources import looks_binary


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


def chunk_text(path: str, text: str) -> list[Chunk]:
    body = text.strip()
    if not body:
        return []
    chunk = Chunk(path, "text", body, 1, max(1, text.count("\n") + 1))
    return split_text(chunk) if len(body) > MAX_CHUNK_CHARS else [chunk]


def split_text(chunk: Chunk) -> list[Chunk]:
    """Cut an oversized text chunk at blank lines (paragraphs), else at line ends."""
    out: list[Chunk] = []
    buf: list[str] = []
    size = 0  # of ``buf`` joined, plus 2: kept as it grows (summed again per piece, a file of short
    # paragraphs cost ~1,000 additions a paragraph)
    line = start = chunk.start_line
    for para in chunk.content.split("\n\n"):
        for piece in [para[i : i + MAX_CHUNK_CHARS] for i in range(0, max(1, len(para)), MAX_CHUNK_CHARS)]:
            if buf and size + len(piece) > MAX_CHUNK_CHARS:
                body = "\n\n".join(buf)
                out.append(_replace(chunk, body, start, line - 1, len(out)))
                buf, start, size = [], line, 0
            buf.append(piece)
            size += len(piece) + 2
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
