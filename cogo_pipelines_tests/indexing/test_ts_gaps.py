"""Syntax tsc accepts and tree-sitter-typescript 0.23 does not: bridged, offsets kept, nothing
else touched."""

from __future__ import annotations

import pytest
import tree_sitter

from cogo_pipelines.indexing import ts_gaps, ts_mends
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


def _mended(path: str, source: bytes):
    """The extraction of ``source``, which the grammar alone cannot parse (checked) and the
    extractor reads without a syntax error (checked)."""
    assert _raw_has_error(source)
    e = extract_file(path, source)
    assert e.error is None
    return e


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
    # a generic arrow function in a conditional's branch after a line comment (payload's
    # useEffectEvent: the comment's last word is not the end of a type member)
    (b"export const e = cond\n  ? React.useEffectEvent\n  : // eslint-disable-next-line no-unsafe-function-type\n"
     b"    <T extends Function>(fn: T): T => fn\n"),
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


def test_a_decorated_member_named_in_something_stays_with_its_decorator():
    """novu's DTOs: `@IsOptional()` on the line before `in_app?: boolean;` was parted from it by
    the `;` that separates such a member from one without a semicolon: a syntax error."""
    source = (b"export class PreferenceChannels {\n  @IsOptional()\n  sms?: boolean;\n\n"
              b"  @ApiPropertyOptional()\n  @IsOptional()\n  in_app?: boolean;\n}\n")  # fmt: skip
    assert not _raw_has_error(source)
    for tsx in (False, True):
        assert ts_gaps.bridge(source, tsx=tsx) == source
        assert extract_file("src/dto.tsx" if tsx else "src/dto.ts", source).error is None


def test_no_escapes_in_a_tagged_template_are_no_syntax_error():
    """documenso's name tests: `String.raw`Acme\\u00 Corp`` is valid TypeScript (a tagged
    template may hold escapes that are none); the grammar reported a syntax error."""
    source = (b'const cases = [\n  ["incomplete", String.raw`Acme\\u00 Corp`],\n  ["hex", String.raw`\\xZZ`],\n];\n'
              b"export function after() { return cases }\n")  # fmt: skip
    e = _mended("src/name.test.ts", source)
    assert "after" in {s.name for s in e.symbols}


def test_a_method_named_accessor_and_a_parameter_named_like_a_type():
    """mikro-orm's `accessor(accessor = true)` (TS 4.9's keyword) and novu's `onChange: (string) =>
    void` (a parameter named `string`, no type) were syntax errors that lost what followed."""
    source = (b"export class Property {\n  accessor(accessor: string | boolean = true) { return this; }\n"
              b"  build(): void {}\n}\n"
              b"interface Props {\n  onChange?: (string) => void;\n  setVisible: (boolean) => void;\n}\n"
              b"export function Editor({ onChange }: Props) { return onChange; }\n")  # fmt: skip
    e = _mended("src/Editor.tsx", source)
    assert {"Property.accessor", "Property.build", "Props", "Editor"} <= {s.qualified_name for s in e.symbols}
    # a value's arrow function keeps its parameter: only a type after `:` is bridged
    assert ts_mends._bridge_keyword_parameter(b"const f = (string) => string.length;\n") == \
        b"const f = (string) => string.length;\n"


def test_vitest_import_original_with_a_type_import_argument_is_not_an_error():
    source = (b'import { vi } from "vitest";\nvi.mock("./config", async (importOriginal) => {\n'
              b'  const actual = await importOriginal<typeof import("./config")>();\n  return { ...actual, port: 1 };\n});\n'
              b'vi.mock("./db", async (importOriginal) => ({ ...(await importOriginal<typeof import("./db").Db>()), a: 1 }));\n')  # fmt: skip
    e = _mended("src/app.test.ts", source)
    assert {("./config", "dynamic"), ("./db", "dynamic")} <= {(i.specifier, i.kind) for i in e.imports}
    assert b"importOriginal(typeof import(\"./config\"))()" in ts_mends._bridge_call_type_imports(source)
    # the same `>()` after anything else is still an error
    assert extract_file("src/a.ts", b"const a = await (b >());\n").error is not None


