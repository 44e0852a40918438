"""The module interface of a TypeScript file: imports, exports and re-exports, ``import()`` and
``require()`` calls, triple-slash references, and the names an exported object literal (or a
returned one) hands on. A mixin of ``typescript._Extractor``, which holds the state.

Apart from the symbols (``ts_declarations``) because this is what the module graph reads: the
edges between files and the names that cross them, each an ``ImportRecord`` or an export.
"""

from __future__ import annotations

import re

import tree_sitter

from cogo_pipelines.indexing.model import ImportRecord
from cogo_pipelines.indexing.specifiers import is_relative
from cogo_pipelines.indexing.ts_nodes import const_class, node_text, string_value, type_name
from cogo_pipelines.indexing.ts_scopes import in_block

_REFERENCE_RE = re.compile(rb"^///\s*<reference\s+path\s*=\s*['\"]([^'\"]+)['\"]")


class ModuleInterface:
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
                        bindings[node_text(c)] = "*"
                        break
            elif clause.type == "import_clause":
                for part in clause.named_children:
                    if part.type == "identifier":
                        bindings[node_text(part)] = "default"
                        all_specifiers_typed = False
                    elif part.type == "namespace_import":
                        ident = part.named_children[0] if part.named_child_count else None
                        bindings[node_text(ident)] = "*"
                        all_specifiers_typed = False
                    elif part.type == "named_imports":
                        for spec in part.named_children:
                            if spec.type != "import_specifier":
                                continue
                            name = node_text(spec.child_by_field_name("name"))
                            alias = spec.child_by_field_name("alias")
                            bindings[node_text(alias) if alias is not None else name] = name
                            typed = any(c.type == "type" for c in spec.children if not c.is_named)
                            all_specifiers_typed = typed if all_specifiers_typed is None else (all_specifiers_typed and typed)
        if source is None:
            return
        if kind == "import" and (type_only or all_specifiers_typed):
            kind = "type"
        self.out.imports.append(ImportRecord(
            specifier=string_value(source) or "", kind=kind, line=node.start_point[0] + 1, bindings=bindings,
        ))

    def export_statement(self, node: tree_sitter.Node) -> None:
        source = node.child_by_field_name("source")
        if source is not None:
            bindings: dict[str, str] = {}
            for part in node.named_children:
                if part.type == "namespace_export":
                    ident = part.named_children[0] if part.named_child_count else None
                    name = node_text(ident)
                    bindings[name[1:-1] if ident is not None and ident.type == "string" else name] = "*"
                elif part.type == "export_clause":
                    for spec in part.named_children:
                        if spec.type == "export_specifier":
                            name = node_text(spec.child_by_field_name("name"))
                            alias = spec.child_by_field_name("alias")
                            bindings[node_text(alias) if alias is not None else name] = name
            if not bindings:
                bindings = {"*": "*"}
            self.out.imports.append(ImportRecord(
                specifier=string_value(source) or "", kind="reexport", line=node.start_point[0] + 1, bindings=bindings,
            ))
            return
        declaration = node.child_by_field_name("declaration")
        is_default = any(c.type == "default" for c in node.children if not c.is_named)
        if declaration is not None:
            for name in _declared_names(declaration):
                self.out.exports["default" if is_default else name] = name
            if declaration.type in ("lexical_declaration", "variable_declaration") and not is_default:
                for d in declaration.named_children:  # export const api = { getX }
                    name, value = d.child_by_field_name("name"), d.child_by_field_name("value")
                    if name is not None and name.type == "identifier" and value is not None and value.type == "object":
                        self._object_exports(node_text(name), value)
                    elif name is not None and name.type == "object_pattern" and value is not None \
                            and value.type == "identifier":
                        self._instance_method_exports(node, name, node_text(value))
            return
        value = node.child_by_field_name("value")
        if value is not None:
            if value.type == "object":  # export default { pagedQuery, ... }
                self._object_exports("default", value)
            elif value.type == "identifier":
                self.out.exports["default"] = node_text(value)
                typed = const_class(node.parent.named_children, value.text) if node.parent is not None else None
                if typed:  # `const storage: BaseStorage = ...; export default storage`: a singleton too
                    self.out.types.setdefault("default", typed)
            elif value.type == "new_expression":  # `export default new Logger()`: a module's singleton
                typed = type_name(value.child_by_field_name("constructor"))
                if typed:
                    self.out.types["default"] = typed  # `import log from './Logger'; log.error()`
            elif value.type in ("function_declaration", "class_declaration", "generator_function_declaration"):
                name = value.child_by_field_name("name")
                if name is not None:
                    self.out.exports["default"] = node_text(name)
            return
        for part in node.named_children:
            if part.type == "export_clause":
                for spec in part.named_children:
                    if spec.type == "export_specifier":
                        name = node_text(spec.child_by_field_name("name"))
                        alias = spec.child_by_field_name("alias")
                        self.out.exports[node_text(alias) if alias is not None else name] = name
                        self.local_exports.add(name)
            elif part.type in ("function_declaration", "class_declaration", "abstract_class_declaration"):
                name = part.child_by_field_name("name")
                if name is not None:
                    self.out.exports["default" if is_default else node_text(name)] = node_text(name)
            elif part.type == "identifier" and not is_default:
                self.out.exports["export="] = node_text(part)  # export = x

    def _instance_method_exports(self, node: tree_sitter.Node, pattern: tree_sitter.Node, source: str) -> None:
        """``export const { allow, can: check } = cancan`` with ``const cancan = new CanCan()`` in
        the module: ``allow`` and ``check`` are ``CanCan.allow`` and ``CanCan.can`` for importers."""
        typed = const_class(node.parent.named_children, source.encode()) if node.parent is not None else None
        if not typed:
            return
        for part in pattern.named_children:
            if part.type == "shorthand_property_identifier_pattern":
                self.out.exports[node_text(part)] = f"{typed}.{node_text(part)}"
            elif part.type == "pair_pattern":
                key, bound = part.child_by_field_name("key"), part.child_by_field_name("value")
                if key is not None and bound is not None and bound.type == "identifier":
                    self.out.exports[node_text(bound)] = f"{typed}.{node_text(key)}"

    def _object_exports(self, owner: str, obj: tree_sitter.Node) -> None:
        """The properties of an exported object literal that name a module-level binding, as
        exports ``owner.key`` -> that name: ``import db from './db'; db.query()`` (or
        ``const { query } = db; query()``) calls the function ``query`` that ``db.ts`` wrote
        into ``export default { query }``. A spread may override the keys before it: those are
        dropped; anything but a plain name (``k: a.b``, a method) is left out."""
        members: dict[str, str] = {}
        for prop in obj.named_children:
            if prop.type == "shorthand_property_identifier":
                members[node_text(prop)] = node_text(prop)
            elif prop.type == "pair":
                key, value = prop.child_by_field_name("key"), prop.child_by_field_name("value")
                name = _property_key(key)
                if name is not None:
                    if value is not None and value.type == "identifier":
                        members[name] = node_text(value)
                    else:
                        members.pop(name, None)  # a later key replaces an earlier one
            elif prop.type == "spread_element":
                members.clear()
            elif prop.type == "method_definition":
                members.pop(_property_key(prop.child_by_field_name("name")) or "", None)
        for key, name in members.items():
            self.out.exports[f"{owner}.{key}"] = name

    def returned_object(self, obj: tree_sitter.Node) -> None:
        """``function useX() { …; return { touch } }``: a caller's ``const { touch } = useX()``
        calls the module's ``touch``. Recorded as the export ``useX().touch`` -> ``touch``
        (``linking`` reads it for ``<useX()>.touch`` when ``useX`` declares no return type),
        for a return of the symbol's own function only, and only names the function never
        mentions elsewhere (so none is a local or a parameter of the function). A value the
        function or method types (``const store = new Store(…); return { query, store }``, a
        test harness's ``return { http: this.http }``) is recorded as ``types["useX().store"]``:
        what ``store.m()`` calls after ``const { store } = useX()``."""
        fn = obj.parent.parent if obj.parent is not None else None
        while fn is not None and fn.type == "statement_block":
            fn = fn.parent
        if fn is None or fn.type not in _FUNCTION_NODES:
            return  # a return inside an `if`, a loop, a nested block: not the one shape kept
        index = self.enclosing(obj.start_byte)
        if index < 0:
            return
        symbol = self.out.symbols[index]
        named = fn.child_by_field_name("name") if fn.type != "arrow_function" else None
        if named is None and fn.parent is not None and fn.parent.type == "variable_declarator":
            named = fn.parent.child_by_field_name("name")
        if named is None or node_text(named) != symbol.name:
            return
        method = symbol.parent is not None
        body = self.source[fn.start_byte:fn.end_byte]
        inside = self.source[obj.start_byte:obj.end_byte]
        for prop in obj.named_children:
            if prop.type == "shorthand_property_identifier":
                name, value = node_text(prop), prop
            elif prop.type == "pair" and prop.child_by_field_name("key") is not None \
                    and prop.child_by_field_name("key").type == "property_identifier":
                name, value = node_text(prop.child_by_field_name("key")), prop.child_by_field_name("value")
                if value is None or value.type not in ("identifier", "member_expression"):
                    continue
            else:
                continue
            if not method and value is prop:
                word = re.compile(rb"(?<![\w$.])" + re.escape(name.encode()) + rb"(?![\w$])")
                if len(word.findall(body)) == len(word.findall(inside)):
                    self.out.exports[f"{symbol.qualified_name}().{name}"] = name
                    continue
            typed = self._name_type(index, name, prop.start_byte) if value is prop else self.chain_type(value, index)
            if typed and not typed.startswith("this"):
                self.out.types[f"{symbol.qualified_name}().{name}"] = typed

    def ambient_modules(self, declarations: list[tree_sitter.Node], is_module: bool) -> None:
        """The module edges of top-level ``declare module "x" { … }`` blocks, as tsc collects
        them (``collectModuleReferences`` in program.ts). In a module (a file with an import or
        export) such a block is an augmentation of ``x``, which tsc resolves like an import: an
        edge to ``x`` (``declare module "./foo"`` depends on foo.ts), its body never read (an
        import there is error TS2667). In a script (a ``.d.ts`` of ambient modules) the block
        declares ``x`` itself; its body's imports and re-exports of non-relative specifiers are
        the file's edges (a relative one is error TS2439, and so is a relative ``x``: TS2436), and
        a ``declare module "y"`` nested there augments ``y``. Every such edge is a ``type`` edge:
        an ambient block emits nothing. What an import in the block binds is bound for the
        linking of the block's type references; what it re-exports is the ambient module's, not
        this file's, so those edges bind nothing."""
        for declaration in declarations:
            for block in declaration.named_children:
                if block.type == "module":
                    self._ambient_module(block, is_module, inside=False)

    def _ambient_module(self, block: tree_sitter.Node, is_module: bool, inside: bool) -> None:
        name = block.child_by_field_name("name")
        spec = string_value(name) if name is not None and name.type == "string" else None
        if not spec:
            return  # `declare module Foo {}`: a namespace
        if is_module or inside:
            # an augmentation; a wildcard (`"*.svg"`) is no module to resolve, and an import
            # of the same module already makes the edge
            if not (inside and is_relative(spec)) and "*" not in spec \
                    and not any(record.specifier == spec for record in self.out.imports):
                self.out.imports.append(ImportRecord(specifier=spec, kind="type", line=block.start_point[0] + 1))
            return
        body = block.child_by_field_name("body")
        if is_relative(spec) or body is None:
            return
        for statement in body.named_children:
            first = len(self.out.imports)
            if statement.type == "import_statement":
                self.import_statement(statement)
            elif statement.type == "export_statement" and statement.child_by_field_name("source") is not None:
                self.export_statement(statement)
                for record in self.out.imports[first:]:
                    record.bindings = {}
            elif statement.type in ("ambient_declaration", "module"):  # `declare` is optional in there
                for nested in statement.named_children if statement.type == "ambient_declaration" else [statement]:
                    if nested.type == "module":
                        self._ambient_module(nested, is_module, inside=True)
                continue
            kept = [record for record in self.out.imports[first:] if record.specifier and not is_relative(record.specifier)]
            for record in kept:
                record.kind = "type"
            self.out.imports[first:] = kept

    def directive(self, node: tree_sitter.Node) -> None:
        match = _REFERENCE_RE.match(node.text)
        if match:
            self.out.imports.append(ImportRecord(
                specifier=match.group(1).decode("utf-8", "replace"), kind="reference", line=node.start_point[0] + 1,
            ))

    def module_call(self, node: tree_sitter.Node, kind: str) -> None:
        """``import(x)`` / ``require(x)``: a literal is an edge; anything else a ``maybe``."""
        args = node.child_by_field_name("arguments")
        # comments (``/* webpackChunkName: "x" */``) are named nodes too: the argument is the first other one
        first = next((c for c in args.named_children if c.type != "comment"), None) if args is not None else None
        if first is None:
            return
        value = string_value(first)
        bindings = None
        if kind == "dynamic" and _in_type(node):
            kind = "type"
            bindings = _global_component(node)
        if value is not None:
            if bindings is None:
                bindings = _assigned_bindings(node)
                if bindings and self.module_names and in_block(node):
                    # a block's own `const crypto = require("crypto")` leaves the module's `crypto` as it is
                    bindings = {k: v for k, v in bindings.items() if k.encode() not in self.module_names}
            self.out.imports.append(ImportRecord(
                specifier=value, kind=kind, line=node.start_point[0] + 1, bindings=bindings,
            ))
        else:
            self.out.imports.append(ImportRecord(
                specifier=None, kind="maybe", line=node.start_point[0] + 1, expression=node_text(first)[:500],
            ))


