"""Tree-sitter extraction of one TypeScript file: symbols, imports, exports, calls, heritage.

One compiled query per grammar collects every node of interest in a single C-level pass
(``QueryCursor.captures``); Python only looks at the captured nodes and their direct
children, never recursing over the whole tree. The result is plain data (``model``) so it
can be cached by content hash and shipped between processes.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterable

import tree_sitter
import tree_sitter_typescript

from cogo_pipelines.indexing import sfc, sources, ts_gaps, ts_long_strings, ts_mends
from cogo_pipelines.indexing.model import FileExtraction
from cogo_pipelines.indexing.ts_arrays import ArrayElements, iterated_heads
from cogo_pipelines.indexing.ts_callables import CallSignatures
from cogo_pipelines.indexing.ts_declarations import Declarations, declaration_scopes
from cogo_pipelines.indexing.ts_module_interface import ModuleInterface
from cogo_pipelines.indexing.ts_narrowing import Narrowing, right_guards
from cogo_pipelines.indexing.ts_nodes import (
    SIMPLE_CHAIN,
    declares_field,
    object_bindings,
    one_line_chain,
    operator_of,
)
from cogo_pipelines.indexing.ts_signatures import DeclaredTypes
from cogo_pipelines.indexing.ts_types import TypeInference
from cogo_pipelines.indexing.ts_usage import Usage, value_heads

_LANGUAGES = {
    False: tree_sitter.Language(tree_sitter_typescript.language_typescript()),
    True: tree_sitter.Language(tree_sitter_typescript.language_tsx()),
}

# ``await f<T>(x)`` comes out of tree-sitter-typescript 0.23 as ``(await f)<T>(x)``: the callee
# is then the name inside the ``await`` (a call with type arguments marks the misparse). A tagged
# template with type arguments (styled-components' ``styled.div<Props>`...```) comes out as
# ``(styled.div<Props>)!`...``` with a zero-width MISSING ``!``: the callee is inside (``ts_mends.benign``)
_QUERY_TEXT = """
(call_expression function: (identifier) @call.ident)
(call_expression function: (member_expression) @call.member)
(call_expression function: (await_expression [(identifier) @call.ident (member_expression) @call.member]) type_arguments: (_))
(call_expression function: (non_null_expression (instantiation_expression . [(identifier) @call.ident (member_expression) @call.member])) arguments: (template_string))
(call_expression function: (import)) @call.import
(call_expression function: (super) @call.super)
(arguments (arrow_function parameter: (identifier)) @callback)
(arguments [
  (arrow_function parameters: (formal_parameters (required_parameter pattern: (identifier) !type)))
  (function_expression parameters: (formal_parameters (required_parameter pattern: (identifier) !type)))
] @callback)
([(arguments (object [(pair value: [(arrow_function) (function_expression)] @callback.property) (method_definition) @callback.property]))
  (variable_declarator type: (type_annotation) value: (object [(pair value: [(arrow_function) (function_expression)] @callback.property) (method_definition) @callback.property]))
  (satisfies_expression (object [(pair value: [(arrow_function) (function_expression)] @callback.property) (method_definition) @callback.property]))])
(variable_declarator name: (object_pattern) @var.pattern)
(required_parameter pattern: (object_pattern) type: (type_annotation)) @param.destructured
(optional_parameter pattern: (object_pattern) type: (type_annotation)) @param.destructured
(return_statement (object) @return.object)
(new_expression constructor: (_) @new)
(class_heritage) @heritage
(extends_type_clause) @iface_extends
(variable_declarator name: (identifier) @var.name)
[(required_parameter pattern: (identifier) @param) (optional_parameter pattern: (identifier) @param)]
(type_identifier) @typeref
(nested_type_identifier) @typeref.nested
(arguments (identifier) @valref)
(pair value: (identifier) @valref)
(export_statement value: [(class) (function_expression) (arrow_function)] @default_decl)
(public_field_definition) @field
(interface_body [(property_signature) (method_signature) (call_signature)] @field)
[(arrow_function parameter: (identifier) @local) (function_declaration name: (identifier) @local)
 (catch_clause parameter: (identifier) @local) (for_in_statement left: (identifier) @local)
 (shorthand_property_identifier_pattern) @local (pair_pattern value: (identifier) @local)
 (array_pattern (identifier) @local) (rest_pattern (identifier) @local)]
