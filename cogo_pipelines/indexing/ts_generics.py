"""Member types written through a class's type parameters, and ``ReturnType<X['m']>`` /
``ReturnType<typeof f>``.

mikro-orm's entity manager is ``class EntityManager<Driver extends IDatabaseDriver>`` with
``readonly driver: Driver`` and ``getPlatform(): ReturnType<Driver['getPlatform']>``; its
configuration keeps ``#platform: ReturnType<D['getPlatform']>``. Inside the class that declares
``Driver`` the parameter is not instantiated, and TypeScript reads a member of it through its
constraint: ``this.driver.getPlatform()`` is ``IDatabaseDriver``'s, ``this.getPlatform().m()``
is ``m`` of what that returns (``<IDatabaseDriver.getPlatform()>``). Anywhere else (a subclass
``extends EntityManager<SqlDriver>``, a variable of ``EntityManager<MySqlDriver>``, whose type
arguments the extractor does not keep) the parameter may stand for a subtype whose overrides the
constraint would hide. So a type read through a class's type parameter serves ``this`` in that
class only: a field's goes to ``instance_types`` and not to ``types``; a method's return is
written with the ``linking_types.BOUND`` mark, which the linker honours only for ``this.m()`` in the declaring
class (``linking_types``). ``ReturnType<X['m']>`` of a plain type ``X`` is read everywhere, as
is ``ReturnType<typeof getTestServer>`` (``<getTestServer()>``, outline's test helpers' parameters).
Read by the extractor's field, parameter and signature passes.
"""

from __future__ import annotations

import tree_sitter

from cogo_pipelines.indexing.ts_nodes import (
    SIMPLE_CHAIN,
    annotated,
    constraints,
    node_text,
    sole_member,
    type_parameters,
)

_CLASSES = ("class_declaration", "abstract_class_declaration", "class")
_RETURN_TYPE = b"ReturnType"
_FUNCTIONS = {
    "method_definition", "method_signature", "abstract_method_signature", "function_declaration", "function_signature",
    "generator_function_declaration", "function_expression", "generator_function", "arrow_function",
}


def member_type(annotation: tree_sitter.Node | None, member: tree_sitter.Node,
                generics: set[str] | None = None) -> tuple[str, bool] | None:
    """(type, read through a type parameter) of the annotation of a class member (a field, a
    parameter property, a method's return type) where it names one of the class's or method's
    type parameters or is ``ReturnType<X['m']>``; ``("", True)`` for a type parameter without
    a constraint (nothing to read); None where neither (the usual reading applies). A caller
    that knows the type parameters in scope passes them (``generics``): a plain name that is
    none of them is read as usual without a look at the declarations around."""
    inner = _written_type(annotation)
    if inner is None or inner.type not in ("type_identifier", "generic_type"):
        return None
    if inner.type == "generic_type":
        name = inner.child_by_field_name("name")
        if name is None or name.text != _RETURN_TYPE:
            return None
    elif generics is not None and node_text(inner) not in generics:
        return None
    generics, bounds = _bounds(member)
    if inner.type == "type_identifier":
        name = node_text(inner)
        return (bounds.get(name, ""), True) if name in generics else None
    found = _returned(inner, generics, bounds)
    return found if found is not None else ("", False)


def names_return_type(annotation: tree_sitter.Node | None) -> bool:
    """Whether ``annotation`` is ``ReturnType<…>`` (also ``| undefined``): a cheap test before
    ``member_type`` for the many parameters and variables that are not."""
    inner = _written_type(annotation)
    name = inner.child_by_field_name("name") if inner is not None and inner.type == "generic_type" else None
    return name is not None and name.text == _RETURN_TYPE


def _written_type(annotation: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The type an annotation (or a bare type) writes, the one member of a union without
    ``null`` / ``undefined`` for a union (``ReturnType<typeof f> | undefined``)."""
    inner = annotated(annotation) if annotation is not None and annotation.type == "type_annotation" else annotation
    return sole_member(inner) if inner is not None and inner.type == "union_type" else inner


def _returned(node: tree_sitter.Node, generics: set[str], bounds: dict[str, str]) -> tuple[str, bool] | None:
    """``ReturnType<X['m']>`` as the reference ``<X.m()>`` (nested: ``<<X.a()>.b()>``), with
    whether ``X`` was a type parameter read as its constraint; None for any other form."""
    name = node.child_by_field_name("name")
    args = node.child_by_field_name("type_arguments")
    if name is None or name.text != _RETURN_TYPE or args is None or args.named_child_count != 1:
        return None
    lookup = args.named_children[0]
    if lookup.type == "type_query" and lookup.named_child_count == 1:  # ReturnType<typeof getTestServer>
        fn = lookup.named_children[0]
        text = node_text(fn) if fn.type in ("identifier", "member_expression") else ""
        return (f"<{text}()>", False) if SIMPLE_CHAIN.match(text) else None
    if lookup.type != "lookup_type" or lookup.named_child_count != 2:
        return None
    base, key = lookup.named_children
    fragment = key.named_children[0] if key.type == "literal_type" and key.named_child_count else None
    if fragment is None or fragment.type != "string" or fragment.named_child_count != 1:
        return None
    method = node_text(fragment.named_children[0])
    if not method.isidentifier():
        return None
    if base.type == "generic_type":
        inner = _returned(base, generics, bounds)
        if inner is None:
            return None
        owner, bound = inner
    elif base.type == "type_identifier":
        owner, bound = node_text(base), False
        if owner in generics:
            owner, bound = bounds.get(owner), True
    else:
        return None
    return (f"<{owner}.{method}()>", bound) if owner else None


def _bounds(member: tree_sitter.Node) -> tuple[set[str], dict[str, str]]:
    """The type parameters in scope of a class member (a method's own, then its class's) and
    the constraints of the class's that have one. A method's own are instantiated at each call
    (``get<T extends Base>(): T`` may return a subclass): they have none here."""
    generics: set[str] = set()
    bounds: dict[str, str] = {}
    node = member
    for _ in range(6):  # a field, or a constructor's parameter: a few levels below the class
        if node is None:
            break
        if node.type in _CLASSES:
            own = constraints(node)
            bounds = {name: own[name] for name in type_parameters(node) - generics if name in own}
            generics |= type_parameters(node)
            break
        if node.type in _FUNCTIONS:
            generics |= type_parameters(node)
        node = node.parent
    return generics, bounds


def read_through_constraint(typed: str, node: tree_sitter.Node) -> str | None:
    """``typed`` (a parameter's declared type, ``T`` or ``T[]``) where it names a type parameter
    of a function or class around ``node``: that parameter's constraint (``host: T`` in
    ``function $setSlot<T extends ElementNode>`` is an ``ElementNode`` inside the function, the
    members the checker reads on it), None without one; any other type as it is."""
    base = typed.removesuffix("[]")
    if not base.isidentifier():
        return typed
    for _ in range(64):
        if node is None:
            break
        if (node.type in _FUNCTIONS or node.type in _CLASSES) and node.child_by_field_name("type_parameters") is not None \
                and base in type_parameters(node):
            bound = constraints(node).get(base)
            return bound + typed[len(base):] if bound else None
        if node.type in _CLASSES:
            break
        node = node.parent
    return typed
