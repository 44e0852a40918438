"""Grammar gaps mended after a parse that failed: the rarer syntax ``tsc`` accepts and
tree-sitter-typescript 0.23 does not, found by scanning every file of the benchmark
repositories (effect, supabase storage's tests, emitted ``.d.ts``). Each check below is a scan
of the file, so they run only where the tree has an error (a few files in a thousand) instead
of before every parse as ``ts_gaps`` does; the caller parses again incrementally from the first
byte changed.

- a call's type argument that imports a type, vitest's ``importOriginal<typeof import("./x")>()``
  in every ``vi.mock`` factory (the grammar reads ``importOriginal < typeof import(…) > ()``, and
  where the statement has no ``;`` the recovery swallows the rest of the file);
- type arguments after an import type, ``import("./x").T<A, B>`` (what ``tsc --declaration``
  writes for every inferred type from another module);
- ``let as = …`` (effect's ``PubSub``: after ``let`` the grammar reads ``as`` as the cast),
  ``i < unique.length`` (``unique`` read as the type operator);
- a member named ``abstract`` or ``accessor`` (``abstract: boolean;``, ``accessor(…)``, read as
  the modifier);
- a function type's one parameter named like a predefined type (``onChange: (string) => void``);
- ``\\u`` / ``\\x`` that are no escapes in a tagged template string (``String.raw`\\u00 x```);
- ``using`` as a name in an expression (``using.join(", ")``: read as a ``using`` declaration);
- a bare ``&`` in JSX text (``<h3>Terms & Conditions</h3>``: 5 of the files in error in
  documenso, trigger.dev's webapp);
- escapes in a template literal *type* (an escaped backtick, a newline escape): the grammar
  takes none there, and an escaped backtick ends the type for it, so the rest of the file
  mis-parses (effect's ``Schema.ts`` lost its last 2,200 lines). Type position cannot be told from the
  bytes alone: the tree's error paths say where.

Every substitution keeps the length (offsets and lines are those of the real file; text is
read from the real bytes). What error is left after mending is reported by ``syntax_error``,
which knows the few error nodes the grammar's recovery makes where ``tsc`` sees none
(``benign``).
"""

from __future__ import annotations

import re

import tree_sitter

from cogo_pipelines.indexing import ts_type_mends
from cogo_pipelines.indexing.ts_gaps import ends_name

_SCAN_LIMIT = 4000  # bytes: how far a type argument list may reach before its `>`

# `f<typeof import("./x")>(` / `f<import("./x").T>(`: a call's type argument that imports a
# type (vitest's `importOriginal<typeof import("./config")>()` in every `vi.mock` factory)
_CALL_TYPE_IMPORT = re.compile(rb"[\w$]<(\s*(?:typeof\s+)?import\s*\(\s*(['\"])[^'\"\n]*\2\s*\)[\w$.]*\s*)>(?=\()")
# `import("./x").T<`: type arguments after an import type (every emitted `.d.ts`)
# (a literal start: `\b` in front would make the engine try every offset of the file)
_IMPORT_TYPE_ARGUMENTS = re.compile(rb"import\s*\(\s*(['\"])[^'\"\n]*\1\s*\)(?:\s*\.\s*[\w$]+)+\s*<")
_OPENING = {40: 41, 91: 93, 123: 125}  # ( [ {
_CLOSING = {41, 93, 125}


def _bridge_call_type_imports(source: bytes) -> bytes:
    """``f<typeof import("./x")>()`` becomes ``f(typeof import("./x"))()``: the grammar reads the
    original as ``f < typeof import(…) > ()`` and fails; the bridge keeps a call of ``f`` and the
    ``import("./x")`` its module edge comes from."""
    out = None
    for match in _CALL_TYPE_IMPORT.finditer(source):
        if out is None:
            out = bytearray(source)
        out[match.start(1) - 1] = 40  # (
        out[match.end(1)] = 41  # )
    return bytes(out) if out is not None else source


def _type_argument_list(source: bytes, lt: int) -> tuple[list[int], int] | None:
    """The top-level ``,`` of the type argument list opened at ``lt`` and its closing ``>``, or
    None when it does not close within ``_SCAN_LIMIT`` bytes (string literal types skipped)."""
    commas: list[int] = []
    angles, nested = 1, []
    i, end = lt + 1, min(len(source), lt + _SCAN_LIMIT)
    while i < end:
        c = source[i]
        if c in (34, 39, 96):  # a string literal type: skip to its closing quote
            close = source.find(source[i:i + 1], i + 1, end)
            if close < 0:
                return None
            i = close
        elif c in _OPENING:
            nested.append(_OPENING[c])
        elif c in _CLOSING:
            if not nested or nested.pop() != c:
                return None
        elif not nested:
            if c == 60:  # <
                angles += 1
            elif c == 62 and source[i - 1] != 61:  # > that is not the end of =>
                angles -= 1
                if angles == 0:
                    return commas, i
            elif c == 44 and angles == 1:  # ,
                commas.append(i)
            elif c == 59:  # ;
                return None
        i += 1
    return None


