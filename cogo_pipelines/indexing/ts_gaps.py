"""Syntax that ``tsc`` accepts and tree-sitter-typescript 0.23 does not, bridged before parsing.

Two gaps hit modern libraries hard (effect 4: a third of its files, with most of its parse
time spent in error recovery, and the symbols inside the broken regions lost):

- variance annotations on type parameters, ``interface Cache<in out K, out A>`` (TS 4.7;
  tree-sitter-typescript issue #370): the ``in`` / ``out`` keywords become spaces;
- a generic call signature on its own line in a type literal, after a member with no ``;``
  (``{ <A>(a: A): B \\n <A, C>(a: A, c: C): B }``, effect's ``dual`` overloads): the grammar's
  automatic-semicolon scanner never ends a line before ``<``, so a ``;`` takes the place of
  the indentation character in front of the ``<``. The same scanner never ends a line before
  ``in`` or ``instanceof`` (binary operators), so a member of that name after a member with no
  ``;`` (``name: string \\n in: "query"``, OpenAPI's parameter shape; Chai's ``instanceof(c)``)
  gets the same ``;``, in ``.tsx`` too.

Two more that application code hits (outline, rallly, supabase storage):

- ``export type * from "./x"`` (TS 5.0): ``type`` becomes spaces (the re-export is read as a
  plain ``export *``: same module edge);
- a bare ``&`` in a JSX attribute string (``href="/?a=1&b=2"``: JSX keeps it as written, the
  grammar wants an entity such as ``&amp;``): the ``&`` becomes a space (``.tsx`` only; the
  string's text is read from the real bytes).

A variance keyword may follow a block comment (``</** @ts-ignore */ out Shape``, Zod 4).

Rarer gaps are mended after a parse that failed (``ts_mends``): the files without them pay
nothing.

Every substitution keeps the length, so byte offsets and line numbers of the tree are those of
the real file; callers slice the original bytes for any text they keep. Only ``.ts`` gets the
second rule: in ``.tsx`` a line starting with ``<`` is JSX.
"""

from __future__ import annotations

import re

# `in`/`out` right after `<` or `,` (``_list_separator``), then a type parameter name that a `,`, `>`, `=` or
# `extends` follows: nothing else in TypeScript has that shape
_VARIANCE = re.compile(rb"(in\s+out|in|out)\s+(?=[A-Za-z_$][\w$]*\s*(?:[,>=]|extends\b))")
# where to try it: literal prefixes let the regex engine skip ahead (a scan for `[<,]` costs
# as much as parsing a tenth of the file)
_KEYWORDS = (re.compile(rb"in\s"), re.compile(rb"out\s"))
_SPACE = b" \t\r\n"
# a line that starts with `<` (perhaps a call signature's type parameter list) or, in `.ts` and `.tsx`,
# with a member named `in` or `instanceof` or starting so but for a letter (`in_progress`, `in2`:
# the scanner reads the keyword there) on its own line: ``in: "query"``, ``instanceof(c): E``
_KEYWORD_NAME = rb"in(?:stanceof)?(?![A-Za-z])[\w$]*(?:\??[ \t]*:|\()"
_ANGLE_LINE = re.compile(rb"\n[ \t]+(?:<|" + _KEYWORD_NAME + rb")")
_KEYWORD_MEMBER = re.compile(rb"\n[ \t]+" + _KEYWORD_NAME)
_PARAMETER_START = re.compile(rb"\s*\n|(?:const\s+)?[A-Za-z_$]")
# what a type member can end with: a name, a closing bracket, a literal, `>` of `Foo<A>`
_MEMBER_END = re.compile(rb"[\w$)\]}'\"`>]\Z")
_TRAILING_COMMENT = re.compile(rb"(?<=\s)//")  # after a blank: not the `//` of "https://x"
_SCAN_LIMIT = 4000  # bytes: how far a type parameter list may reach before its `>(`


def ends_name(source: bytes, at: int) -> bool:
    """The byte before ``at`` is part of a name: a match at ``at`` is inside a longer word."""
    return at > 0 and (source[at - 1:at].isalnum() or source[at - 1] in b"_$")


def _list_separator(source: bytes, keyword: int) -> int:
    """Where the `<` or `,` before a keyword is (over blanks, block comments and one `const`),
    or -1."""
    i = keyword - 1
    if ends_name(source, keyword):
        return -1  # the end of a longer word (`join`, `layout`)
    while i >= 0 and source[i] in _SPACE:
        i -= 1
    while i >= 1 and source[i - 1:i + 1] == b"*/":  # `</** @ts-ignore */ out Shape`
        i = source.rfind(b"/*", 0, i - 1) - 1
        while i >= 0 and source[i] in _SPACE:
            i -= 1
    if i >= 4 and source[i - 4:i + 1] == b"const":
        i -= 5
        while i >= 0 and source[i] in _SPACE:
            i -= 1
    return i if i >= 0 and source[i] in b"<," else -1


def _in_comment_line(source: bytes, at: int) -> bool:
    """``at`` is on a line of a doc comment or after ``//`` (prose like "the time, in ms, …")."""
    start = source.rfind(b"\n", max(0, at - _LINE_REACH), at) + 1
    line = source[start:at]
    if not start and at > _LINE_REACH:  # a minified line: only a `//` close before counts
        return b"//" in line
    return line.lstrip().startswith((b"*", b"/*")) or b"//" in line


