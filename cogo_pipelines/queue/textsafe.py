"""Text that Postgres will store: no NUL, no lone surrogate, bounded.

A job's output is arbitrary bytes. ``text``/``jsonb`` refuse ``\\0`` (``jsonb`` with
``UntranslatableCharacter``) and a lone UTF-16 surrogate cannot be encoded as UTF-8 at all, so
one such character in a result used to turn a job that exited 0 into a failed one. Every
result and error the queue stores passes through ``for_postgres`` first: each offending
character becomes U+FFFD (visible, and the log file on disk keeps the original bytes), and a
string past ``MAX_STRING_CHARS`` keeps its end with a note of what was cut, so no handler can
store an unbounded excerpt.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
# NUL and any surrogate code point (in a Python str a surrogate is always a lone one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_DEPTH = 64  # deeper results are cut (a handler result is a few levels deep)
MAX_STRING_CHARS = 65_536  # one stored string; a longer one keeps its end (a log's end says most)


def clean_text(text: str, max_chars: int = MAX_STRING_CHARS) -> str:
    if len(text) > max_chars:
        cut = len(text) - max_chars
        text = f"… ({cut} characters cut) " + text[cut:]
    return _UNSTORABLE.sub(REPLACEMENT, text) if _UNSTORABLE.search(text) else text


def for_postgres(value: Any, *, _depth: int = 0) -> Any:
    """``value`` (a JSON-like tree) with every string, keys included, made storable."""
    if isinstance(value, str):
        return clean_text(value)
    if _depth >= MAX_DEPTH:
        return "… (nested too deep; cut)"
    if isinstance(value, dict):
        return {clean_text(str(k)): for_postgres(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [for_postgres(v, _depth=_depth + 1) for v in value]
    return value