def _bridge_import_type_arguments(source: bytes) -> bytes:
    """``import("./x").T<A, B>`` becomes ``import("./x").T|A| B ``: the grammar reads an import
    type as an expression that takes no type arguments; a union of the same names keeps the
    module edge and the type references, and parses wherever the original type stands."""
    out = None
    for match in _IMPORT_TYPE_ARGUMENTS.finditer(source):
        if ends_name(source, match.start()):
            continue  # the end of a longer name
        lt = match.end() - 1
        found = _type_argument_list(source, lt)
        if found is None:
            continue
        commas, gt = found
        if source[lt + 1:gt].strip()[:1] in (b"|", b"&", b"") or source[gt + 1:gt + 2] == b"(":
            continue  # a leading `|` would double, `>(`: a call in expression context
        if out is None:
            out = bytearray(source)
        for at in (lt, *commas):
            out[at] = 124  # |
        out[gt] = 32
    return bytes(out) if out is not None else source


# `let as = …` (effect's `PubSub`): after `let` the grammar reads `as` as the cast operator
_LET_AS = re.compile(rb"let\s+as(?=\s*[=:;,])")


def _bridge_let_as(source: bytes) -> bytes:
    out = None
    for match in _LET_AS.finditer(source):
        if ends_name(source, match.start()):
            continue  # `outlet as`
        if out is None:
            out = bytearray(source)
        out[match.end() - 1] = 95  # `a_`: the name is read from the real bytes
    return bytes(out) if out is not None else source


def _template_end(source: bytes, start: int, escapes: list[int]) -> int:
    """The index after the template literal opened at ``start`` (its escapes appended to
    ``escapes``), or -1: substitutions ``${…}`` are skipped with their braces and any template
    nested in them."""
    i, n = start + 1, len(source)
    while i < n:
        c = source[i]
        if c == 92:  # backslash
            escapes.append(i)
            i += 2
            continue
        if c == 96:  # `
            return i + 1
        if c == 36 and source[i + 1:i + 2] == b"{":
            depth, i = 1, i + 2
            while i < n and depth:
                c = source[i]
                if c == 96:
                    i = _template_end(source, i, escapes)
                    if i < 0:
                        return -1
                    continue
                depth += (c == 123) - (c == 125)
                i += 1
            continue
        i += 1
    return -1


def template_type_escapes(source: bytes, root) -> bytes | None:
    """``source`` with the escapes in its broken template literal types blanked, or None when
    no template literal type on the tree's error paths has one. The grammar takes no escape
    (an escaped backtick, ``\\n``) inside a template literal *type*, and an escaped backtick ends
    it there, so the rest of the file mis-parses (effect's ``Schema.ts`` lost its last 2,200
    lines). Called after a parse with errors; the caller parses again."""
    out = None
    stack = [root]
    while stack:
        node = stack.pop()
        # the type's node, or an ERROR from its backtick on (`type T = `a\\nb``: the alias's value
        # is an ERROR then)
        if node.type in ("template_literal_type", "ERROR") and source[node.start_byte:node.start_byte + 1] == b"`":
            escapes: list[int] = []
            if _template_end(source, node.start_byte, escapes) > 0 and escapes:
                if out is None:
                    out = bytearray(source)
                for at in escapes:
                    out[at:at + 2] = b"  "
            continue
        stack.extend(c for c in node.children if c.has_error)
    return bytes(out) if out is not None else None


# `index < unique.length`: after `<` the grammar reads `unique` as the type operator
# (`unique symbol`) of a type argument list
# `using` read as a name (`const using = …; using.join(", ")`, mikro-orm's Oracle dialect; a
# parameter `using(using: string)`, drizzle's index builders): the grammar takes it for the start
# of a `using` declaration (TS 5.2) wherever an expression or a binding may be
_USING = re.compile(rb"using(?=\s*(?:[.\[(),;:}\]]|\?\s*[.:]))")
# a member named `abstract` (`abstract: boolean;` in mikro-orm's EntityMetadata interface, a
# method `abstract()`, a field `abstract = true`): the grammar reads the modifier and the rest of
# the file is lost
# the same for `accessor` (TS 4.9's auto-accessor keyword; mikro-orm's `accessor(accessor = true)`)
_ABSTRACT_MEMBER = re.compile(rb"(?:abstract|accessor)(?=\s*(?:\??\s*:|[(=;]))")
# a function type whose one parameter is named like a predefined type, without a type of its own
# (`onChange: (string) => void`, novu's web app): the grammar reads a parenthesized type
_KEYWORD_PARAMETER = re.compile(
    rb":\s*\(\s*(?:string|number|boolean|any|object|symbol|unknown|bigint)(?=\s*\)\s*=>)")