def _blank_variance(source: bytes) -> bytes:
    out = None
    for keyword in _KEYWORDS:
        for hit in keyword.finditer(source):
            separator = _list_separator(source, hit.start())
            match = _VARIANCE.match(source, hit.start()) if separator >= 0 else None
            if match is None or _in_comment_line(source, separator):
                continue
            if out is None:
                out = bytearray(source)
            out[match.start(1):match.end(1)] = b" " * (match.end(1) - match.start(1))
    return bytes(out) if out is not None else source


def _previous_code(source: bytes, at: int) -> bytes:
    """The last code line before ``at``, skipping blank lines, ``//`` lines and ``/* */`` blocks."""
    end = at
    while end > 0:
        start = source.rfind(b"\n", 0, end) + 1
        line = source[start:end].strip()
        if line.endswith(b"*/"):
            opening = source.rfind(b"/*", 0, start + source[start:end].rfind(b"*/"))
            if opening < 0:
                return b""
            end = opening
            continue
        if line and not line.startswith(b"//"):
            # a line comment after the code is not what the line ends with (`: // eslint-…`
            # before a generic arrow function in a conditional is no type member)
            comment = _TRAILING_COMMENT.search(line)
            return line[:comment.start()].rstrip() if comment else line
        end = start - 1
    return b""


def _opens_signature(source: bytes, lt: int) -> bool:
    """``<…>`` at ``lt`` closes (angle brackets balanced, ``=>`` ignored, object types inside
    skipped) and ``(`` follows."""
    angles = braces = 0
    for i in range(lt, min(len(source), lt + _SCAN_LIMIT)):
        c = source[i]
        if c == 123:  # {
            braces += 1
        elif c == 125:  # }
            braces -= 1
            if braces < 0:
                return False
        elif braces:
            continue
        elif c == 60:  # <
            angles += 1
        elif c == 62 and source[i - 1] != 61:  # > that is not the end of =>
            angles -= 1
            if angles == 0:
                return source[i + 1:i + 200].lstrip().startswith(b"(")
        elif c == 59:  # ;: not a type parameter list
            return False
    return False


def _separate_members(source: bytes, tsx: bool) -> bytes:
    out = None
    for match in (_KEYWORD_MEMBER if tsx else _ANGLE_LINE).finditer(source):
        at = match.end() - 1
        angle = source[at] == 60  # `<`: a call signature's type parameters? else `in…` then `:` or `(`
        if angle and not _PARAMETER_START.match(source, at + 1):
            continue
        previous = _previous_code(source, match.start())  # a member only if the line before ends one
        if not _MEMBER_END.search(previous) or previous.endswith(b"=>") or angle and not _opens_signature(source, at):
            continue
        if previous.startswith(b"@"):  # `@IsOptional()` decorates the member: a `;` would part them (novu)
            continue
        first = at if angle else source.index(b"in", match.start())
        if out is None:
            out = bytearray(source)
        out[first - 1] = 59  # the indentation character before the member becomes `;`
    return bytes(out) if out is not None else source


# an `&` that does not start an entity (`&amp;`, `&#38;`): in a JSX attribute string it is text
_BARE_AMPERSAND = re.compile(rb"&(?!#?\w+;)")
# bytes: how far a line may reach on either side of an `&` or a keyword that is looked at. Past
# it the line is no JSX or type a formatter wrote but a minified bundle, where `&` is an operator;
# reading whole lines for each hit made a bundle's 680 kB line take 14 s, and twice the line 76 s
_LINE_REACH = 2_000


def _blank_type_star(source: bytes) -> bytes:
    # as formatters write it (other blanks stay an error); a byte search, not a regex: a regex
    # over every file costs 4 % of a cold graph
    return source.replace(b"export type *", b"export      *") if b"export type *" in source else source


def _in_attribute_string(source: bytes, at: int) -> bool:
    """``at`` is inside a double-quoted JSX attribute value on one line (``name="…"``). A string
    assigned without blanks (``x="a&b"``) passes too: harmless, its text is read from the real
    bytes and the tree is the same."""
    start = source.rfind(b"\n", max(0, at - _LINE_REACH), at) + 1
    if not start and at > _LINE_REACH:
        return False  # a line too long for JSX (``_LINE_REACH``)
    line = source[start:at]
    quote = line.rfind(b'"')
    if quote < 0 or line.count(b'"', 0, quote) % 2:
        return False  # no quote before it on the line, or that quote closes a string
    end = source.find(b"\n", at, at + _LINE_REACH)
    if source.find(b'"', at, end if end >= 0 else min(len(source), at + _LINE_REACH)) < 0:
        return False
    # `name="` (JSX attributes are written without blanks around `=`, assignments with them)
    return line[quote - 1:quote] == b"=" and quote >= 2 and \
        (line[quote - 2:quote - 1].isalnum() or line[quote - 2:quote - 1] in (b"_", b"$", b"-"))


def _blank_attribute_ampersands(source: bytes) -> bytes:
    out = None
    for match in _BARE_AMPERSAND.finditer(source):
        at = match.start()
        if source[at - 1:at] == b"&" or source[at + 1:at + 2] in (b"&", b"="):
            continue  # `&&`, `&=`: operators
        if not _in_attribute_string(source, at):
            continue
        if out is None:
            out = bytearray(source)
        out[at] = 32
    return bytes(out) if out is not None else source


def bridge(source: bytes, tsx: bool) -> bytes:
    """``source`` with the gaps above bridged; the same length, the same lines."""
    source = _blank_type_star(_blank_variance(source))
    if tsx and b"&" in source:
        source = _blank_attribute_ampersands(source)
    if b"\n" in source:
        source = _separate_members(source, tsx)
    return source
