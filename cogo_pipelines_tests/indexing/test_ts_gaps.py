"""Syntax tsc accepts and tree-sitter-typescript 0.23 does not: bridged, offsets kept, nothing
else touched."""

from __future__ import annotations

import pytest
import tree_sitter

from cogo_pipelines.indexing import ts_gaps
from cogo_pipelines.indexing.typescript import _LANGUAGES, extract_file, parse

# effect's style: variance annotations and `dual` overloads in a type literal, doc comments
# between the overloads, a multi-line type parameter list with an object type inside
EFFECT_STYLE = b"""import { dual } from "./Function"

export interface Cache<in out Key, in out A, out E = never, out R = never> extends Pipeable {
  readonly lookup: (key: Key) => A
}

export class Ref<in out A> {
  get(): A { return this.value }
}

export type Fn<out T> = () => T

/**
 * Invalidates a key.
 */
export const invalidate: {
  /**
   * Data-last.
   */
  <Key, A>(key: Key): <E, R>(self: Cache<Key, A, E, R>) => Effect<void>
  /**
   * Data-first.
   */
  <Key, A, E, R>(self: Cache<Key, A, E, R>, key: Key): Effect<void>
  <
    const I,
    P extends { readonly [K in keyof I]: never }
  >(fields: P): (input: I) => Effect<I>
} = dual(2, (self, key) => helper(self, key))

function helper(self: unknown, key: unknown) { return [self, key] }
"""


def _raw_has_error(source: bytes, tsx: bool = False) -> bool:
    return tree_sitter.Parser(_LANGUAGES[tsx]).parse(source).root_node.has_error


def test_the_grammar_really_has_these_gaps():
    # if a newer grammar closes them, this fails and ts_gaps can go
    assert _raw_has_error(b"interface I<out T> { v: T }\n")
    assert _raw_has_error(b"const f: {\n  <A>(a: A): A\n  <A, B>(a: A, b: B): A\n} = g\n")


def test_bridged_source_parses_cleanly_with_the_same_offsets():
    bridged = ts_gaps.bridge(EFFECT_STYLE, tsx=False)
    assert len(bridged) == len(EFFECT_STYLE)
    assert bridged.count(b"\n") == EFFECT_STYLE.count(b"\n")
    assert _raw_has_error(EFFECT_STYLE)
    assert not parse(EFFECT_STYLE, tsx=False).root_node.has_error
    # the variance keywords became spaces, one `;` took an indentation space before each `<`
    assert b"Cache<       Key,        A,     E = never,     R = never>" in bridged
    assert bridged.count(b";<") == 2
    # 3 `in out` (5 letters each), 3 `out`, 2 `;`
    assert sum(a != b for a, b in zip(EFFECT_STYLE, bridged, strict=True)) == 3 * 5 + 3 * 3 + 2


def test_extraction_sees_what_the_gaps_hid():
    e = extract_file("src/Cache.ts", EFFECT_STYLE)
    assert e.error is None
    names = {(s.qualified_name, s.kind) for s in e.symbols}
    assert {("Cache", "interface"), ("Ref", "class"), ("Ref.get", "method"), ("Fn", "type"),
            ("invalidate", "const"), ("helper", "function")} <= names
    cache = next(s for s in e.symbols if s.name == "Cache")
    # signatures are read from the real bytes, variance kept
    assert cache.signature.startswith("interface Cache<in out Key, in out A, out E = never")
    assert ("invalidate", "dual") in {(c.caller, c.callee) for c in e.calls}


@pytest.mark.parametrize("source", [
    # a type parameter, or a property, named like the keywords
    b"function f<in>(x: in) {}\nconst o = { out: 1, in: 2 }\n",
    b"for (const k in obj) { use(k) }\nif ('a' in obj) {}\n",
    # prose in comments: "the time, in milliseconds, ..."
    b"/**\n * @param t The time, in milliseconds, after which data is stale\n */\nexport const t = 1\n",
    b"// shape, in turn, matters\nexport const u = 1\n",
    # a generic arrow function on its own line after `=` or `=>`
    b"export const f =\n  <A>(a: A) => a\nexport const g = () =>\n  <B>(b: B) => b\n",
    # a comparison continued on the next line (space after `<`)
    b"const ok = left\n  < right\n",
])
def test_valid_code_that_only_looks_similar_is_left_alone(source):
    assert ts_gaps.bridge(source, tsx=False) == source


def test_tsx_lines_starting_with_a_tag_are_left_alone():
    source = b"export function V() {\n  return <div>\n    {x}\n    <Foo>(text)</Foo>\n  </div>\n}\n"
    assert ts_gaps.bridge(source, tsx=True) == source
    assert not parse(source, tsx=True).root_node.has_error


# application code (styled-components with an object type argument (a named type reads as
# `a < B > c` without an error), TS 5 re-exports, JSX links with query strings, Zod 4)
STYLED = b"""import styled from "styled-components";
import { lighten } from "./theme";

type Size = number;

const Badge = styled.span<{ $size: Size }>`
  padding: ${(p) => p.$size}px;
  color: ${(p) => lighten(p.theme.text)};
`;

export function Card() {
  return 1;
}
"""