# supabase storage's tests: no `;`, so the recovery swallowed the rest of the file (5 files)
VITEST_NO_SEMICOLONS = b"""import { vi } from 'vitest'

async function buildApp() {
  vi.doMock('../../config', async (importOriginal) => {
    const actual = await importOriginal<typeof import('../../config')>()

    return {
      ...actual,
      getConfig: () => ({ ...actual.getConfig(), isMultitenant: true }),
    }
  })
  const { requireTenantFeature } = await import('./tenant-feature')
  return requireTenantFeature('s3Protocol')
}

export function after() {
  return buildApp()
}
"""


def test_vitest_import_original_without_semicolons():
    assert _raw_has_error(VITEST_NO_SEMICOLONS)
    e = extract_file("src/http/plugins/tenant-feature.test.ts", VITEST_NO_SEMICOLONS)
    assert e.error is None
    assert {"buildApp", "after"} <= {s.name for s in e.symbols}
    assert {("../../config", "dynamic"), ("./tenant-feature", "dynamic")} <= {(i.specifier, i.kind) for i in e.imports}
    assert ("after", "buildApp") in {(c.caller, c.callee) for c in e.calls}


# what `tsc --declaration` writes for an inferred type from another module: `import("./x").T<…>`
DECLARATIONS = b"""import { Config } from "./Config.ts";
export declare function Redacted(name?: string): Config<import("./Redacted.ts").Redacted<string>>;
export declare class Runner {
    static format: import("../Formatter.ts").Formatter<Runner, { readonly a: string, b: "x,y" }>;
    run(): import("./Effect.ts").Effect<void, never, (a: A, b: B) => C>[];
}
export declare function joinAll<T>(): import("../types").UnaryFunction<Observable<T>, unknown>;
export declare function after(): void;
"""


def test_type_arguments_of_import_types():
    assert _raw_has_error(b'let x: import("./a").B<string>;\n')
    bridged = ts_mends._bridge_import_type_arguments(DECLARATIONS)
    assert len(bridged) == len(DECLARATIONS)
    assert b'import("./Redacted.ts").Redacted|string >' in bridged
    assert b'Formatter|Runner| { readonly a: string, b: "x,y" } ' in bridged  # nested commas kept
    assert b'Effect|void| never| (a: A, b: B) => C []' in bridged
    e = extract_file("dist/Runner.d.ts", DECLARATIONS)
    assert e.error is None
    assert {"Redacted", "Runner", "joinAll", "after"} <= {s.name for s in e.symbols}
    # an import type with no type arguments and a call in expression context are left alone
    for untouched in (b'let x: import("./a").B;\n', b'const m = await import("./a").then<Mod>(f);\n'):
        assert ts_mends._bridge_import_type_arguments(untouched) == untouched


def test_escapes_in_template_literal_types():
    # effect's Schema.ts: an escaped backtick ended the type for the grammar, and the last
    # 2,200 lines of the file were lost
    source = (b"type MissingSelf<Usage extends string> =\n"
              b"  `Missing \\`Self\\` generic - use \\`class Self extends ${Usage}<Self>(...)\\``\n"
              b"type Line = `a\\nb${string}`\n"
              b"export const s = `kept \\` ${`nested \\``}`\n"
              b"export function after(): MissingSelf<\"x\"> { return s as never }\n")  # fmt: skip
    assert _raw_has_error(source)
    tree = parse(source, tsx=False)
    assert not tree.root_node.has_error
    e = extract_file("src/Schema.ts", source)
    assert e.error is None
    assert {"MissingSelf", "Line", "s", "after"} <= {s.name for s in e.symbols}
    after = next(s for s in e.symbols if s.name == "after")
    assert (after.start_line, after.signature) == (5, "function after(): MissingSelf<\"x\">")
    # the escapes of template *strings* parse as they are: nothing to do there
    assert ts_mends.template_type_escapes(b"const s = `a \\` b`\n", parse(b"const s = `a \\` b`\n", False).root_node) is None