(type_alias_declaration value: (object_type [(property_signature) (method_signature)] @field))
[(variable_declarator type: (type_annotation) value: [(arrow_function) (function_expression)] @typed_fn)
 (arrow_function return_type: (_) body: [(arrow_function) (function_expression)] @typed_fn)
 (return_statement [(arrow_function) (function_expression)] @typed_fn)]
[(if_statement condition: (parenthesized_expression (call_expression arguments: (arguments [(identifier) (member_expression) (subscript_expression)])) @guard))
 (binary_expression left: (call_expression arguments: (arguments [(identifier) (member_expression) (subscript_expression)])) @guard operator: "&&")
 (unary_expression operator: "!" argument: (call_expression arguments: (arguments [(identifier) (member_expression) (subscript_expression)])) @guard)
 (expression_statement (call_expression function: (identifier) arguments: (arguments . (call_expression arguments: (arguments [(identifier) (member_expression) (subscript_expression)])) @guard)))
 (ternary_expression condition: (call_expression arguments: (arguments [(identifier) (member_expression) (subscript_expression)])) @guard)]
(binary_expression) @binary
[(unary_expression operator: "!") (parenthesized_expression) (ternary_expression) (if_statement)] @chain
(expression_statement (call_expression arguments: (arguments) @chain))
"""
# JSX exists in the TSX grammar only
_JSX_QUERY_TEXT = """
(jsx_opening_element name: (_) @jsx)
(jsx_self_closing_element name: (_) @jsx)
"""


# tree levels below the root at which the query still starts a pattern. Its cost grows with the
# nesting times the size (callbacks nested 3,200 deep, 200 kB: 6 s, 16,000 deep: minutes), and no
# file of nine real repositories (9,822 files, JSX included) has a capture deeper than 150 levels;
# what lies deeper is not read (0.02 s for the 3,200 levels)
MAX_QUERY_DEPTH = 1000
_local = threading.local()
_MEND_REPARSES = 4  # a bound: a file that stays broken is not parsed again and again
_MEND_REPARSE_FLOOR = 64 * 1024  # bytes the mends may reparse beyond the file's length


class _Query:
    def __init__(self, tsx: bool) -> None:
        self.query = tree_sitter.Query(_LANGUAGES[tsx], _QUERY_TEXT + (_JSX_QUERY_TEXT if tsx else ""))


_queries: dict[bool, _Query] = {}


def _query(tsx: bool) -> tree_sitter.Query:
    if tsx not in _queries:
        _queries[tsx] = _Query(tsx)
    return _queries[tsx].query


def prepare(paths: Iterable[str] | None = None) -> None:
    """Compile the queries of the grammars ``paths`` need (default both) now, in a parent process
    about to fork its workers; each takes ~25 ms, before any worker can start."""
    for tsx in (False, True) if paths is None else sorted({is_tsx(p) for p in paths}):
        _query(tsx)


def is_tsx(path: str) -> bool:
    """The TSX grammar for ``.tsx`` and the JavaScript family (JSX is common in ``.js``; JS has
    no ``<T>x`` casts for the TSX grammar to misread)."""
    return path.lower().endswith((".tsx", ".js", ".jsx", ".mjs", ".cjs"))


def parse(source: bytes, tsx: bool) -> tree_sitter.Tree:
    """Parse with a per-thread parser (parsers are not thread-safe, languages are), the
    grammar's gaps bridged first (``ts_gaps``) and the insides of long string literals left out
    (``ts_long_strings``): node offsets are those of ``source``, but read text from ``source``
    itself, not from ``Node.text``, where a gap was bridged."""
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    for key in ((tsx, False), (tsx, True)):  # a parser given ranges keeps them: one for each case
        if key not in parsers:
            parsers[key] = tree_sitter.Parser(_LANGUAGES[tsx])
    bridged = ts_gaps.bridge(source, tsx)
    tree, parser = _parse_bridged(parsers, source, bridged, tsx)
    # the rarer gaps, only in files whose parse failed: mended and parsed again, incrementally
    # from the first byte changed (each pass may uncover the next broken template type). The
    # passes may parse the file's length again in all, and a small file's whole a few times: a
    # real gap's reparse starts part-way (at most 0.75 of the file on the bench repos, effect's
    # Schema.ts twice 0.13), while text broken everywhere (random characters) offers a "mend"
    # near its start at every pass, and was parsed whole five times (200 kB: 4 s, mostly the
    # parser's error recovery)
    reparse_left = len(bridged) + _MEND_REPARSE_FLOOR
    for _ in range(_MEND_REPARSES):
        if not tree.root_node.has_error:
            break
        mended = ts_mends.mend(bridged, tree.root_node)
        if mended is None:
            break
        first, end = ts_mends.changed_span(bridged, mended)
        reparse_left -= len(mended) - first
        if reparse_left < 0:
            break
        start_point, end_point = _point(mended, first), _point(mended, end)
        tree.edit(first, end, end, start_point, end_point, end_point)
        bridged = mended
        tree = parser.parse(bridged, tree)
    return tree


def _point(source: bytes, at: int) -> tuple[int, int]:
    return source.count(b"\n", 0, at), at - source.rfind(b"\n", 0, at) - 1


def _parse_bridged(parsers: dict, source: bytes, bridged: bytes, tsx: bool) -> tuple[tree_sitter.Tree, tree_sitter.Parser]:
    ranges = ts_long_strings.included_ranges(source)
    if ranges is not None:
        parser = parsers[(tsx, True)]
        parser.included_ranges = ranges
        tree = parser.parse(bridged)
        if ts_long_strings.skipped_only_strings(tree, ranges):
            return tree, parser
    parser = parsers[(tsx, False)]
    return parser.parse(bridged), parser


def check_source(source: bytes) -> str | None:
    """Why a file cannot be read as TypeScript text, or None (a NUL inside a string is source:
    ``sources.looks_binary``)."""
    if sources.looks_binary(source):
        return "binary file (NUL bytes)"
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: {exc.reason} at byte {exc.start}"
    return None


class _Extractor(Declarations, ModuleInterface, Usage, DeclaredTypes, TypeInference, ArrayElements, Narrowing,
                 CallSignatures):
    """Per-file state shared by the declaration and usage passes."""

    def __init__(self, path: str, source: bytes, tree: tree_sitter.Tree) -> None:
        self.path = path
        self.source = source
        self.tree = tree
        self.out = FileExtraction(path=path)
        self.symbol_nodes: list[tuple[int, int, int]] = []  # (start, end, index into symbols)
        self.starts: list[int] = []
        self.parents: list[int] = []  # index of the enclosing symbol, -1 at module level
        self.span_parents: list[int] = []  # per symbol_nodes entry, the entry it nests in (``enclosing``)
        self.instance_types: dict[tuple[str, str], str] = {}
        self.typed_heads: set[str] | None = None  # the names instance_types types, while calls are read
        self.aliases: dict[tuple[str, str], str] = {}  # (scope, name) -> "obj.key" of a destructured binding
        self.ranged_aliases: dict = {}  # name -> ts_types._Spans: the blocks destructuring it, "obj.key" there
        self.ranged: dict = {}  # name -> ts_types._Spans: the functions that bind it, with its type there
        self.local_exports: set[str] = set()
        self.module_names: set[bytes] = set()  # what the module binds: its symbols' names, its static imports
        self.seen_calls: set[tuple[str, str]] = set()
        self.local_functions: dict[bytes, list[tree_sitter.Node]] = {}  # functions declared in blocks, by name
        # the declarations that can be symbols (``declaration_scopes``), in document order
        self.scopes, self.declarations = declaration_scopes(tree.root_node)



def _called_head(declarator: tree_sitter.Node) -> bytes | None:
    """The first name of the callee a variable is bound to the result of (``collections`` of
    ``const c = await collections.get(id)``), or None."""
    value = declarator.child_by_field_name("value")
    if value is not None and value.type == "await_expression" and value.named_child_count:
        value = value.named_children[0]
    fn = value.child_by_field_name("function") if value is not None and value.type == "call_expression" else None
    while fn is not None and fn.type == "member_expression":
        fn = fn.child_by_field_name("object")
    return fn.text if fn is not None and fn.type == "identifier" else None


def extract_file(path: str, source: bytes) -> FileExtraction:
    """Everything the graph needs from one file. Unreadable files come back with ``error``
    set and nothing else; a file with syntax errors keeps what tree-sitter recovered."""
    return extract_tree(path, source)[0]


def extract_tree(path: str, source: bytes) -> tuple[FileExtraction, tree_sitter.Tree | None]:
    """``extract_file`` and the tree it read (None when the file could not be parsed), for
    callers that need both: one parse instead of two."""
    problem = check_source(source)
    if problem:
        return FileExtraction(path=path, error=problem), None
    template = source if sfc.is_component(path) else None
    if template is not None:  # .vue/.svelte/.astro: the <script> blocks, at their own offsets
        source = sfc.script_only(source)
    if b"\x00" in source:  # tree-sitter stops a token at NUL: a space keeps every offset
        source = source.replace(b"\x00", b" ")
    tsx = is_tsx(path)
    try:
        tree = parse(source, tsx)
    except Exception as exc:  # noqa: BLE001 -- tree-sitter refuses (e.g. timeout); keep the run going
        return FileExtraction(path=path, error=f"parse failed: {exc}"), None
    try:
        extraction = _extract(path, source, tree, tsx)
        if template is not None:
            _template_renders(extraction, template, path.lower().endswith(".vue"))
        return extraction, tree
    except Exception as exc:  # noqa: BLE001 -- a fault in one file's extraction is that file's error,
        # not the end of the run: the other files' graph stands, and the error names the file
        reason = (str(exc).splitlines() or [""])[0][:200]
        return FileExtraction(path=path, error=f"extraction failed: {type(exc).__name__}: {reason}"), None


def _extract(path: str, source: bytes, tree: tree_sitter.Tree, tsx: bool) -> FileExtraction:
    ex = _Extractor(path, source, tree)
    cursor = tree_sitter.QueryCursor(_query(tsx))
    cursor.set_max_start_depth(MAX_QUERY_DEPTH)
    caps = cursor.captures(tree.root_node)
    by_start = operator.attrgetter("start_byte", "end_byte")  # nested captures share a start

    ordered: dict[str, list[tree_sitter.Node]] = {}

    def get(name: str) -> list[tree_sitter.Node]:
        # captures are not in document order (it varies with the query's history): sort, so
        # the same bytes always give the same extraction; once per name
        found = ordered.get(name)
        if found is None:
            found = ordered[name] = sorted(caps.get(name, ()), key=by_start)
        return found

    ex.collect_symbols(ex.declarations, get("default_decl"))
    # the module's own statements; those inside `declare module "x"` are read apart
    # (``ambient_modules``), as tsc does. Read from the root's children: a `(program (x))` query
    # pattern misses top-level nodes of a file that has a syntax error anywhere (the root is
    # ERROR then).
    top_level = tree.root_node.named_children
    ambient = []
    for node in top_level:
        kind = node.type
        if kind == "import_statement":
            ex.import_statement(node)
        elif kind == "export_statement":
            ex.export_statement(node)
        elif kind == "ambient_declaration":
            ambient.append(node)
    if ambient:
        ex.ambient_modules(ambient, any(node.type in ("import_statement", "export_statement") for node in top_level))
    for sym in ex.out.symbols:
        if sym.name in ex.local_exports and sym.parent is None:
            sym.exported = True
    ex.module_names = {sym.name.encode() for sym in ex.out.symbols if sym.parent is None}
    for record in ex.out.imports:
        ex.module_names.update(name.encode() for name in record.bindings)
    for node in top_level:  # tsc reads triple-slash directives only in the header
        if node.type != "comment":
            break
        ex.directive(node)
    # the types of parameters, variables and fields only serve `x.method()` calls: only the
    # names some member call starts with are worth a look (a tenth of them in effect)
    heads = {one_line_chain(node.text).rpartition(b".")[0] for node in get("call.member")}
    # `model.store.rootStore.m()`: `model`'s type starts the field chain the linker follows
    heads |= {head.partition(b".")[0] for head in heads if b"." in head and not head.startswith(b"this.")}
    # `columns[0].m()`, `metadata.columns[i].m()`: the array's name starts the chain
    heads |= {head.partition(b"[")[0].partition(b".")[0] for head in heads if b"[" in head}
    loops = [name for name in get("local") if name.parent.type == "for_in_statement"]  # outer loops first
    for name in get("local"):  # functions declared in blocks: what calls of them return (`returned`)
        if name.parent.type == "function_declaration" and name.parent.parent is not None \
                and name.parent.parent.type != "program":
            ex.local_functions.setdefault(name.text, []).append(name.parent)
    heads |= iterated_heads(loops, heads)  # for (const c of columns) c.m()
    for pattern in get("var.pattern"):  # `const { m } = obj; m()` calls obj.m: obj's type matters too
        value = pattern.parent.child_by_field_name("value")
        if value is not None and value.type == "identifier":
            heads.add(value.text)
        elif value is not None and value.type == "member_expression":  # `= model.store.rootStore`: model's
            first = one_line_chain(value.text).partition(b".")[0]
            if first != b"this" and SIMPLE_CHAIN.match(first.decode("utf-8", "replace")):
                heads.add(first)
    # `const metadata = subject.metadata; metadata.m()`: subject's type matters too (and what
    # subject is read from, once more)
    for _ in range(2):
        variables = [name.parent for name in get("var.name") if name.text in heads]
        for declarator in variables:
            heads |= value_heads(declarator.child_by_field_name("value"))
    for name in get("param"):
        text = name.text
        if (text in heads or b"this." + text in heads or declares_field(name)) and _named_type(name.parent):
            ex.parameter(name.parent)
    # `const { collections } = useStores(); const collection = collections.get(id)`: a call on a
    # destructured name reads that name's alias, which is made below; such variables are typed then
    destructured_names = {bound.text for pattern in get("var.pattern") for _, bound in object_bindings(pattern)}
    reading = [d for d in variables if _called_head(d) in destructured_names] if destructured_names else []
    deferred = {d.id for d in reading}
    untyped = [declarator for declarator in variables if declarator.id not in deferred and not ex.variable(declarator)]
    for node in get("param.destructured"):  # ({ actionManager }: { actionManager: ActionManager }) => …
        ex.destructured_parameter(node, heads)
    for node in get("field"):  # in local classes too: `this.x` is typed there as well
        ex.field(node)
    ex.declared_types(ex.declarations)
    ex.callbacks(get("callback"), heads)  # after the types of names a callee may start with
    ex.loop_elements(loops, heads)
    # a binary operator follows its left operand: a query pattern naming it (`&&`, `instanceof`)
    # keeps a state alive through every left operand, quadratic in a chain of thousands
    binaries = caps.get("binary", ())  # (in no order: the guards found in them are sorted below)
    ex.chains = (binaries, caps.get("chain", ()))  # the nodes of conditions: their parents without Node.parent
    if b"instanceof" in source:
        ex.narrowed([b for b in binaries if operator_of(b) == "instanceof"], heads)
    for declarator in untyped:  # read from a callback's or a loop's element: `const meta = item.metadata`
        ex.variable(declarator)
    ex.property_callbacks(get("callback.property"), heads)
    ex.declared_callbacks(caps.get("typed_fn", ()), heads)  # each types its own function's parameters
    # last: a guard's reading falls back on the type its argument has without it; in document
    # order, an outer guard's type before an inner one's
    ex.guarded(sorted(get("guard") + right_guards(binaries), key=by_start), heads)
    ex.shadowed(caps.get("param", []))
    # destructured names worth binding: those called (`const { f } = x; f()`) and those a member
    # call starts with (`const { dialogs } = useStores(); dialogs.close()`)
    called = {node.text for node in get("call.ident")} | heads
    for pattern in get("var.pattern"):
        value = pattern.parent.child_by_field_name("value")
        if value is not None:
            ex.destructured(pattern, value, called)
    for declarator in reading:
        ex.variable(declarator)
    static_imports = len(ex.out.imports)
    for node in get("call.import"):
        ex.module_call(node, "dynamic")
    # a parameter or nested declaration named like a module binding that is used hides it there
    # (what `import()` binds is the file's too: `const { f } = await import("./f")`)
    loaded = {name.encode() for record in ex.out.imports[static_imports:] for name in record.bindings}
    used = called | {node.text.partition(b".")[0] for node in get("jsx")} if tsx else called
    hidden = (ex.module_names | loaded) & used
    if hidden:
        ex.hide_locals([*caps.get("param", ()), *caps.get("local", ()), *caps.get("var.name", ())], hidden)
    for node in get("return.object"):  # `return { touch }` of a hook: `const { touch } = useX()`
        ex.returned_object(node)
    ex.calls(get("call.ident"), get("call.member"), get("call.super"))
    if tsx:
        ex.jsx(get("jsx"))
    for node in get("new"):
        ex.new(node)
    for node in get("heritage"):
        ex.heritage(node)
    for node in get("iface_extends"):
        ex.interface_extends(node)
    ex.references(caps.get("typeref", []), caps.get("typeref.nested", []), caps.get("valref", []))  # orders them itself
    ex.out.imports.sort(key=lambda i: i.line)  # stable: same-line statements keep their order
    if tree.root_node.has_error:
        ex.out.error = ts_mends.syntax_error(tree.root_node, source)
    return ex.out


_NAMED_ANNOTATIONS = frozenset({"type_identifier", "generic_type", "nested_type_identifier", "union_type",
                                "array_type", "readonly_type"})


def _named_type(parameter: tree_sitter.Node) -> bool:
    """``x: Db``, ``x: Repo<T>``, ``x: ns.Db``, ``x: Db | null``, ``x: Db[]``: a type the linker can look up."""
    annotation = parameter.child_by_field_name("type")
    return annotation is not None and annotation.named_child_count > 0 and \
        annotation.named_children[0].type in _NAMED_ANNOTATIONS


def _template_renders(out: FileExtraction, source: bytes, kebab: bool) -> None:
    """A component's template renders the components its script binds (``<TheFooter/>`` after
    ``import TheFooter from './TheFooter.vue'``), linked like JSX, from the file itself. Any
    other tag is an HTML element, a web component or, in Vue, a component registered globally:
    those are kept apart (``globals``) and linked only where a ``GlobalComponents`` declaration
    (unplugin's generated ``components.d.ts``) names them."""
    bound = {s.name for s in out.symbols if s.parent is None}
    for record in out.imports:
        bound.update(record.bindings)
    seen = set()
    for name, line in sfc.component_tags(source, kebab):
        if name in seen:
            continue
        seen.add(name)
        if name.partition(".")[0] in bound:
            out.renders.append(("", name, line))
        elif kebab and "." not in name:  # Vue: maybe a global component (``Names.global_component``)
            out.globals.append((name, line))
