"""Last line of defence for secrets: configured secret values are replaced in every body the
sidecar sends (JSON, HTML, Markdown, metrics) and in every log line it writes, in plain, JSON-, HTML- and URL-escaped spellings.

The values are those of ``Settings.secret_values()``; data can carry them by accident (a build
log echoing the environment ends up in ``jobs.error``), and a request can too (a path or a
query string in an access-log line).
"""

from __future__ import annotations

import html
import json
import logging
import threading
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
_MIN_LENGTH = 6  # shorter "secrets" would shred ordinary text
_values: set[str] = set()
_lock = threading.Lock()
_patterns: tuple[str, ...] = ()


def register(values: list[str]) -> None:
    """Add secret values (and their JSON/HTML-escaped spellings) to scrub."""
    global _patterns
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_LENGTH:
                _values.update({value, json.dumps(value)[1:-1], html.escape(value), html.escape(value, quote=False),
                                quote(value, safe="/"), quote(value, safe=""), quote_plus(value)})
        _patterns = tuple(sorted(_values, key=len, reverse=True))


def scrub(text: str) -> str:
    for value in _patterns:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def scrub_bytes(body: bytes) -> bytes:
    if not _patterns:
        return body
    for value in _patterns:
        raw = value.encode("utf-8")
        if raw in body:
            body = body.replace(raw, REDACTED.encode())
    return body


def _scrubbed_arg(value):
    """A log argument as ``%s`` renders it, scrubbed: an exception (a database error quoting its
    URL) or any other object is rendered as text first; numbers stay numbers (``%d``)."""
    if isinstance(value, (int, float)) or value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    scrubbed = scrub(text)
    return value if scrubbed == text and not isinstance(value, str) else scrubbed


class SecretFilter(logging.Filter):
    """Attach to handlers: renders the record once, scrubbed, including any traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _patterns:
            return True
        # Scrub the parts, not the rendered line: formatters such as uvicorn's access
        # formatter read ``record.args`` themselves.
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrubbed_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _scrubbed_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def install_log_filter() -> None:
    """Scrub every handler that exists now (root and uvicorn's)."""
    names = [None, "uvicorn", "uvicorn.error", "uvicorn.access"]
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, SecretFilter) for f in handler.filters):
                handler.addFilter(SecretFilter())
