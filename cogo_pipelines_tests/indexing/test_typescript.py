"""Extraction from real tree-sitter parses: symbols, imports of every form, exports, calls."""

from __future__ import annotations

from pathlib import Path

from cogo_pipelines.indexing.typescript import extract_file, parse

SOURCE = b"""/// <reference path="./r.d.ts" />
/**
 * @example
 * import { nope } from './jsdoc';
 */
import type {A} from "./a"; import {type C, D as DD} from "./c";
import def, * as ns from './ns.js';
import './side';
import fs = require('fs');
export * from './all';
export * as star from './star';
export { x as y } from './xy';
export class K<T> extends Base<T> implements I, J {
  private q: Q;
  get x() { return 1 }
  set x(v) {}
  m(a: string): void;
  m(a: any) { this.n(); this.q.run(); DD(); }
  constructor(private readonly r: Repo) { super(); this.r.save(); }
  n = () => ns.helper();
}
function f(a: string): void;
function f(a: any) { const s = new Svc(); s.go(); return import('./lazy'); }
export const arrow = async <T,>(a: T): Promise<T> => { const m = require('./req'); return import(`./dyn/${a}.js`); };
export default function () { f(1) }
interface II extends A, B.C {}
enum En { A }
namespace N { export function h() { h(); } }
export { f as eff };
type X = typeof import("./p");
"""


def _by_kind(extraction):
    return {(i.specifier, i.kind) for i in extraction.imports}


def test_every_import_form_is_recorded_with_its_kind():
    e = extract_file("x.ts", SOURCE)
    assert e.error is None
    assert _by_kind(e) == {
        ("./r.d.ts", "reference"),
        ("./a", "type"),  # import type
        ("./c", "import"),  # mixed type + value specifiers
        ("./ns.js", "import"),
        ("./side", "import"),  # side effect
        ("fs", "require"),  # import x = require()
        ("./all", "reexport"),
        ("./star", "reexport"),  # export * as ns
        ("./xy", "reexport"),
        ("./lazy", "dynamic"),
        ("./req", "require"),
        (None, "maybe"),  # template literal with a substitution
        ("./p", "type"),  # typeof import() in a type position
    }
    assert not any(i.specifier == "./jsdoc" for i in e.imports)  # JSDoc examples are comments
    bindings = {i.specifier: i.bindings for i in e.imports}
    assert bindings["./c"] == {"C": "C", "DD": "D"}
    assert bindings["./ns.js"] == {"def": "default", "ns": "*"}
    assert bindings["./all"] == {"*": "*"}
    assert bindings["./star"] == {"star": "*"}
    assert bindings["./xy"] == {"y": "x"}
    maybe = next(i for i in e.imports if i.kind == "maybe")
    assert maybe.expression == "`./dyn/${a}.js`"


def test_import_where_every_specifier_is_type_only_is_type():
    e = extract_file("t.ts", b"import { type A, type B } from './ab';\nimport { type C, d } from './cd';\n")
    assert _by_kind(e) == {("./ab", "type"), ("./cd", "import")}


def test_symbols_have_qualified_names_lines_and_export_flags():
    e = extract_file("x.ts", SOURCE)
    symbols = {s.qualified_name: s for s in e.symbols}
    assert {"K", "K.x", "K.m", "K.constructor", "K.n", "f", "arrow", "default", "II", "En", "N", "N.h", "X"} <= set(symbols)
    assert symbols["K"].kind == "class" and symbols["K"].exported
    assert symbols["K.m"].kind == "method" and symbols["K.m"].parent == "K"
    assert symbols["II"].kind == "interface" and not symbols["II"].exported
    assert symbols["X"].kind == "type" and symbols["En"].kind == "enum"
    assert symbols["arrow"].kind == "function" and symbols["arrow"].exported
    assert symbols["f"].exported  # through `export { f as eff }`
    assert symbols["f"].signature == "function f(a: string): void;"
    assert symbols["arrow"].signature == "const arrow = async <T,>(a: T): Promise<T>"
    k = symbols["K"]
    assert SOURCE[k.start_byte:k.end_byte].startswith(b"export class K")
    assert k.start_line == 13 and k.end_line == 21
    # overloads and get/set pairs are one symbol spanning all declarations
    assert symbols["K.m"].start_line == 17 and symbols["K.m"].end_line == 18
    assert e.exports["eff"] == "f" and e.exports["default"] == "default" and e.exports["K"] == "K"


