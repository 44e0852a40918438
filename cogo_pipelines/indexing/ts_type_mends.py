"""More grammar gaps of tree-sitter-typescript 0.23 that ``tsc`` accepts, mended like those of
``ts_mends`` (same length, same lines, only in a file whose parse failed), found in astro and
payload (checked with the TypeScript 5 compiler):

- an import type read with an index or as an array, ``import("./x").T["k"]``,
  ``import("astro").MarkdownHeading[]``: the ``[…]`` is blanked (the module edge and the type
  reference stay; an element type is not what the graph keeps);
- an optional call of an instantiation expression, ``env.getConfiguration<object>?.("x")``: the
  ``?.`` is blanked, leaving the call with its type arguments;
- a tuple element labelled ``this``, ``[this: unknown, state: S]``: read as ``thi_`` (a label);
- an optional destructured parameter in a function type, ``({ overrides }?: Props) => void``:
  the ``?`` is blanked.
"""

from __future__ import annotations

import re

from cogo_pipelines.indexing.ts_gaps import ends_name

_SCAN_LIMIT = 2000  # bytes an index of an import type may span
_IMPORT_TYPE_INDEX = re.compile(rb"import\s*\(\s*(['\"])[^'\"\n]*\1\s*\)(?:\s*\.\s*[\w$]+)+\s*\[")
_OPTIONAL_INSTANTIATION_CALL = re.compile(rb">\s*(\?\.)\s*\(")
_THIS_LABEL = re.compile(rb"[\[,]\s*(this)(?=\s*\??\s*:)")
_OPTIONAL_PATTERN_PARAMETER = re.compile(rb"\}\s*(\?)\s*:")


def _closing_bracket(source: bytes, at: int) -> int:
    """The ``]`` closing the ``[`` at ``at`` (nested brackets and quoted text skipped), or -1."""
    depth, i, end = 0, at, min(len(source), at + _SCAN_LIMIT)
    while i < end:
        c = source[i]
        if c in (34, 39):  # a quoted key
            close = source.find(source[i:i + 1], i + 1, end)
            if close < 0:
                return -1
            i = close
        elif c == 91:
            depth += 1
        elif c == 93:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _blank_import_type_indexes(source: bytes) -> bytes:
    out = None
    for match in _IMPORT_TYPE_INDEX.finditer(source):
        if ends_name(source, match.start()):
            continue
        at = match.end() - 1
        while at < len(source) and source[at] == 91:  # T["k"], T[], T["a"]["b"]
            close = _closing_bracket(source, at)
            if close < 0:
                break
            if out is None:
                out = bytearray(source)
            out[at:close + 1] = b" " * (close + 1 - at)
            at = close + 1
    return bytes(out) if out is not None else source


def _blank_groups(source: bytes, pattern: re.Pattern, replacement: bytes | None = None) -> bytes:
    out = None
    for match in pattern.finditer(source):
        if out is None:
            out = bytearray(source)
        start, end = match.span(1)
        out[start:end] = replacement if replacement is not None else b" " * (end - start)
    return bytes(out) if out is not None else source


def mend(source: bytes) -> bytes:
    """``source`` with the gaps above mended (``source`` itself when it has none)."""
    if b"import" in source and b"[" in source:
        source = _blank_import_type_indexes(source)
    if b"?.(" in source or b"?. (" in source:
        source = _blank_groups(source, _OPTIONAL_INSTANTIATION_CALL)
    if b"this" in source:
        source = _blank_groups(source, _THIS_LABEL, b"thi_")
    if b"}?" in source or b"} ?" in source:
        source = _blank_groups(source, _OPTIONAL_PATTERN_PARAMETER)
    return source
