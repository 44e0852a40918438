"""Where a name bound in TypeScript is visible: the block of a ``const``/``let``, the function of
a ``var`` or a parameter, nothing narrower than the module for top-level and namespace bindings.
The call graph needs it to tell a local name from the module's binding of the same name."""

from __future__ import annotations

import tree_sitter

_SCOPING_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function_declaration",
                                "method_definition", "generator_function", "generator_function_declaration"})


def binding_scope(declarator: tree_sitter.Node) -> tree_sitter.Node | None:
    """The node a declared name is visible in: the block around a ``const``/``let`` (its
    function for ``var``), None at module level (the module-wide binding serves there)."""
    declaration = declarator.parent
    if declaration is None:
        return None
    scope = declaration.parent
    if declaration.type == "variable_declaration":  # var: function scoped
        scope = function_around(scope)
    if scope is None or scope.type == "program":
        return None
    return scope


def function_around(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """``node`` itself or its nearest ancestor that is a function or the program: where a ``var`` holds."""
    while node is not None and node.type not in _SCOPING_FUNCTIONS and node.type != "program":
        node = node.parent
    return node


_MODULE_BODIES = frozenset({"internal_module", "module"})  # a namespace's / `declare module`'s body


def local_scope(name: tree_sitter.Node) -> tree_sitter.Node | None:
    """The node a name bound at ``name`` is visible in when that binding is local: a parameter's
    function, a nested function's or a ``const``/``let``'s block, a ``var``'s function, a catch
    clause, a ``for (const x of …)`` loop; the binding may be a destructuring pattern's. None at
    module level and in a namespace's body, where the module-wide binding is this one."""
    node = name.parent
    while node is not None:
        kind = node.type
        if kind == "variable_declarator":  # what import() / require() binds is the file's (an import's bindings)
            return None if _loads_modules(node.child_by_field_name("value")) else _local(binding_scope(node))
        if kind in ("required_parameter", "optional_parameter"):
            return node.parent.parent if node.parent is not None else None  # formal_parameters' function
        if kind in ("function_declaration", "generator_function_declaration", "arrow_function"):
            # its name (in the block around it) or an arrow's one parameter without parentheses
            return _local(node.parent) if kind != "arrow_function" else node
        if kind == "catch_clause":
            return node
        if kind == "for_in_statement":  # `for (const x of xs)`; without const/let/var it assigns
            declared = node.child_by_field_name("kind")
            if declared is None:
                return None
            return node if declared.type != "var" else _local(function_around(node.parent))
        if kind not in _PATTERNS:
            return None
        node = node.parent
    return None


_PATTERNS = frozenset({"object_pattern", "array_pattern", "pair_pattern", "rest_pattern", "assignment_pattern",
                       "object_assignment_pattern"})


def in_block(node: tree_sitter.Node) -> bool:
    """``node`` is inside a function or a block, not at module level (nor a namespace's)."""
    parent = node.parent
    while parent is not None:
        if parent.type in _SCOPING_FUNCTIONS or parent.type == "statement_block" and _local(parent) is not None:
            return True
        parent = parent.parent
    return False


def _loads_modules(value: tree_sitter.Node | None) -> bool:
    """``import(…)``, ``require(…)``, awaited, or ``Promise.all`` of an array holding one."""
    if value is not None and value.type == "await_expression" and value.named_child_count:
        value = value.named_children[0]
    if value is None or value.type != "call_expression":
        return False
    fn = value.child_by_field_name("function")
    if fn is not None and (fn.type == "import" or fn.type == "identifier" and fn.text == b"require"):
        return True
    args = value.child_by_field_name("arguments")
    if fn is None or fn.text != b"Promise.all" or args is None or not args.named_child_count:
        return False
    return any(_loads_modules(element) for element in args.named_children[0].named_children
               if args.named_children[0].type == "array")


def _local(scope: tree_sitter.Node | None) -> tree_sitter.Node | None:
    if scope is None or scope.type in ("program", "export_statement"):
        return None
    if scope.type == "statement_block" and scope.parent is not None and scope.parent.type in _MODULE_BODIES:
        return None
    return scope