def test_the_grammar_really_has_the_application_gaps():
    assert _raw_has_error(STYLED, tsx=True)
    assert _raw_has_error(b'export type * from "./x";\n')
    assert _raw_has_error(b'const a = <a href="/?x=1&y=2">x</a>;\n', tsx=True)
    assert _raw_has_error(b"interface Z<\n  /** c */\n  out S extends A = B,\n> {}\n")


def test_tagged_template_with_type_arguments_is_not_an_error_and_its_callee_is_seen():
    e = extract_file("src/Badge.tsx", STYLED)
    assert e.error is None
    assert {"styled.span", "lighten"} <= {c.callee for c in e.calls}
    assert ("Card", "function") in {(s.name, s.kind) for s in e.symbols}
    # a real error in the same file is still reported, with its own line
    broken = STYLED + b"export function Broken() {\n  return g(1;\n}\n"
    assert extract_file("src/Badge.tsx", broken).error == "missing ) at line 15, column 13"


def test_type_only_star_reexports_are_module_edges():
    source = b'export type * from "./x";\nexport type * as ns from "./y";\nexport type { A } from "./z";\n'
    e = extract_file("src/index.ts", source)
    assert e.error is None
    assert [(i.specifier, i.kind, i.bindings) for i in e.imports] == [
        ("./x", "reexport", {"*": "*"}), ("./y", "reexport", {"ns": "*"}), ("./z", "reexport", {"A": "A"})]  # fmt: skip
    assert ts_gaps.bridge(source, tsx=False).startswith(b'export      * from "./x";')


def test_bare_ampersands_in_jsx_attribute_strings_only():
    source = (b'import { Link } from "./link";\nexport function F({ a }: { a: number }) {\n'
              b'  return <Link href="/?utm_source=x&utm_medium=poll" title="a & b">{a && <b>x&amp;y</b>}</Link>;\n}\n')  # fmt: skip
    e = extract_file("src/F.tsx", source)
    assert e.error is None
    assert ("F", "Link", 3) in e.renders
    bridged = ts_gaps.bridge(source, tsx=True)
    assert b'href="/?utm_source=x utm_medium=poll" title="a   b">{a && <b>x&amp;y</b>}' in bridged
    # operators and strings outside JSX attributes are left alone
    code = b'const x = "a&b" && c;\nlet y = a & b;\ny &= 2;\nconst z = <a b="c">{d & e}</a>;\n'
    assert ts_gaps.bridge(code, tsx=True) == code
    assert ts_gaps.bridge(b'const u = "/?a=1&b=2";\n', tsx=False) == b'const u = "/?a=1&b=2";\n'


def test_variance_after_a_block_comment():
    source = b"export interface ZodObject<\n  /** @ts-ignore Cast variance */\n  out Shape extends S = L,\n  out C = D,\n> { a: Shape }\n"
    bridged = ts_gaps.bridge(source, tsx=False)
    assert bridged.count(b"out ") == 0 and len(bridged) == len(source)
    e = extract_file("src/schemas.ts", source)
    assert e.error is None
    assert next(s for s in e.symbols if s.name == "ZodObject").signature.startswith("interface ZodObject<")


def test_members_named_in_or_instanceof_after_a_member_without_semicolon():
    source = (b"export interface Parameter {\n  name: string\n  in: \"query\" | \"header\"\n  in_progress?: boolean\n}\n"
              b"export interface Expectation {\n  finite: Expectation\n  instanceof(constructor: unknown): Expectation\n}\n"
              b"export const inside = key in\n  obj\nconst o = {\n  a: 1,\n  in: 2,\n}\nexport function after() { return o }\n")  # fmt: skip
    assert _raw_has_error(source)
    for tsx in (False, True):
        bridged = ts_gaps.bridge(source, tsx=tsx)
        assert bridged.count(b";in") == 3 and bridged.count(b";") == 3 and len(bridged) == len(source)
        e = extract_file("src/spec.tsx" if tsx else "src/spec.ts", source)
        assert e.error is None
        assert {"Parameter", "Expectation", "inside", "after"} <= {s.name for s in e.symbols}


def test_vitest_import_original_with_a_type_import_argument_is_not_an_error():
    source = (b'import { vi } from "vitest";\nvi.mock("./config", async (importOriginal) => {\n'
              b'  const actual = await importOriginal<typeof import("./config")>();\n  return { ...actual, port: 1 };\n});\n'
              b'vi.mock("./db", async (importOriginal) => ({ ...(await importOriginal<typeof import("./db").Db>()), a: 1 }));\n')  # fmt: skip
    assert _raw_has_error(source)
    e = extract_file("src/app.test.ts", source)
    assert e.error is None
    assert {("./config", "dynamic"), ("./db", "dynamic")} <= {(i.specifier, i.kind) for i in e.imports}
    # the same `>()` after anything else is still an error
    assert extract_file("src/a.ts", b"const a = await (b >());\n").error is not None