def _assigned_bindings(call: tree_sitter.Node) -> dict[str, str]:
    """What ``const x = require('m')`` / ``const {a, b: c} = await import('m')`` binds, also as
    one element of ``const [{ a }, b] = await Promise.all([import('m'), import('n')])``."""
    parent, name = call.parent, None
    if parent is not None and parent.type == "array":  # Promise.all([...]): the pattern's element at its place
        elements = [c for c in parent.named_children if c.type != "comment"]
        call_of = parent.parent.parent if parent.parent is not None and parent.parent.type == "arguments" else None
        if call_of is None or call_of.type != "call_expression" or node_text(call_of.child_by_field_name("function")) != "Promise.all":
            return {}
        declarator = call_of.parent.parent if call_of.parent is not None and call_of.parent.type == "await_expression" else None
        pattern = declarator.child_by_field_name("name") if declarator is not None and declarator.type == "variable_declarator" else None
        if pattern is None or pattern.type != "array_pattern":
            return {}
        parts = [c for c in pattern.named_children if c.type != "comment"]
        position = next(i for i, element in enumerate(elements) if element.id == call.id)
        name = parts[position] if position < len(parts) else None
    else:
        if parent is not None and parent.type == "await_expression":
            parent = parent.parent
        if parent is not None and parent.type == "variable_declarator":
            name = parent.child_by_field_name("name")
    if name is None:
        return {}
    if name.type == "identifier":
        return {node_text(name): "*"}
    bindings = {}
    if name.type == "object_pattern":
        for part in name.named_children:
            if part.type == "shorthand_property_identifier_pattern":
                bindings[node_text(part)] = node_text(part)
            elif part.type == "pair_pattern":
                key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
                if key is not None and value is not None and value.type == "identifier":
                    bindings[node_text(value)] = node_text(key)
    return bindings