def test_let_named_as():
    source = b"export function takeAll(xs: number[]) {\n  let as = xs.length === 0\n    ? []\n    : xs\n  as = as.concat(1)\n  return as\n}\nexport const after = 1\n"
    e = _mended("src/PubSub.ts", source)
    assert {"takeAll", "after"} <= {s.name for s in e.symbols}
    assert ts_mends._bridge_let_as(source).count(b"let a_ ") == 1
    for untouched in (b"const x = a as number\n", b"let ask = 1\n", b"outlet as = Y\n"):
        assert ts_mends._bridge_let_as(untouched) == untouched


def test_using_as_a_name():
    """mikro-orm's Oracle dialect: `const using = …; ${using.join(", ")}` lost the class's last four methods."""
    source = (b"export class Builder {\n  compile() {\n    const using = this.fields.map(f => f)\n"
              b"    this.parts.push(`execute immediate using ${using.join(', ')};`)\n    this.combine()\n  }\n"
              b"  combine(): void {}\n}\nexport const after = 1\n")  # fmt: skip
    e = _mended("src/OracleBuilder.ts", source)
    assert {"Builder.combine", "after"} <= {s.qualified_name for s in e.symbols}
    assert ts_mends._bridge_using(source).count(b"usin_") == 1  # the declaration parses as it is
    for untouched in (b"await using res = open()\n", b"using conn = db()\n", b"refusing(x)\n", b"x.using(1)\n"):
        assert ts_mends._bridge_using(untouched) == untouched


def test_using_as_a_parameter():
    """drizzle's index builders: `using(using: IndexConfig['using']): this` lost the rest of the file."""
    source = (b"export class IndexBuilder {\n  using(using: string): this {\n    this.config.using = using;\n"
              b"    return this;\n  }\n  optional(using?: string) { return using; }\n  build(): void {}\n}\n"
              b"export const after = 1\n")  # fmt: skip
    e = _mended("src/indexes.ts", source)
    assert {"IndexBuilder.using", "IndexBuilder.build", "after"} <= {s.qualified_name for s in e.symbols}
    assert ts_mends._bridge_using(b"  using(using: string): this {\n") == b"  using(usin_: string): this {\n"
    assert ts_mends._bridge_using(b"const y = using(x);\n") == b"const y = usin_(x);\n"  # a call: bridged
    assert ts_mends._bridge_using(b"using x: Disposable = open()\n") == b"using x: Disposable = open()\n"


def test_member_named_abstract():
    """mikro-orm's EntityMetadata interface: `abstract: boolean;` lost the rest of typings.ts."""
    source = b"export interface Meta {\n  class: string;\n  abstract: boolean;\n  name?: string;\n}\nexport abstract class Base {\n  abstract run(): void;\n}\nexport const after = 1\n"
    e = _mended("src/typings.ts", source)
    assert {"Meta", "Base", "Base.run", "after"} <= {s.qualified_name for s in e.symbols}
    assert ts_mends._bridge_abstract_member(source).count(b"abstrac_") == 1


def test_method_and_field_named_abstract_keep_their_names():
    """A method `abstract()` and a field `abstract = true` lost the rest of the file; the
    bridged name (`abstrac_`) is never what a symbol is called: names come from the file's bytes."""
    source = (b"export class Table {\n  abstract(): void {}\n  name(): string { return ''; }\n}\n"
              b"export class Entity {\n  abstract = true;\n  run(t: Table) { t.abstract(); t.name(); }\n}\n")  # fmt: skip
    e = _mended("src/m.ts", source)
    assert {"Table.abstract", "Table.name", "Entity.run"} <= {s.qualified_name for s in e.symbols}
    assert not any("abstrac_" in s.qualified_name for s in e.symbols)
    assert {c.callee for c in e.calls if c.caller == "Entity.run"} == {"Table.abstract", "Table.name"}


