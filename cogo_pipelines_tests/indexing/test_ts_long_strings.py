"""Long one-line string literals are left out of the parse, and nothing the graph reads moves."""

from __future__ import annotations

import tree_sitter

from cogo_pipelines.indexing import ts_long_strings
from cogo_pipelines.indexing.typescript import _LANGUAGES, extract_file, parse

# a minified bundle as a string: escaped quotes, escaped backslashes, code-like text
BUNDLE = ('!function(){\\"use strict\\";var e=document.createElement(\\"style\\");'
          'e.appendChild(\'x\\\\\');import(\\"./nope.js\\");require(\\"fs\\")}();' * 1200)


def _source(literal_line: str) -> bytes:
    return (
        'import { helper } from "./helper";\n'
        "/** the bundle */\n"
        "export const bundle =\n"
        f"{literal_line}\n"
        "\n"
        "export function serve(): string {\n"
        "  return helper(bundle);\n"
        "}\n"
    ).encode()


def _plain_parse(source: bytes) -> tree_sitter.Tree:
    return tree_sitter.Parser(_LANGUAGES[False]).parse(source)


def _shape(node: tree_sitter.Node) -> list:
    """Every node but those inside strings, with its offsets and points."""
    out = [(node.type, node.start_byte, node.end_byte, node.start_point, node.end_point)]
    if node.type not in ("string", "template_string"):
        for child in node.children:
            out += _shape(child)
    return out


def test_a_long_literal_is_skipped_and_the_rest_keeps_its_offsets_and_lines():
    source = _source(f'  "{BUNDLE}";')
    assert len(BUNDLE) > ts_long_strings.LONG_STRING
    ranges = ts_long_strings.included_ranges(source)
    assert ranges is not None and len(ranges) == 2
    inside = source.index(b'"!function') + 1
    assert ranges[0].end_byte == inside and ranges[1].start_byte == inside + len(BUNDLE)
    skipped, plain = parse(source, False), _plain_parse(source)
    assert not skipped.root_node.has_error
    assert _shape(skipped.root_node) == _shape(plain.root_node)  # the same tree around the literal
    # the escape sequences inside were never made into nodes
    assert skipped.root_node.descendant_count < plain.root_node.descendant_count / 100

    e = extract_file("src/assets.ts", source)
    assert [(s.qualified_name, s.start_line, s.end_line) for s in e.symbols] == [("bundle", 3, 4), ("serve", 6, 8)]
    bundle = e.symbols[0]
    assert source[bundle.start_byte:bundle.end_byte].endswith(b'";')
    # what looks like imports inside the string is not read as imports
    assert [i.specifier for i in e.imports] == ["./helper"]
    assert [(c.caller, c.callee) for c in e.calls] == [("serve", "helper")]


def test_lines_that_are_not_one_literal_are_parsed_whole():
    long_code = "const x = [" + ",".join(["1"] * 40_000) + "];"
    quote_inside = f'  "{BUNDLE}" + "{BUNDLE}";'  # two literals: the inside holds an unescaped quote
    escaped_end = '  "' + BUNDLE + '\\";'  # the closing quote is escaped: the literal goes on
    for line in (long_code, quote_inside, escaped_end):
        assert ts_long_strings.included_ranges(_source(line)) is None, line[:40]
    # short files and files of ordinary lines are not even split into lines
    assert ts_long_strings.included_ranges(b'const s = "short";\n') is None
    many_lines = _source(f'  "{BUNDLE}";') + b"// a line\n" * 100_000
    assert ts_long_strings.included_ranges(many_lines) is None


def test_a_line_that_only_looks_like_a_literal_is_parsed_whole():
    # inside a template literal the line is template text, and its ${...} is code
    inside_template = (
        "export function page(): string {\n"
        "  return `\n"
        f'  "{BUNDLE[:70_000]} ${{render()}} {BUNDLE[:1000]}"\n'
        "  `;\n"
        "}\n"
    ).encode()
    assert ts_long_strings.included_ranges(inside_template) is not None  # the text alone cannot tell
    tree = parse(inside_template, False)
    assert tree.root_node.descendant_count == _plain_parse(inside_template).root_node.descendant_count
    e = extract_file("src/page.ts", inside_template)
    assert ("page", "render") in [(c.caller, c.callee) for c in e.calls]
    # inside a block comment: nothing to find, but nothing is skipped either
    in_comment = f'/*\n  "{BUNDLE}"\n*/\nexport const after = 1;\n'.encode()
    assert parse(in_comment, False).root_node.descendant_count == _plain_parse(in_comment).root_node.descendant_count
    assert [s.name for s in extract_file("src/c.ts", in_comment).symbols] == ["after"]
