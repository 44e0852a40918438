"""A job's log file, read back in bounded memory: secrets scrubbed, a bounded tail, the summary.

A command's output streams straight to ``$COGO_HOME/artifacts/jobs/<id>.log`` (the runner never
holds it). Afterwards one pass over the file, 1 MB at a time, finds configured secret values,
keeps the last ``TAIL_BYTES`` and feeds each line to the test-summary scanner; a second pass
rewrites the file only when a secret was found. A 50 MB log therefore costs a few MB of memory
and stores at most ``TAIL_BYTES`` in the job's result (which says it was cut and how large the
whole log is), while the full log stays on disk.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from pathlib import Path

from cogo_pipelines.queue.handlers.summaries import MAX_LINE_CHARS, SummaryScanner
from cogo_pipelines.queue.textsafe import clean_text

CHUNK_BYTES = 1 << 20
TAIL_BYTES = 64 * 1024
TAIL_LINES = 2000  # the byte cap governs; enough lines for a test runner's whole failure report
MASK = b"***"


@dataclass
class LogDigest:
    log_bytes: int  # the whole log on disk, after scrubbing
    tail: str  # its last TAIL_LINES lines, at most TAIL_BYTES, storable in Postgres
    tail_truncated: bool  # the tail is not the whole log
    summary: dict | None


def _scrub(data: bytes, secrets: list[bytes]) -> bytes:
    for s in secrets:
        data = data.replace(s, MASK)
    return data


def mask(value, secrets: list[str]):
    """``value`` (text, or the lists and dicts of a job's result) with every secret replaced by
    ``***``."""
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK.decode())
        return value
    if isinstance(value, dict):
        return {mask(k, secrets): mask(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v, secrets) for v in value]
    return value


class _Lines:
    """Splits decoded text into lines for the scanner, a partial line capped at MAX_LINE_CHARS."""

    def __init__(self, scanner: SummaryScanner) -> None:
        self.scanner = scanner
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.partial = ""

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self.decoder.decode(data, final)
        lines = text.split("\n")
        lines[0] = self.partial + lines[0]
        for line in lines[:-1]:
            self.scanner.feed(line)
        self.partial = lines[-1][: MAX_LINE_CHARS + 1]
        if final and self.partial:
            self.scanner.feed(self.partial)


def _tail_text(tail: bytes, whole: bool) -> tuple[str, bool]:
    if not whole:  # starts mid-line: drop the partial first line when there is another
        cut = tail.find(b"\n")
        if 0 <= cut < len(tail) - 1:
            tail = tail[cut + 1:]
    text = tail.decode("utf-8", errors="replace")
    lines = text.splitlines()
    kept = lines[-TAIL_LINES:]
    return clean_text("\n".join(kept)), not whole or len(kept) < len(lines)


def digest_log(path: Path, secrets: list[str]) -> LogDigest:
    """Scrub ``secrets`` from the log at ``path`` in place and read its tail and summary."""
    needles = sorted({s.encode() for s in secrets if s}, key=len, reverse=True)
    overlap = max((len(s) for s in needles), default=1) - 1
    scanner = SummaryScanner()
    lines = _Lines(scanner)
    tail = b""
    total = 0
    found = False
    carry = b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            total += len(chunk)
            window = carry + chunk
            if needles and not found:
                found = any(s in window for s in needles)
            carry = window[-overlap:] if overlap else b""
            lines.feed(chunk)
            tail = (tail + chunk)[-TAIL_BYTES:]
    lines.feed(b"", final=True)
    if found:
        total = _rewrite_scrubbed(path, needles, overlap)
        tail = _read_tail(path)
    text, truncated = _tail_text(tail, whole=total <= TAIL_BYTES)
    return LogDigest(log_bytes=total, tail=text, tail_truncated=truncated, summary=scanner.result())


def _rewrite_scrubbed(path: Path, needles: list[bytes], overlap: int) -> int:
    """Stream ``path`` into a scrubbed copy and put it in place; returns the new size.

    A secret split across two reads is caught: the last ``overlap`` bytes of each read are held
    back and scrubbed with the next one."""
    tmp = path.with_name(path.name + ".scrub")
    written = 0
    with path.open("rb") as src, tmp.open("wb") as dst:
        pending = b""
        while chunk := src.read(CHUNK_BYTES):
            data = _scrub(pending + chunk, needles)
            pending, data = (data[-overlap:], data[:-overlap]) if overlap and len(data) > overlap else (b"", data)
            # A held-back suffix could start a secret whose rest was already masked: harmless.
            dst.write(data)
            written += len(data)
        data = _scrub(pending, needles)
        dst.write(data)
        written += len(data)
    os.replace(tmp, path)
    return written


def _read_tail(path: Path) -> bytes:
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - TAIL_BYTES))
        return f.read(TAIL_BYTES)
