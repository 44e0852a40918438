"""Tree-sitter extraction of one TypeScript file: symbols, imports, exports, calls, heritage.

One compiled query per grammar collects every node of interest in a single C-level pass
(``QueryCursor.captures``); Python only looks at the captured nodes and their direct
children, never recursing over the whole tree. The result is plain data (``model``) so it
can be cached by content hash and shipped between processes.
"""

from __future__ import annotations

import bisect
import operator
import re
import threading

import tree_sitter
import tree_sitter_typescript

from cogo_pipelines.indexing.model import CallSite, FileExtraction, ImportRecord, Symbol

_LANGUAGES = {
    False: tree_sitter.Language(tree_sitter_typescript.language_typescript()),
    True: tree_sitter.Language(tree_sitter_typescript.language_tsx()),
}

_QUERY_TEXT = """
(program (import_statement) @import)
(export_statement) @export
(program (comment) @directive)
(call_expression function: (identifier) @call.ident)
(call_expression function: (member_expression) @call.member)
(call_expression function: (import)) @call.import
(new_expression constructor: (_) @new)
(class_heritage) @heritage
(extends_type_clause) @iface_extends
(variable_declarator) @var
(required_parameter pattern: (identifier) type: (type_annotation [(type_identifier) (generic_type) (nested_type_identifier)])) @param
(optional_parameter pattern: (identifier) type: (type_annotation [(type_identifier) (generic_type) (nested_type_identifier)])) @param
(type_identifier) @typeref
(nested_type_identifier) @typeref.nested
(arguments (identifier) @valref)
(pair value: (identifier) @valref)
(export_statement value: [(class) (function_expression) (arrow_function)] @default_decl)
[
  (function_declaration) (generator_function_declaration) (function_signature)
  (class_declaration) (abstract_class_declaration) (interface_declaration)
  (type_alias_declaration) (enum_declaration) (internal_module) (module)
  (method_definition) (method_signature) (abstract_method_signature)
  (public_field_definition) (lexical_declaration) (variable_declaration)
] @decl
"""

_KINDS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "function_signature": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "class": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "internal_module": "namespace",
    "module": "namespace",
    "method_definition": "method",
    "method_signature": "method",
    "abstract_method_signature": "method",
    "public_field_definition": "method",
}
_CLASS_TYPES = {"class_declaration", "abstract_class_declaration", "class"}
# Node types a symbol may sit inside; anything else (a function body) makes it local.
_CONTAINERS = {
    "program", "export_statement", "ambient_declaration", "class_body", "expression_statement",
    "class_declaration", "abstract_class_declaration", "class", "internal_module", "module",
}
_FUNCTION_VALUES = {"arrow_function", "function_expression", "generator_function"}
_BODY_FIELDS = ("body",)
_REFERENCE_RE = re.compile(rb"^///\s*<reference\s+path\s*=\s*['\"]([^'\"]+)['\"]")
_SIMPLE_CHAIN = re.compile(r"^[\w$#]+(\.[\w$#]+)*$")
_SIGNATURE_MAX = 300

_local = threading.local()


class _Query:
    def __init__(self, tsx: bool) -> None:
        self.query = tree_sitter.Query(_LANGUAGES[tsx], _QUERY_TEXT)


_queries: dict[bool, _Query] = {}


def _query(tsx: bool) -> tree_sitter.Query:
    if tsx not in _queries:
        _queries[tsx] = _Query(tsx)
    return _queries[tsx].query


def is_tsx(path: str) -> bool:
    return path.lower().endswith(".tsx")


def parse(source: bytes, tsx: bool) -> tree_sitter.Tree:
    """Parse with a per-thread parser (parsers are not thread-safe, languages are)."""
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    if tsx not in parsers:
        parsers[tsx] = tree_sitter.Parser(_LANGUAGES[tsx])
    return parsers[tsx].parse(source)


def check_source(source: bytes) -> str | None:
    """Why a file cannot be read as TypeScript text, or None."""
    if b"\x00" in source[:8192]:
        return "binary file (NUL bytes)"
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8: {exc.reason} at byte {exc.start}"
    return None


def _text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def _string_value(node: tree_sitter.Node) -> str | None:
    """The value of a string literal or of a template without substitutions."""
    if node.type == "string":
        return _text(node)[1:-1]
    if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.named_children):
        return _text(node)[1:-1]
    return None