def test_calls_carry_their_enclosing_symbol_and_instance_types():
    e = extract_file("x.ts", SOURCE)
    calls = {(c.caller, c.callee) for c in e.calls}
    assert ("K.m", "this.n") in calls
    assert ("K.m", "Q.run") in calls  # this.q is declared `q: Q`
    assert ("K.m", "DD") in calls
    assert ("K.constructor", "Repo.save") in calls  # parameter property
    assert ("K.n", "ns.helper") in calls
    assert ("f", "new Svc") in calls and ("f", "Svc.go") in calls  # const s = new Svc()
    assert ("N.h", "h") in calls
    assert ("default", "f") in calls
    assert ("K", "extends", "Base") in e.heritage and ("K", "implements", "I") in e.heritage
    assert ("II", "extends", "B.C") in e.heritage


def test_tsx_is_chosen_from_the_extension():
    source = b"export const App = () => <div className='x'>{render()}</div>;\n"
    assert extract_file("a.tsx", source).error is None
    assert extract_file("a.ts", source).error is not None  # JSX is a syntax error in .ts
    assert parse(source, True).root_node.has_error is False


def test_bad_inputs_are_errors_not_exceptions():
    assert "binary" in extract_file("b.ts", b"\x00\x01\x02 import x from './y'").error
    assert "not UTF-8" in extract_file("l.ts", "export const s = 'é';".encode("latin-1")).error
    broken = extract_file("s.ts", b"import { a } from './a';\nexport function ok() {}\nfunction (((( {\n")
    assert broken.error.startswith("syntax error at line")
    # what tree-sitter recovered is kept
    assert [i.specifier for i in broken.imports] == ["./a"]
    assert any(s.name == "ok" for s in broken.symbols)


def test_only_header_reference_directives_and_top_level_imports_count():
    source = b"""// header comment
/// <reference path="./header.d.ts" />
import { a } from './a';
/// <reference path="./late.d.ts" />
declare module 'augmented' {
  import { inner } from './inner';
}
"""
    e = extract_file("h.ts", source)
    # the augmentation is resolved as tsc does (a `type` edge); an import inside it is not (TS2667)
    assert [(i.specifier, i.kind) for i in e.imports] == [
        ("./header.d.ts", "reference"), ("./a", "import"), ("augmented", "type")]


def test_imports_of_a_file_with_a_syntax_error_elsewhere_are_kept():
    # a syntax error far below the imports
    source = b"""/// <reference path="./r.d.ts" />
import type * as Cause from "./Cause.js"
import * as core from "./internal/core.js"
export * from "./all.js"

export interface Box<T> { value: T }
export function broken(a: T { return a ]
"""
    e = extract_file("d.ts", source)
    assert e.error is not None
    assert [(i.specifier, i.kind) for i in e.imports] == [
        ("./r.d.ts", "reference"), ("./Cause.js", "type"), ("./internal/core.js", "import"), ("./all.js", "reexport"),
    ]


def test_imports_survive_a_file_whose_root_is_an_error():
    source = (Path(__file__).parent / "fixtures" / "broken_root.ts").read_bytes()
    assert parse(source, False).root_node.type == "ERROR"
    e = extract_file("broken_root.ts", source)
    assert e.error is not None
    assert [(i.specifier, i.kind) for i in e.imports] == [("./Cause.js", "type"), ("./internal/core.js", "import")]
    assert "Fields" in {s.qualified_name for s in e.symbols}  # what tree-sitter recovered
