"""Long string literals are data, not code: the parser skips their insides.

Libraries embed bundles and stylesheets as one string literal on a line of its own (effect's
``httpApiScalar.ts``: a 3.2 MB minified script). tree-sitter makes a node of every escape
sequence in it, so two such files cost effect ~6 % of its whole extraction, for one symbol.
The inside of such a literal holds nothing the graph reads (no import, call, reference or
declaration), so the parser is given ranges that leave it out: the literal still parses as a
string, and every node keeps the offsets and lines of the real file. A line only looks like a
literal from the text alone; inside a template literal, a comment or JSX text it is not one (and
a template's ``${…}`` holds code), so the tree is checked afterwards (``skipped_only_strings``)
and the file parsed whole when a gap fell anywhere but inside a string.
"""

from __future__ import annotations

import itertools

import tree_sitter

LONG_STRING = 64 * 1024  # bytes on one line: only generated code has string literals this long
# files whose lines average this many bytes are looked at line by line (a cheap test that skips
# hand-written files: their lines are short)
LONG_LINES = 4096
_END = 0xFFFFFFFF  # tree-sitter's "to the end of the text"
_QUOTES = (ord('"'), ord("'"))


def _literal_inside(line: bytes) -> tuple[int, int] | None:
    """Where the inside of ``line`` lies when the line is one string literal (blanks, the
    literal, then nothing but ``,`` ``;`` ``)`` and blanks), else None."""
    body = line.rstrip(b" \t\r,;)")
    start = len(line) - len(line.lstrip(b" \t"))
    if len(body) - start < 2 or body[start] not in _QUOTES or body[-1] != body[start]:
        return None
    quote = body[start:start + 1]
    inside = body[start + 1:-1]
    # an unescaped quote inside would end the literal early, and a backslash at its end would
    # escape the closing quote: with the escaped backslashes dropped, neither may be left
    unescaped = inside.replace(b"\\\\", b"")
    if unescaped.endswith(b"\\") or quote in unescaped.replace(b"\\" + quote, b""):
        return None
    return start + 1, len(body) - 1


def included_ranges(source: bytes) -> list[tree_sitter.Range] | None:
    """The ranges to parse when ``source`` has long one-line string literals, else None."""
    if len(source) < LONG_STRING or len(source) < LONG_LINES * (source.count(b"\n") + 1):
        return None
    ranges: list[tree_sitter.Range] = []
    start_byte, start_point = 0, (0, 0)
    offset = 0
    for row, line in enumerate(source.split(b"\n")):
        inside = _literal_inside(line) if len(line) >= LONG_STRING else None
        if inside:
            gap_start, gap_end = offset + inside[0], offset + inside[1]
            ranges.append(tree_sitter.Range(start_point, (row, inside[0]), start_byte, gap_start))
            start_byte, start_point = gap_end, (row, inside[1])
        offset += len(line) + 1
    if not ranges:
        return None
    ranges.append(tree_sitter.Range(start_point, (_END, _END), start_byte, _END))
    return ranges


def skipped_only_strings(tree: tree_sitter.Tree, ranges: list[tree_sitter.Range]) -> bool:
    """Every gap between ``ranges`` is the inside of a string node of ``tree``."""
    root = tree.root_node
    for before, after in itertools.pairwise(ranges):
        node = root.descendant_for_byte_range(before.end_byte, after.start_byte)
        if node is None or node.type != "string" or (node.start_byte, node.end_byte) != (
                before.end_byte - 1, after.start_byte + 1):
            return False
    return True