def _signature(node: tree_sitter.Node, source: bytes) -> str:
    """Declaration text up to its body, whitespace-collapsed."""
    end = node.end_byte
    body = node.child_by_field_name("body")
    if node.type in ("lexical_declaration", "variable_declaration", "variable_declarator", "public_field_definition"):
        holder = node
        if node.type in ("lexical_declaration", "variable_declaration") and node.named_child_count:
            holder = node.named_children[0]
        value = holder.child_by_field_name("value")
        if value is not None and value.type in _FUNCTION_VALUES:
            body = value.child_by_field_name("body")
    if body is not None and node.type != "type_alias_declaration":
        end = body.start_byte
    end = min(end, node.start_byte + 2 * _SIGNATURE_MAX)
    text = " ".join(source[node.start_byte:end].decode("utf-8", "replace").split())
    if text.endswith("{"):
        text = text[:-1].rstrip()
    if text.endswith("=>"):
        text = text[:-2].rstrip()
    return text if len(text) <= _SIGNATURE_MAX else text[: _SIGNATURE_MAX - 1] + "…"


def _type_name(node: tree_sitter.Node | None) -> str | None:
    """The class-like name of a type annotation / constructor expression (``Foo<T>`` → ``Foo``)."""
    if node is None:
        return None
    if node.type == "type_annotation":
        node = node.named_children[0] if node.named_child_count else None
        if node is None:
            return None
    if node.type == "generic_type":
        node = node.child_by_field_name("name")
    if node is not None and node.type in ("type_identifier", "identifier", "nested_type_identifier", "member_expression"):
        return _text(node)
    return None


