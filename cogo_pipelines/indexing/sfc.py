"""Single-file components (``.vue``, ``.svelte``, ``.astro``): the scripts as a TypeScript file.

A component's imports, exports and functions live in its ``<script>`` / ``<script setup>`` /
``<script context="module">`` blocks (an Astro component's in its ``---`` frontmatter fence too);
the template around them is not TypeScript. ``script_only``
blanks everything outside those blocks (each byte becomes a space, newlines stay), so the
tree-sitter extractor reads the scripts as one module while every byte offset and line number
still points into the real file: symbols, edges and chunks need no translation. The template
(``markup_spans``) is chunked as text so that search still finds what a component shows. Linear
in the file's size (one regex scan for the tags).
"""

from __future__ import annotations

import re

COMPONENT_SUFFIXES = (".vue", ".svelte", ".astro")

# an opening <script ...> / <style ...> tag (not <scripts>) and its close. A <script> written
# inside template text cannot be told apart by a tag scan; its body is then read as script,
# where it is at worst a parse error of that block, never a lost file
_OPEN = re.compile(rb"<(script|style)(?=[\s>/])[^>]{0,2000}>", re.IGNORECASE)  # bounded: linear on "<script <script ..."
# a tag whose quoted attribute holds ">" (generics="T extends (v: string) => boolean", Svelte 5 and
# Vue 3.3 generic components) ends, for _OPEN, inside the quotes: an odd count of a quote in its
# match says so, and the tag is matched again skipping quoted runs whole. At most _REMATCHES times
# per file: that pattern costs ~40x the plain one on a hostile run of "<script a=\">" tags
_QUOTED_OPEN = re.compile(rb"<(script|style)(?=[\s>/])(?:\"[^\"]{0,2000}\"|'[^']{0,2000}'|[^>\"']){0,2000}>",
                          re.IGNORECASE)
_REMATCHES = 64
_CLOSE = {b"script": re.compile(rb"</script\s*>", re.IGNORECASE), b"style": re.compile(rb"</style\s*>", re.IGNORECASE)}
_BLANK = bytes.maketrans(bytes(range(256)), b" " * 10 + b"\n" + b" " * 245)


def is_component(path: str) -> bool:
    return path.lower().endswith(COMPONENT_SUFFIXES)


_FENCE = re.compile(rb"\A\s*---[ \t]*\r?\n")
_FENCE_END = re.compile(rb"^---[ \t]*$", re.MULTILINE)


def _blocks(source: bytes) -> list[tuple[bytes, int, int, int, int]]:
    """``(tag, open_start, body_start, body_end, close_end)`` of each top-level script/style block
    (an Astro frontmatter fence first, as a script)."""
    out = []
    pos = 0
    fence = _FENCE.match(source)
    closed = _FENCE_END.search(source, fence.end()) if fence else None
    if fence and closed:
        out.append((b"script", 0, fence.end(), closed.start(), closed.end()))
        pos = closed.end()
    rematches = 0
    while (opened := _OPEN.search(source, pos)) is not None:
        text = opened.group(0)
        if (text.count(b'"') % 2 or text.count(b"'") % 2) and rematches < _REMATCHES:
            rematches += 1
            opened = _QUOTED_OPEN.match(source, opened.start()) or opened
        tag = opened.group(1).lower()
        if opened.group(0).endswith(b"/>"):  # <script src="x" /> carries no code
            pos = opened.end()
            continue
        closed = _CLOSE[tag].search(source, opened.end())
        end = closed.start() if closed else len(source)
        pos = closed.end() if closed else len(source)
        out.append((tag, opened.start(), opened.end(), end, pos))
    return out


def script_only(source: bytes) -> bytes:
    """``source`` with every byte outside its ``<script>`` blocks blanked (same length, same lines)."""
    out = bytearray()
    pos = 0
    for tag, _, body_start, body_end, _ in _blocks(source):
        if tag == b"script":
            out += source[pos:body_start].translate(_BLANK)
            out += source[body_start:body_end]
            pos = body_end
    out += source[pos:].translate(_BLANK)
    return bytes(out)


def markup_spans(source: bytes) -> list[tuple[int, int]]:
    """Byte spans outside every script and style block (the template), blank ones left out."""
    spans, pos = [], 0
    for _, open_start, _, _, close_end in _blocks(source):
        spans.append((pos, open_start))
        pos = close_end
    spans.append((pos, len(source)))
    return [(a, b) for a, b in spans if source[a:b].strip()]


# an opening tag's name: `<Foo`, `<Card.Title`, `<the-footer` (not `</x`, `<!--`, `<svelte:self`)
_TAG = re.compile(rb"<([A-Za-z][\w-]*(?:\.[A-Za-z_$][\w$]*)*)(?=[\s/>])")


def _pascal(kebab: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in kebab.split("-"))


def component_tags(source: bytes, kebab: bool = False) -> list[tuple[str, int]]:
    """``(name, line)`` of each template tag that may name a component, in document order: a
    capitalised or dotted tag (``<TheFooter>``, ``<ui.Badge>``) and, with ``kebab`` (Vue), a hyphenated one
    under its PascalCase name (``<the-footer>`` is ``TheFooter``). Tags inside script and style
    blocks and inside HTML comments are not read. Linear: one scan of each template span."""
    found: list[tuple[str, int]] = []
    line, counted = 1, 0
    for start, end in markup_spans(source):
        pos = start
        while pos < end:
            comment = source.find(b"<!--", pos, end)
            stop = end if comment < 0 else comment
            for match in _TAG.finditer(source, pos, stop):
                name = match.group(1).decode("ascii")
                if name[:1].isupper() or "." in name:
                    pass
                elif kebab and "-" in name and "." not in name:
                    name = _pascal(name)
                else:
                    continue
                line += source.count(b"\n", counted, match.start())
                counted = match.start()
                found.append((name, line))
            if comment < 0:
                break
            closed = source.find(b"-->", comment + 4, end)
            pos = end if closed < 0 else closed + 3
    return found
