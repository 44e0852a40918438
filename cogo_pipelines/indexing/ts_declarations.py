"""Declarations of a TypeScript file: its symbols (qualified names, ranges, signatures), which
symbol encloses a byte, and which nodes sit at module level or in a class or namespace body.
A mixin of ``typescript._Extractor``, which holds the state.

Apart from the module interface (``ts_module_interface``: imports, exports, ``import()``) because
symbols are what every later pass (calls, types, chunks) hangs off; the interface only reads them.
"""

from __future__ import annotations

import bisect
import operator

import tree_sitter

from cogo_pipelines.indexing.model import Symbol
from cogo_pipelines.indexing.ts_nodes import (
    CLASS_TYPES,
    CONTAINERS,
    FUNCTION_VALUES,
    KINDS,
    signature_of,
)


class Declarations:
    # --- symbols ---------------------------------------------------------------------
    def written(self, node: tree_sitter.Node) -> str:
        """``node``'s text as the file has it: the tree was parsed from bytes whose grammar gaps
        were bridged in place (``ts_gaps``, ``ts_mends``: a member named ``abstract`` parses as
        ``abstrac_``), and a declared name is the real one."""
        return self.source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def collect_symbols(self, decls: list[tree_sitter.Node], defaults: list[tree_sitter.Node]) -> None:
        found: list[tuple[tree_sitter.Node, tree_sitter.Node, str, str, bool, tree_sitter.Node | None]] = []
        for node in decls:
            scope = self.scopes.get(node.id)  # (enclosing class / namespace, parent node)
            if scope is None:
                continue  # inside a function body: a local
            owner, parent = scope
            exported = parent.type == "export_statement"
            outer = parent if exported or parent.type == "ambient_declaration" else node
            if node.type in ("lexical_declaration", "variable_declaration"):
                for declarator in node.named_children:
                    if declarator.type != "variable_declarator":
                        continue
                    name_node = declarator.child_by_field_name("name")
                    if name_node is None or name_node.type != "identifier":
                        continue
                    value = declarator.child_by_field_name("value")
                    is_function = value is not None and value.type in FUNCTION_VALUES
                    if owner is not None and owner.type in CLASS_TYPES:
                        continue
                    if not (is_function or exported):
                        continue
                    single = len(node.named_children) == 1
                    kind = "function" if is_function else "const"
                    found.append((
                        outer if single else declarator, node if single else declarator,
                        kind, self.written(name_node), exported, owner,
                    ))
                continue
            if node.type == "public_field_definition":
                value = node.child_by_field_name("value")
                if value is None or value.type not in FUNCTION_VALUES:
                    continue
            name_node = node.child_by_field_name("name")
            if name_node is None:
                continue
            name = self.written(name_node)
            if name_node.type == "string":
                name = name[1:-1]
            found.append((outer, node, KINDS[node.type], name, exported, owner))
        for node in defaults:
            kind = "class" if node.type == "class" else "function"
            found.append((node.parent, node, kind, "default", True, None))
            self.out.exports["default"] = "default"
        found.sort(key=lambda f: (f[0].start_byte, -f[0].end_byte))
        by_node: dict[int, int] = {}
        seen: dict[tuple[str, str], int] = {}
        apart: list[tuple[int, int, int]] = []  # more spans of a symbol declared twice with others between
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
                    by_node[node.id] = seen[key]
                    if seen[key] != len(self.out.symbols) - 1:
                        # a static and an instance method of one name, a getter and a setter
                        # with other members between: one symbol, read in each body, not in
                        # the members between them
                        apart.append((outer.start_byte, outer.end_byte, seen[key]))
                        continue
                    # overloads and get/set pairs: one symbol spanning all declarations
                    first.end_byte = outer.end_byte
                    first.end_line = outer.end_point[0] + 1
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
                kind=kind, name=name, qualified_name=qualified, signature=signature_of(node, self.source),
                start_line=outer.start_point[0] + 1, end_line=outer.end_point[0] + 1,
                start_byte=outer.start_byte, end_byte=outer.end_byte, exported=exported, parent=parent_q,
            ))
            self.symbol_nodes.append((outer.start_byte, outer.end_byte, index))
            self.parents.append(parent_index)
        self.span_parents = self.parents  # one span per symbol: a span's place is its symbol's index
        if apart:
            self.out.apart = [(start, end, self.out.symbols[i].qualified_name) for start, end, i in apart]
            self.symbol_nodes = sorted(self.symbol_nodes + apart, key=lambda n: (n[0], -n[1]))
            self.span_parents, stack = [], []
            for i, (start, _, _) in enumerate(self.symbol_nodes):
                while stack and self.symbol_nodes[stack[-1]][1] <= start:
                    stack.pop()
                self.span_parents.append(stack[-1] if stack else -1)
                stack.append(i)
        self.starts = [s for s, _, _ in self.symbol_nodes]

    def enclosing(self, byte: int) -> int:
        """Index of the innermost symbol containing ``byte``, -1 for module level."""
        i = bisect.bisect_right(self.starts, byte) - 1
        nodes, up = self.symbol_nodes, self.span_parents
        while i >= 0:
            start, end, index = nodes[i]
            if start <= byte < end:
                return index
            i = up[i]
        return -1

    def caller(self, node: tree_sitter.Node) -> str:
        i = self.enclosing(node.start_byte)
        return self.out.symbols[i].qualified_name if i >= 0 else ""


# the node types ``collect_symbols`` makes symbols of (where they sit at module level or in a class
# or namespace body)
DECLARATIONS = frozenset({
    "function_declaration", "generator_function_declaration", "function_signature", "class_declaration",
    "abstract_class_declaration", "interface_declaration", "type_alias_declaration", "enum_declaration",
    "internal_module", "module", "method_definition", "method_signature", "abstract_method_signature",
    "public_field_definition", "lexical_declaration", "variable_declaration",
})


def declaration_scopes(root: tree_sitter.Node) -> tuple[dict[int, tuple[tree_sitter.Node | None, tree_sitter.Node]],
                                                          list[tree_sitter.Node]]:
    """Node id -> (enclosing class / namespace node or None, parent node) for every node that
    sits at module level or in a class or namespace body, found from the root down; and those
    of them that are ``DECLARATIONS``, in document order.

    What is not here sits in a function body (a local). Going up with ``Node.parent`` instead
    costs tree-sitter a scan of the root's children per call: quadratic in the size of files
    with thousands of top-level statements (effect's Effect.ts). The declarations come from
    this walk rather than from the extraction's query: a query pattern would also capture the
    locals in every function body (two thirds of them), only for them to be dropped."""
    scopes: dict[int, tuple[tree_sitter.Node | None, tree_sitter.Node]] = {}
    declarations: list[tree_sitter.Node] = []
    stack: list[tuple[tree_sitter.Node, tree_sitter.Node | None]] = [(root, None)]
    while stack:
        node, owner = stack.pop()
        for child in node.named_children:
            scopes[child.id] = (owner, node)
            kind = child.type
            if kind in DECLARATIONS:
                declarations.append(child)
            if kind in CLASS_TYPES:
                stack.append((child, child))
            elif kind in ("internal_module", "module"):
                body = child.child_by_field_name("body")
                if body is not None:
                    stack.append((body, child))
            elif kind in CONTAINERS:
                stack.append((child, owner))
    declarations.sort(key=_DOCUMENT_ORDER)
    return scopes, declarations


_DOCUMENT_ORDER = operator.attrgetter("start_byte", "end_byte")
