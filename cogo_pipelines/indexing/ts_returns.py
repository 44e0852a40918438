"""What a function that declares no return type returns, read from its body: ``this`` (a
fluent method), the class of ``new X()`` it returns, or the one call it returns.

Apart from ``ts_signatures`` because these read a body's returns, not a declaration: TypeScript
infers such a function's type from them, and the extractor takes only the forms where one
reading holds (one ``return`` at the top, none nested that could return something else).
"""

from __future__ import annotations

import tree_sitter

from cogo_pipelines.indexing.ts_nodes import const_class, type_name

_NOTHING = frozenset((b"undefined", b"null"))
_NOT_THIS_SCOPE = frozenset(("function_declaration", "function_expression", "arrow_function", "method_definition",
                              "class_declaration", "class", "generator_function_declaration", "generator_function"))


def returns_this(fn: tree_sitter.Node) -> bool:
    """Whether a method without a declared return type returns ``this`` wherever it returns
    (``setLimits(limits) { this.limits = limits; return this }``: TypeScript infers ``this``, a
    fluent call's receiver again), the returns of functions nested in it aside."""
    body = fn.child_by_field_name("body")
    if body is None or b"return this" not in body.text:
        return False
    found, stack = False, list(body.named_children)
    while stack:
        node = stack.pop()
        if node.type == "return_statement":
            value = node.named_children[0] if node.named_child_count else None
            if value is None or value.type != "this":
                return False
            found = True
        elif node.type not in _NOT_THIS_SCOPE:
            stack.extend(node.named_children)
    return found


def constructed_return(fn: tree_sitter.Node) -> str | None:
    """The class a function without a declared return type returns, when its body (not a nested
    block) ends in ``return new X(...)`` or returns a ``const`` it set to ``new X(...)`` (or
    declared as ``X``): ``getTestServer() { const server = new TestServer(app); ...; return
    server }``. Only one ``return`` at the top of the body: a function that returns in several
    places may return several types."""
    body = fn.child_by_field_name("body")
    if body is None or body.type != "statement_block":
        return None
    statements = body.named_children
    returns = [n for n in statements if n.type == "return_statement"]
    if len(returns) != 1 or not returns[0].named_child_count:
        return None
    value = returns[0].named_children[0]
    if value.type == "new_expression":
        return type_name(value.child_by_field_name("constructor"))
    if value.type != "identifier":
        return None
    return const_class(statements, value.text, before=value.start_byte)


def returned_call(fn: tree_sitter.Node, source: bytes) -> tree_sitter.Node | None:
    """The call a function without a declared return type returns, or None: an arrow's
    expression body, or the one ``return`` of a body with no other (nested ones included: they
    could return something else), through parentheses and a ternary whose other branch is
    ``undefined`` or ``null`` (outline's ``getCollectionForDocument(d) { return d.collectionId ?
    this.rootStore.collections.get(d.collectionId) : undefined }``). Not of a generator, which
    returns its iterator whatever it returns."""
    body = fn.child_by_field_name("body")
    if body is None or fn.type.startswith("generator") or any(c.type == "*" for c in fn.children):
        return None
    value = body
    if body.type == "statement_block":
        returns = [n for n in body.named_children if n.type == "return_statement"]
        if len(returns) != 1 or not returns[0].named_child_count \
                or source.count(b"return", body.start_byte, body.end_byte) != 1:
            return None
        value = returns[0].named_children[0]
    while value.type == "parenthesized_expression" and value.named_child_count:
        value = value.named_children[0]
    if value.type == "ternary_expression":
        yes, no = value.child_by_field_name("consequence"), value.child_by_field_name("alternative")
        if yes is None or no is None:
            return None
        value = yes if no.text in _NOTHING else no if yes.text in _NOTHING else None
        if value is None:
            return None
    return value if value.type in ("call_expression", "await_expression") else None
