"""The chunk, the retrieval unit stored in the ``code_chunks`` table (DESIGN.md §3 "Chunks"):
where it lives, the one-line ``header`` it carries, and the text that is embedded for it.

Kept apart from the chunkers (``chunking`` and the per-kind modules) because the store and
search side (``store.chunk_writes``, ``store.knowledge``, ``store.fusion``) handles chunks and
splits identifiers into words but never cuts a file: importing this module loads no parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CHUNK_FORMAT = 1  # bump when the chunk or embed text changes: stored chunks of older formats are redone
MAX_CHUNK_CHARS = 4000  # a chunk larger than this is split (about 100 lines of code)
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