_LESS_UNIQUE = re.compile(rb"<\s+unique\b(?!\s+symbol)")
_ENTITY = re.compile(rb"&#?\w+;")


def _bridge_less_unique(source: bytes) -> bytes:
    out = None
    for match in _LESS_UNIQUE.finditer(source):
        if out is None:
            out = bytearray(source)
        out[match.end() - 1] = 95  # `uniqu_`
    return bytes(out) if out is not None else source


def _bridge_using(source: bytes) -> bytes:
    out = None
    for match in _USING.finditer(source):
        at = match.start()
        if ends_name(source, at) or (at > 0 and source[at - 1] == 46):  # `refusing(`, `x.using(`
            continue
        if _defines_method(source, match.end()):  # `using(using: string): this {`: parses as it is
            continue
        if out is None:
            out = bytearray(source)
        out[match.end() - 1] = 95  # `usin_`: the name is read from the real bytes
    return bytes(out) if out is not None else source


def _defines_method(source: bytes, at: int) -> bool:
    """Whether the ``(`` at or after ``at`` opens a parameter list followed by ``{`` or ``:`` (a
    method named ``using``, which the grammar reads, and whose name is read from the bridged
    bytes), not a call's arguments. Looks at most 1,000 bytes ahead."""
    while at < len(source) and source[at] in b" \t":
        at += 1
    if at >= len(source) or source[at] != 40:
        return False
    depth, end = 0, min(len(source), at + 1000)
    for i in range(at, end):
        c = source[i]
        if c == 40:
            depth += 1
        elif c == 41:
            depth -= 1
            if depth == 0:
                rest = source[i + 1:i + 40].lstrip()
                return rest[:1] in (b"{", b":")
    return False


def _bridge_keyword_parameter(source: bytes) -> bytes:
    out = None
    for match in _KEYWORD_PARAMETER.finditer(source):
        if out is None:
            out = bytearray(source)
        out[match.end() - 1] = 95  # `strin_`: a name, as `tsc` reads it
    return bytes(out) if out is not None else source


def _bridge_abstract_member(source: bytes) -> bytes:
    out = None
    for match in _ABSTRACT_MEMBER.finditer(source):
        at = match.start()
        if ends_name(source, at) or (at > 0 and source[at - 1] == 46):  # `x.abstract()` parses as it is
            continue
        if out is None:
            out = bytearray(source)
        out[match.end() - 1] = 95  # `abstrac_`: the name is read from the real bytes
    return bytes(out) if out is not None else source


def jsx_text_ampersands(source: bytes, root) -> bytes | None:
    """``source`` with the bare ``&`` of JSX text blanked (``<h3>Terms & Conditions</h3>``,
    ``<Trans>Verify & Complete</Trans>``: JSX keeps it as written, the grammar wants an entity
    such as ``&amp;`` and makes the word after it an ERROR inside the element), or None. Only
    where the tree says so: a ``&`` in code is an operator or an intersection type."""
    out = None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error and node.parent is not None and node.parent.type in ("jsx_element", "jsx_fragment"):
            i = node.start_byte  # the ERROR starts at the `&` or at the word after it
            if source[i] != 38:
                i -= 1
                while i >= 0 and source[i] in b" \t\r\n":
                    i -= 1
            if i >= 0 and source[i] == 38 and not _ENTITY.match(source, i):  # &
                if out is None:
                    out = bytearray(source)
                out[i] = 32
            continue
        stack.extend(c for c in node.children if c.has_error)
    return bytes(out) if out is not None else None


def compared_type_arguments(source: bytes, root) -> bytes | None:
    """``source`` with the ``<`` of type arguments that an expression follows turned into ``>``,
    or None when the tree ``root`` has none. Minified code compares without blanks, and the
    grammar reads ``a<-1|b>c(d)`` as ``a<-1|b>`` (type arguments: a literal type, a union) then
    an ERROR, which loses the call ``c(d)`` and makes one of ``a``. tsc takes type arguments in
    an expression only where ``(``, a template or no expression follows
    (``canFollowTypeArgumentsInExpression``): otherwise they are comparisons, ``(a < -1) | (b >
    c(d))``; ``>`` has the precedence of ``<``, so the mended bytes parse to that tree."""
    out = None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error:
            before = node.prev_sibling
            if before is not None and before.type == "instantiation_expression" and before.named_child_count:
                before = before.named_children[-1]
            if before is not None and before.type == "type_arguments" and source[before.start_byte] == 60:  # <
                if out is None:
                    out = bytearray(source)
                out[before.start_byte] = 62  # >
        stack.extend(c for c in node.children if c.has_error)
    return bytes(out) if out is not None else None