def _global_component(call: tree_sitter.Node) -> dict[str, str] | None:
    """``TheFooter: typeof import('./TheFooter.vue')['default']`` (or ``….RouterLink``) in an
    interface ``GlobalComponents`` (Vue's registry of global components, which unplugin writes
    into ``components.d.ts``): the binding ``{"TheFooter": "default"}``, else None."""
    query = call.parent
    if query is None or query.type not in ("type_query", "member_expression"):
        return None
    if query.type == "member_expression":  # typeof import('x').Name
        prop = query.child_by_field_name("property")
        exported, query = (node_text(prop) if prop is not None else None), query.parent
        holder = query.parent if query is not None and query.type == "type_query" else None
    else:  # typeof import('x')['name']
        lookup = query.parent
        index = lookup.named_children[-1] if lookup is not None and lookup.type == "lookup_type" else None
        exported = string_value(index.named_children[0]) if index is not None and index.type == "literal_type" \
            and index.named_children else None
        holder = lookup.parent if lookup is not None else None
    if exported is None or holder is None or holder.type != "type_annotation":
        return None
    signature = holder.parent
    body = signature.parent if signature is not None and signature.type == "property_signature" else None
    interface = body.parent if body is not None and body.type == "interface_body" else None
    name = interface.child_by_field_name("name") if interface is not None else None
    if name is None or name.text != b"GlobalComponents":
        return None
    key = _property_key(signature.child_by_field_name("name"))
    return {key: exported} if key else None


def _in_type(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("type_query", "type_annotation", "type_alias_declaration", "generic_type", "lookup_type"):
            return True
        if parent.type in ("statement_block", "program", "arrow_function"):
            return False
        parent = parent.parent
    return False


_FUNCTION_NODES = ("function_declaration", "arrow_function", "function_expression", "function", "method_definition")


def _property_key(key: tree_sitter.Node | None) -> str | None:
    """An object literal's key as a name: ``k`` or ``"k"`` (computed keys are not)."""
    if key is None:
        return None
    if key.type == "property_identifier":
        return node_text(key)
    if key.type == "string":
        text = node_text(key)[1:-1]
        return text if text.isidentifier() else None
    return None


def _declared_names(node: tree_sitter.Node) -> list[str]:
    if node.type in ("lexical_declaration", "variable_declaration"):
        names = []
        for d in node.named_children:
            if d.type == "variable_declarator":
                name = d.child_by_field_name("name")
                if name is not None and name.type == "identifier":
                    names.append(node_text(name))
        return names
    if node.type == "ambient_declaration":
        return [n for c in node.named_children for n in _declared_names(c)]
    name = node.child_by_field_name("name")
    return [node_text(name)] if name is not None and name.type != "string" else []
