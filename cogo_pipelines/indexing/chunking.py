"""Cut files into the retrieval units of the ``code_chunks`` table (DESIGN.md §3 "Chunks").

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

This module picks the chunker by the file's language and keeps the promise that bad input never
raises; each kind's cut lives in its own module (``code_chunks``, ``markdown_chunks``,
``sql_chunks``, ``text_chunks``) and the ``Chunk`` itself in ``chunk``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cogo_pipelines.indexing import sfc
from cogo_pipelines.indexing.chunk import MAX_CHUNK_CHARS, Chunk
from cogo_pipelines.indexing.code_chunks import chunk_code, markup_chunks
from cogo_pipelines.indexing.markdown_chunks import chunk_markdown
from cogo_pipelines.indexing.model import FileExtraction, SourceFile
from cogo_pipelines.indexing.sql_chunks import chunk_sql
from cogo_pipelines.indexing.text_chunks import chunk_text, decode

MAX_FILE_BYTES = 1_000_000  # larger files (generated bundles, dumps) get one head chunk


@dataclass
class FileChunks:
    path: str
    chunks: list[Chunk]
    error: str | None = None


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
                chunks += markup_chunks(file.path, data)
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