def mend(source: bytes, root) -> bytes | None:
    """``source`` with the gaps above mended where the tree ``root`` (of ``source``, with an
    error) shows or the bytes hold them, or None when there is nothing to mend. One call mends
    the byte-level gaps everywhere and the template literal types the error paths reach."""
    mended = source
    if b"import(" in mended or b"import (" in mended:
        mended = _bridge_import_type_arguments(_bridge_call_type_imports(mended))
    if b"let as" in mended:
        mended = _bridge_let_as(mended)
    if b"unique" in mended:
        mended = _bridge_less_unique(mended)
    if b"using" in mended:
        mended = _bridge_using(mended)
    if b"abstract" in mended or b"accessor" in mended:
        mended = _bridge_abstract_member(mended)
    if b") =>" in mended or b")=>" in mended:
        mended = _bridge_keyword_parameter(mended)
    mended = ts_type_mends.mend(mended)
    if mended is not source:
        return mended  # parse again first: the error paths below may move
    if b"&" in source:
        mended = jsx_text_ampersands(source, root)
        if mended is not None:
            return mended
    mended = compared_type_arguments(source, root)
    if mended is not None:
        return mended
    mended = template_type_escapes(source, root)
    if mended is None and b"`" in source:
        mended = template_string_escapes(source, root)
    return mended


_UNICODE_OR_HEX_ESCAPE = re.compile(rb"\\[ux]")


def template_string_escapes(source: bytes, root) -> bytes | None:
    """``source`` with the ``\\u`` / ``\\x`` escapes of its broken template strings blanked, or
    None when no template string on the tree's error paths has one. A tagged template may hold
    escapes that are no escapes (``String.raw`Acme\\u00 Corp```, documenso's name tests): the
    language allows it, the grammar does not. The text of a template string is no code."""
    out = None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "template_string":
            for match in _UNICODE_OR_HEX_ESCAPE.finditer(source, node.start_byte, node.end_byte):
                if out is None:
                    out = bytearray(source)
                out[match.start()] = 32
            continue
        stack.extend(c for c in node.children if c.has_error)
    return bytes(out) if out is not None else None


def changed_span(before: bytes, after: bytes) -> tuple[int, int]:
    """The first and past-the-last byte where two texts of one length differ (equal prefixes
    and suffixes found by halving, each test one memory comparison), for ``Tree.edit``."""
    lo, hi = 0, len(before)
    while lo < hi:  # the longest equal prefix
        mid = (lo + hi + 1) // 2
        if before[:mid] == after[:mid]:
            lo = mid
        else:
            hi = mid - 1
    first = lo
    lo, hi = 0, len(before) - first
    while lo < hi:  # the longest equal suffix after it
        mid = (lo + hi + 1) // 2
        if before[len(before) - mid:] == after[len(after) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return first, len(before) - lo


def benign(node: tree_sitter.Node, source: bytes) -> bool:
    """An error node the grammar's recovery makes where ``tsc`` sees no error, the rest parsed
    as it should: the MISSING ``!`` of ``styled.div<{ … }>`…``` (a tagged template with type
    arguments, TS 2.9), read as ``(styled.div<{ … }>)!`…```, also after ``yield*`` or ``await``
    (effect's ``yield* sql<{ id: string }>`SELECT …```) or in a conditional's last operand
    (Prisma's ``c ? a : await db.$queryRaw<Row[]>`SELECT …```)."""
    if not node.is_missing or node.type != "!":
        return False
    wrapper = node.parent
    call = wrapper.parent if wrapper is not None else None
    if wrapper is None or call is None or wrapper.type != "non_null_expression" or call.type != "call_expression":
        return False
    arguments = call.child_by_field_name("arguments")
    if wrapper.named_child_count != 1 or arguments is None or arguments.type != "template_string":
        return False
    inner = wrapper.named_children[0]
    # `yield* sql<{ id: string }>`…``, `c ? a : await db.$queryRaw<Row[]>`…``: the recovery
    # wraps the yield, await or conditional; the tagged template is its last operand
    while inner.type in ("yield_expression", "await_expression", "ternary_expression") and inner.named_child_count:
        inner = inner.named_children[-1]
    return inner.type == "instantiation_expression"


def syntax_error(root: tree_sitter.Node, source: bytes) -> str | None:
    """Where the first real syntax error is (an ERROR node or a MISSING token), None when every
    one the tree holds is ``benign``; only the branches holding an error are walked."""
    stack = [root]
    while stack:
        node = stack.pop()
        if (node.is_error or node.is_missing) and not benign(node, source):
            what = "missing " + node.type if node.is_missing else "syntax error"
            return f"{what} at line {node.start_point[0] + 1}, column {node.start_point[1] + 1}"
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return None