def test_tagged_template_with_type_arguments_after_yield():
    source = (b"export const f = Effect.gen(function*() {\n"
              b"  const rows = yield* sql<{ remote_id: Uint8Array }>`SELECT remote_id FROM t`.pipe(Effect.orDie)\n"
              b"  return rows\n})\n")  # fmt: skip
    e = _mended("src/SqlEventLog.ts", source)  # the call itself is not read there (the receiver is a local `sql` anyway)
    assert "Effect.gen" in {c.callee for c in e.calls}
    # a real error beside it is still reported
    assert extract_file("src/SqlEventLog.ts", source + b"const g = f(1;\n").error is not None


def test_files_that_parse_are_not_mended_and_the_changed_span_is_exact():
    # the mends run only where a parse failed: a clean file with the same shapes is untouched
    clean = b'let x: import("./a").B;\nconst as2 = 1\ntype T = `a${string}`\n'
    assert parse(clean, tsx=False).root_node.has_error is False
    assert ts_mends.mend(clean, parse(clean, tsx=False).root_node) is None
    before, after = b"abcdefghij", b"abcXefgYij"
    assert ts_mends.changed_span(before, after) == (3, 8)
    assert ts_mends.changed_span(before, before) == (10, 10)
    assert ts_mends.changed_span(b"a", b"b") == (0, 1)


def test_bare_ampersands_in_jsx_text():
    # documenso, trigger.dev: `<h3>Compliance & Legal</h3>`, `<Trans>Verify & Complete</Trans>`
    source = (b'import { Trans } from "./trans";\nexport function Footer({ a }: { a: A & B }) {\n'
              b'  return (\n    <div>\n      <h3 className="mb-1">Compliance & Legal</h3>\n'
              b'      <Trans>Verify &\n        Complete</Trans> &amp; {a && <b>x</b>}\n    </div>\n  );\n}\n'
              b'export const after = 1;\n')  # fmt: skip
    assert _raw_has_error(source, tsx=True)
    e = extract_file("src/Footer.tsx", source)
    assert e.error is None
    assert {"Footer", "after"} <= {s.name for s in e.symbols}
    assert ("Footer", "Trans", 6) in e.renders
    tree = tree_sitter.Parser(_LANGUAGES[True]).parse(source)
    mended = ts_mends.jsx_text_ampersands(source, tree.root_node)
    assert mended is not None and len(mended) == len(source)
    # only the two in text: the intersection type, `&amp;` and `&&` stay
    assert mended.count(b"&") == source.count(b"&") - 2 and b"A & B" in mended and b"&amp;" in mended


def test_less_than_unique_and_a_prisma_raw_query_in_a_conditional():
    source = (b"export async function f(unique: string[], cap: number, db: Db, c: boolean) {\n"
              b"  for (let index = 0; index < unique.length; index += cap) {}\n"
              b"  const rows = c ? [] : await db.$queryRaw<Row[]>`SELECT 1`\n"
              b"  return rows\n}\nexport const after = 1\n")  # fmt: skip
    e = _mended("src/store.ts", source)
    assert {"f", "after"} <= {s.name for s in e.symbols}
    kept = b"declare const u: unique symbol;\nlet ok = a < b;\n"
    assert ts_mends._bridge_less_unique(kept) == kept