class _Extractor:
    def __init__(self, path: str, source: bytes, tree: tree_sitter.Tree) -> None:
        self.path = path
        self.source = source
        self.tree = tree
        self.out = FileExtraction(path=path)
        self.symbol_nodes: list[tuple[int, int, int]] = []  # (start, end, index into symbols)
        self.starts: list[int] = []
        self.parents: list[int] = []  # index of the enclosing symbol, -1 at module level
        self.instance_types: dict[tuple[str, str], str] = {}
        self.local_exports: set[str] = set()
        self.seen_calls: set[tuple[str, str]] = set()

    # --- symbols ---------------------------------------------------------------------
    def _owner(self, node: tree_sitter.Node) -> tuple[bool, tree_sitter.Node | None, bool]:
        """(is a top-level/class/namespace member, the enclosing symbol node, exported directly)."""
        parent = node.parent
        exported = parent is not None and parent.type == "export_statement"
        while parent is not None:
            if parent.type not in _CONTAINERS:
                if parent.type == "statement_block" and parent.parent is not None and parent.parent.type in (
                    "internal_module", "module",
                ):
                    parent = parent.parent
                    return True, parent, exported
                return False, None, exported
            if parent.type in _CLASS_TYPES or parent.type in ("internal_module", "module"):
                return True, parent, exported
            if parent.type == "program":
                return True, None, exported
            parent = parent.parent
        return True, None, exported

    def collect_symbols(self, decls: list[tree_sitter.Node], defaults: list[tree_sitter.Node]) -> None:
        found: list[tuple[tree_sitter.Node, tree_sitter.Node, str, str, bool, tree_sitter.Node | None]] = []
        for node in decls:
            ok, owner, exported = self._owner(node)
            if not ok:
                continue
            outer = node.parent if exported or (node.parent and node.parent.type == "ambient_declaration") else node
            if node.type in ("lexical_declaration", "variable_declaration"):
                for declarator in node.named_children:
                    if declarator.type != "variable_declarator":
                        continue
                    name_node = declarator.child_by_field_name("name")
                    if name_node is None or name_node.type != "identifier":
                        continue
                    value = declarator.child_by_field_name("value")
                    is_function = value is not None and value.type in _FUNCTION_VALUES
                    if owner is not None and owner.type in _CLASS_TYPES:
                        continue
                    if not (is_function or exported):
                        continue
                    single = len(node.named_children) == 1
                    kind = "function" if is_function else "const"
                    found.append((
                        outer if single else declarator, node if single else declarator,
                        kind, _text(name_node), exported, owner,
                    ))
                continue
            if node.type == "public_field_definition":
                value = node.child_by_field_name("value")
                if value is None or value.type not in _FUNCTION_VALUES:
                    continue
            name_node = node.child_by_field_name("name")
            if name_node is None:
                continue
            name = _text(name_node)
            if name_node.type == "string":
                name = name[1:-1]
            found.append((outer, node, _KINDS[node.type], name, exported, owner))
        for node in defaults:
            kind = "class" if node.type == "class" else "function"
            found.append((node.parent, node, kind, "default", True, None))
            self.out.exports["default"] = "default"
        found.sort(key=lambda f: (f[0].start_byte, -f[0].end_byte))
        by_node: dict[int, int] = {}
        seen: dict[tuple[str, str], int] = {}
        for outer, node, kind, name, exported, owner in found:
            parent_index = by_node.get(owner.id, -1) if owner is not None else -1
            if owner is not None and parent_index < 0:
                continue  # member of a class expression or a local class
            parent_q = self.out.symbols[parent_index].qualified_name if parent_index >= 0 else None
            qualified = f"{parent_q}.{name}" if parent_q else name
            key = (qualified, kind)
            if key in seen:
                first = self.out.symbols[seen[key]]
                if kind in ("function", "method") and outer.start_byte >= first.end_byte:
                    # overloads and get/set pairs: one symbol spanning all declarations
                    first.end_byte = outer.end_byte
                    first.end_line = outer.end_point[0] + 1
                    by_node[node.id] = seen[key]
                    self.symbol_nodes[seen[key]] = (first.start_byte, first.end_byte, seen[key])
                    continue
                n = 2
                while (f"{qualified}#{n}", kind) in seen:
                    n += 1
                qualified = f"{qualified}#{n}"
                key = (qualified, kind)
            index = len(self.out.symbols)
            seen[key] = index
            by_node[node.id] = index
            self.out.symbols.append(Symbol(
                kind=kind, name=name, qualified_name=qualified, signature=_signature(node, self.source),
                start_line=outer.start_point[0] + 1, end_line=outer.end_point[0] + 1,
                start_byte=outer.start_byte, end_byte=outer.end_byte, exported=exported, parent=parent_q,
            ))
            self.symbol_nodes.append((outer.start_byte, outer.end_byte, index))
            self.parents.append(parent_index)
        self.starts = [s for s, _, _ in self.symbol_nodes]

    def enclosing(self, byte: int) -> int:
        """Index of the innermost symbol containing ``byte``, -1 for module level."""
        i = bisect.bisect_right(self.starts, byte) - 1
        while i >= 0:
            start, end, _ = self.symbol_nodes[i]
            if start <= byte < end:
                return i
            i = self.parents[i]
        return -1

    def caller(self, node: tree_sitter.Node) -> str:
        i = self.enclosing(node.start_byte)
        return self.out.symbols[i].qualified_name if i >= 0 else ""

    # --- imports and exports ---------------------------------------------------------
    def import_statement(self, node: tree_sitter.Node) -> None:
        source = node.child_by_field_name("source")
        type_only = any(c.type == "type" for c in node.children if not c.is_named)
        bindings: dict[str, str] = {}
        all_specifiers_typed = None
        kind = "import"
        for clause in node.named_children:
            if clause.type == "import_require_clause":
                kind = "require"
                source = clause.child_by_field_name("source")
                for c in clause.named_children:
                    if c.type == "identifier":
                        bindings[_text(c)] = "*"
                        break
            elif clause.type == "import_clause":
                for part in clause.named_children:
                    if part.type == "identifier":
                        bindings[_text(part)] = "default"
                        all_specifiers_typed = False
                    elif part.type == "namespace_import":
                        ident = part.named_children[0] if part.named_child_count else None
                        bindings[_text(ident)] = "*"
                        all_specifiers_typed = False
                    elif part.type == "named_imports":
                        for spec in part.named_children:
                            if spec.type != "import_specifier":
                                continue
                            name = _text(spec.child_by_field_name("name"))
                            alias = spec.child_by_field_name("alias")
                            bindings[_text(alias) if alias is not None else name] = name
                            typed = any(c.type == "type" for c in spec.children if not c.is_named)
                            all_specifiers_typed = typed if all_specifiers_typed is None else (all_specifiers_typed and typed)
        if source is None:
            return
        if kind == "import" and (type_only or all_specifiers_typed):
            kind = "type"
        self.out.imports.append(ImportRecord(
            specifier=_string_value(source) or "", kind=kind, line=node.start_point[0] + 1, bindings=bindings,
        ))

    def export_statement(self, node: tree_sitter.Node) -> None:
        source = node.child_by_field_name("source")
        if source is not None:
            bindings: dict[str, str] = {}
            for part in node.named_children:
                if part.type == "namespace_export":
                    ident = part.named_children[0] if part.named_child_count else None
                    name = _text(ident)
                    bindings[name[1:-1] if ident is not None and ident.type == "string" else name] = "*"
                elif part.type == "export_clause":
                    for spec in part.named_children:
                        if spec.type == "export_specifier":
                            name = _text(spec.child_by_field_name("name"))
                            alias = spec.child_by_field_name("alias")
                            bindings[_text(alias) if alias is not None else name] = name
            if not bindings:
                bindings = {"*": "*"}
            self.out.imports.append(ImportRecord(
                specifier=_string_value(source) or "", kind="reexport", line=node.start_point[0] + 1, bindings=bindings,
            ))
            return
        declaration = node.child_by_field_name("declaration")
        is_default = any(c.type == "default" for c in node.children if not c.is_named)
        if declaration is not None:
            for name in _declared_names(declaration):
                self.out.exports["default" if is_default else name] = name
            return
        value = node.child_by_field_name("value")
        if value is not None:
            if value.type == "identifier":
                self.out.exports["default"] = _text(value)
            elif value.type in ("function_declaration", "class_declaration", "generator_function_declaration"):
                name = value.child_by_field_name("name")
                if name is not None:
                    self.out.exports["default"] = _text(name)
            return
        for part in node.named_children:
            if part.type == "export_clause":
                for spec in part.named_children:
                    if spec.type == "export_specifier":
                        name = _text(spec.child_by_field_name("name"))
                        alias = spec.child_by_field_name("alias")
                        self.out.exports[_text(alias) if alias is not None else name] = name
                        self.local_exports.add(name)
            elif part.type in ("function_declaration", "class_declaration", "abstract_class_declaration"):
                name = part.child_by_field_name("name")
                if name is not None:
                    self.out.exports["default" if is_default else _text(name)] = _text(name)
            elif part.type == "identifier" and not is_default:
                self.out.exports["export="] = _text(part)  # export = x

    def directive(self, node: tree_sitter.Node) -> None:
        match = _REFERENCE_RE.match(node.text)
        if match:
            self.out.imports.append(ImportRecord(
                specifier=match.group(1).decode("utf-8", "replace"), kind="reference", line=node.start_point[0] + 1,
            ))

    def module_call(self, node: tree_sitter.Node, kind: str) -> None:
        """``import(x)`` / ``require(x)``: a literal is an edge; anything else a ``maybe``."""
        args = node.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_child_count else None
        if first is None:
            return
        value = _string_value(first)
        if kind == "dynamic" and _in_type(node):
            kind = "type"
        if value is not None:
            self.out.imports.append(ImportRecord(specifier=value, kind=kind, line=node.start_point[0] + 1))
        else:
            self.out.imports.append(ImportRecord(
                specifier=None, kind="maybe", line=node.start_point[0] + 1, expression=_text(first)[:500],
            ))

    # --- calls, instances, heritage, references --------------------------------------
    def calls(self, idents: list[tree_sitter.Node], members: list[tree_sitter.Node]) -> None:
        """Call sites, one per (enclosing symbol, callee); the hot loop of extraction."""
        symbols, seen, out = self.out.symbols, self.seen_calls, self.out.calls
        for node in idents:
            text = node.text
            if text == b"require":
                self.module_call(node.parent, "require")
                continue
            index = self.enclosing(node.start_byte)
            if (index, text) in seen:
                continue
            seen.add((index, text))
            caller = symbols[index].qualified_name if index >= 0 else ""
            out.append(CallSite(caller=caller, callee=text.decode("utf-8", "replace"), line=node.start_point[0] + 1))
        for node in members:
            text = node.text
            index = self.enclosing(node.start_byte)
            if (index, text) in seen:
                continue
            seen.add((index, text))
            callee = _callee(node)
            if not callee:
                continue
            head, _, rest = callee.rpartition(".")
            if head and head != "this" and not head.startswith("?"):
                typed = self._instance_type(index, head)
                if typed:
                    callee = f"{typed}.{rest}"
            caller = symbols[index].qualified_name if index >= 0 else ""
            out.append(CallSite(caller=caller, callee=callee, line=node.start_point[0] + 1))

    def new(self, node: tree_sitter.Node) -> None:
        callee = _callee(node)
        if callee and not callee.startswith("?"):
            index = self.enclosing(node.start_byte)
            if (index, "new " + callee) not in self.seen_calls:
                self.seen_calls.add((index, "new " + callee))
                caller = self.out.symbols[index].qualified_name if index >= 0 else ""
                self.out.calls.append(CallSite(caller=caller, callee="new " + callee, line=node.start_point[0] + 1))

    def _instance_type(self, index: int, head: str) -> str | None:
        scopes = []
        while index >= 0:
            scopes.append(self.out.symbols[index])
            index = self.parents[index]
        if head.startswith("this."):
            for sym in scopes:
                if sym.kind == "class":
                    return self.instance_types.get((sym.qualified_name, head))
            return None
        for sym in scopes:
            typed = self.instance_types.get((sym.qualified_name, head))
            if typed:
                return typed
        return self.instance_types.get(("", head))

    def variable(self, node: tree_sitter.Node) -> None:
        name = node.child_by_field_name("name")
        if name is None or name.type != "identifier":
            return
        value = node.child_by_field_name("value")
        typed = None
        if value is not None and value.type == "new_expression":
            typed = _type_name(value.child_by_field_name("constructor"))
        if typed is None:
            typed = _type_name(node.child_by_field_name("type"))
        if typed:
            self.instance_types[(self.caller(node), _text(name))] = typed

    def parameter(self, node: tree_sitter.Node) -> None:
        pattern = node.child_by_field_name("pattern")
        typed = _type_name(node.child_by_field_name("type"))
        if pattern is None or pattern.type != "identifier" or not typed:
            return
        i = self.enclosing(node.start_byte)
        scope = self.out.symbols[i].qualified_name if i >= 0 else ""
        self.instance_types[(scope, _text(pattern))] = typed
        if any(c.type == "accessibility_modifier" for c in node.named_children) and i >= 0:
            klass = self.out.symbols[i].parent
            if klass:
                self.instance_types[(klass, "this." + _text(pattern))] = typed

    def field(self, node: tree_sitter.Node) -> None:
        """Class fields give ``this.x`` a type for ``this.x.method()`` calls."""
        name = node.child_by_field_name("name")
        if name is None:
            return
        value = node.child_by_field_name("value")
        typed = _type_name(node.child_by_field_name("type"))
        if typed is None and value is not None and value.type == "new_expression":
            typed = _type_name(value.child_by_field_name("constructor"))
        if typed:
            klass = self.caller(node)
            if klass:
                self.instance_types[(klass, "this." + _text(name))] = typed

    def heritage(self, node: tree_sitter.Node) -> None:
        klass = self.caller(node)
        if not klass:
            return
        for clause in node.named_children:
            if clause.type == "extends_clause":
                value = clause.child_by_field_name("value")
                if value is not None:
                    self.out.heritage.append((klass, "extends", _text(value)))
            elif clause.type == "implements_clause":
                for t in clause.named_children:
                    name = _type_name(t)
                    if name:
                        self.out.heritage.append((klass, "implements", name))

    def interface_extends(self, node: tree_sitter.Node) -> None:
        iface = self.caller(node)
        if iface:
            for t in node.named_children:
                name = _type_name(t)
                if name:
                    self.out.heritage.append((iface, "extends", name))

    def references(self, typerefs: list[tree_sitter.Node], nested: list[tree_sitter.Node],
                   valrefs: list[tree_sitter.Node]) -> None:
        """Names used by each symbol that this file binds. A declaration's own name refers to
        itself and the graph drops self-references, so no parent checks are needed here."""
        inner_ends = {n.end_byte for n in nested}
        symbols, seen, out = self.out.symbols, set(), self.out.references
        # only names bound in this file can resolve: imports and declarations
        known = {s.name.encode() for s in symbols}
        for record in self.out.imports:
            known.update(name.encode() for name in record.bindings)
        for group, skip in ((nested, set()), (typerefs, inner_ends), (valrefs, set())):
            for node in group:
                if node.end_byte in skip:
                    continue  # the `C` of `B.C`
                text = node.text
                if text.partition(b".")[0] not in known:
                    continue
                index = self.enclosing(node.start_byte)
                if (index, text) not in seen:
                    seen.add((index, text))
                    caller = symbols[index].qualified_name if index >= 0 else ""
                    out.append((caller, text.decode("utf-8", "replace"), node.start_point[0] + 1))