def test_rarer_type_syntax_that_tsc_accepts_is_no_syntax_error():
    """From astro and payload, each checked with the TypeScript 5 compiler: an import type read
    with an index or as an array, an optional call of an instantiation expression, a tuple element
    labelled ``this``, an optional destructured parameter in a function type."""
    source = (b'import type { Props } from "./props";\n'
              b'type Heading = import("./content").Entry["headings"][number];\n'
              b'let headings: import("astro").MarkdownHeading[];\n'
              b'export function configure(context: any) {\n'
              b'  return context.env.getConfiguration<object>?.("x");\n}\n'
              b"type Reducer<R> = R extends [this: unknown, state: unknown, ...unknown[]] ? R : never;\n"
              b"type Upload = ({ overrides }?: { overrides: Props }) => Promise<void>;\n"
              b"export const after = 1;\n")
    assert _raw_has_error(source)
    e = extract_file("src/gaps.ts", source)
    assert e.error is None
    assert {i.specifier for i in e.imports} == {"./props", "./content", "astro"}
    assert {"configure", "after", "Reducer", "Upload"} <= {s.name for s in e.symbols}
    assert [c.callee for c in e.calls if c.caller == "configure"] == ["context.env.getConfiguration"]


def test_a_minified_line_keeps_its_ampersands_and_is_bridged_in_linear_time():
    """A bundle's line is no JSX. Each ``&`` read its whole line back to its start, and matched
    a pattern over it: a 680 kB line of the TypeScript compiler, minified, took 14 s to bridge,
    twice that line 76 s. And where a ``"`` inside a ``'…'`` string put the quotes out of step,
    an operator (``e&f``) passed for an attribute string's text, was blanked, and the line
    read as a syntax error. Past ``_LINE_REACH`` of its line an ``&`` is an operator."""
    import time

    statement = b"var a='\"',b=\"x=\",d=e&f,g=h(1);"
    line = b"var pad=0;" * 300 + statement * 3_000
    started = time.process_time()
    assert ts_gaps.bridge(line, tsx=True) == line
    assert time.process_time() - started < 1.0
    e = extract_file("vendor/bundle.min.js", line)
    assert e.error is None and [c.callee for c in e.calls] == ["h"]


@pytest.mark.parametrize("path", ["vendor/bundle.min.js", "src/minified.ts"])
def test_comparisons_without_blanks_are_not_type_arguments(path):
    """Minified code writes ``a<-1|b>c(d)``; the grammar took ``<-1|b>`` for type arguments (a
    literal type in a union) and made an ERROR of the rest: the file was a syntax error, the
    call of ``c`` was lost and one of ``a`` made up. tsc reads type arguments in an expression
    only where ``(``, a template or no expression follows them; a generic call stays one."""
    source = (b"var x=function(a,b,c,d){return a<-1|b>c(d)},y=function(){return a<-1|b>c&&e<-2|f>g(h)},"
              b"z=function(){return q<T>(r)};")
    assert _raw_has_error(source, tsx=path.endswith(".js"))
    e = extract_file(path, source)
    assert e.error is None
    assert [(c.caller, c.callee) for c in e.calls] == [("x", "c"), ("y", "g"), ("z", "q")]


def test_text_broken_everywhere_is_not_mended_over_and_over(monkeypatch):
    """Random characters in a ``.ts`` offer a "mend" near their start at every pass, and each
    pass parsed the whole file again in the parser's error recovery (200 kB: 4 s, five parses).
    The passes may reparse the file's length (and 64 KiB) in all; real gaps, whose reparse
    starts part-way, are all still mended (escaped backticks in two template types)."""
    import random

    passes = []
    mend = ts_mends.mend
    monkeypatch.setattr(ts_mends, "mend", lambda source, root: passes.append(1) or mend(source, root))
    generator = random.Random(7)
    noise = bytes(10 if generator.random() < 0.03 else generator.randint(32, 126) for _ in range(100_000))
    assert extract_file("src/noise.ts", noise).error.startswith("syntax error")
    assert len(passes) <= 2

    passes.clear()
    gap = b"type Missing%d = `a \\` b ${string}`\n"
    source = b"export const x = 1\n" * 40 + gap % 1 + b"export const y = 2\n" * 40 + gap % 2 + b"export const z = 3\n"
    e = _mended("src/Schema.ts", source)
    assert passes and {"x", "y", "z", "Missing1", "Missing2"} <= {s.name for s in e.symbols}