def _in_type(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("type_query", "type_annotation", "type_alias_declaration", "generic_type", "lookup_type"):
            return True
        if parent.type in ("statement_block", "program", "arrow_function"):
            return False
        parent = parent.parent
    return False


def _declared_names(node: tree_sitter.Node) -> list[str]:
    if node.type in ("lexical_declaration", "variable_declaration"):
        names = []
        for d in node.named_children:
            if d.type == "variable_declarator":
                name = d.child_by_field_name("name")
                if name is not None and name.type == "identifier":
                    names.append(_text(name))
        return names
    if node.type == "ambient_declaration":
        return [n for c in node.named_children for n in _declared_names(c)]
    name = node.child_by_field_name("name")
    return [_text(name)] if name is not None and name.type != "string" else []


def _callee(fn: tree_sitter.Node) -> str | None:
    """``foo`` / ``this.bar`` / ``a.b.c``; ``?.name`` when the object is not a plain chain."""
    if fn.type == "identifier":
        return _text(fn)
    if fn.type == "member_expression":
        prop = fn.child_by_field_name("property")
        text = _text(fn).replace("?.", ".")
        if _SIMPLE_CHAIN.match(text) or (text.startswith("this.") and _SIMPLE_CHAIN.match(text[5:])):
            return text
        return "?." + _text(prop) if prop is not None else None
    if fn.type == "non_null_expression" and fn.named_child_count:
        return _callee(fn.named_children[0])
    return None


def extract_file(path: str, source: bytes) -> FileExtraction:
    """Everything the graph needs from one file. Unreadable files come back with ``error``
    set and nothing else; a file with syntax errors keeps what tree-sitter recovered."""
    problem = check_source(source)
    if problem:
        return FileExtraction(path=path, error=problem)
    tsx = is_tsx(path)
    try:
        tree = parse(source, tsx)
    except Exception as exc:  # noqa: BLE001 -- tree-sitter refuses (e.g. timeout); keep the run going
        return FileExtraction(path=path, error=f"parse failed: {exc}")
    ex = _Extractor(path, source, tree)
    caps = tree_sitter.QueryCursor(_query(tsx)).captures(tree.root_node)
    by_start = operator.attrgetter("start_byte")

    def get(name: str) -> list[tree_sitter.Node]:
        # captures are not in document order (it varies with the query's history): sort, so
        # the same bytes always give the same extraction
        return sorted(caps.get(name, ()), key=by_start)

    ex.collect_symbols(get("decl"), get("default_decl"))
    for node in sorted(get("import") + get("export"), key=lambda n: n.start_byte):
        if node.type == "import_statement":
            ex.import_statement(node)
        elif node.parent is not None and node.parent.type == "program":
            ex.export_statement(node)  # exports inside namespaces are not the module's
    for sym in ex.out.symbols:
        if sym.name in ex.local_exports and sym.parent is None:
            sym.exported = True
    first_statement = next((c.start_byte for c in tree.root_node.named_children if c.type != "comment"), len(source))
    for node in get("directive"):
        if node.start_byte < first_statement:  # tsc reads triple-slash directives only in the header
            ex.directive(node)
    for node in get("param"):
        ex.parameter(node)
    for node in get("var"):
        ex.variable(node)
    for node in get("decl"):
        if node.type == "public_field_definition":
            ex.field(node)
    for node in get("call.import"):
        ex.module_call(node, "dynamic")
    ex.calls(get("call.ident"), get("call.member"))
    for node in get("new"):
        ex.new(node)
    for node in get("heritage"):
        ex.heritage(node)
    for node in get("iface_extends"):
        ex.interface_extends(node)
    ex.references(get("typeref"), get("typeref.nested"), get("valref"))
    ex.out.imports.sort(key=lambda i: i.line)  # stable: same-line statements keep their order
    if tree.root_node.has_error:
        ex.out.error = _syntax_error(tree.root_node)
    return ex.out


def _syntax_error(root: tree_sitter.Node) -> str:
    # descend to the first ERROR / MISSING node for a useful line number
    node = root
    while True:
        for child in node.children:
            if child.has_error or child.is_error or child.is_missing:
                node = child
                break
        else:
            break
        if node.is_error or node.is_missing:
            break
    what = "missing " + node.type if node.is_missing else "syntax error"
    return f"{what} at line {node.start_point[0] + 1}, column {node.start_point[1] + 1}"
