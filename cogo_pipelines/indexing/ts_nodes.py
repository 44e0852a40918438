"""Small readers of tree-sitter TypeScript nodes shared by the extraction modules."""

from __future__ import annotations

import re

import tree_sitter

KINDS = {
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
CLASS_TYPES = {"class_declaration", "abstract_class_declaration", "class"}
# Node types a symbol may sit inside; anything else (a function body) makes it local.
CONTAINERS = {
    "program", "export_statement", "ambient_declaration", "class_body", "expression_statement",
    "class_declaration", "abstract_class_declaration", "class", "internal_module", "module",
}
FUNCTION_VALUES = {"arrow_function", "function_expression", "generator_function"}
SIMPLE_CHAIN = re.compile(r"^[\w$#]+(\.[\w$#]+)*$")
_BLANKS = re.compile(rb"\s+")
SIGNATURE_MAX = 300


def node_text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def string_value(node: tree_sitter.Node) -> str | None:
    """The value of a string literal or of a template without substitutions."""
    if node.type == "string":
        return node_text(node)[1:-1]
    if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.named_children):
        return node_text(node)[1:-1]
    return None


def signature_of(node: tree_sitter.Node, source: bytes) -> str:
    """Declaration text up to its body, whitespace-collapsed."""
    end = node.end_byte
    body = node.child_by_field_name("body")
    if node.type in ("lexical_declaration", "variable_declaration", "variable_declarator", "public_field_definition"):
        holder = node
        if node.type in ("lexical_declaration", "variable_declaration") and node.named_child_count:
            holder = node.named_children[0]
        value = holder.child_by_field_name("value")
        if value is not None and value.type in FUNCTION_VALUES:
            body = value.child_by_field_name("body")
    if body is not None and node.type != "type_alias_declaration":
        end = body.start_byte
    end = min(end, node.start_byte + 2 * SIGNATURE_MAX)
    text = " ".join(source[node.start_byte:end].decode("utf-8", "replace").split())
    if text.endswith("{"):
        text = text[:-1].rstrip()
    if text.endswith("=>"):
        text = text[:-2].rstrip()
    return text if len(text) <= SIGNATURE_MAX else text[: SIGNATURE_MAX - 1] + "…"


def type_name(node: tree_sitter.Node | None) -> str | None:
    """The class-like name of a type annotation / constructor expression (``Foo<T>`` → ``Foo``)."""
    if node is None:
        return None
    if node.type == "type_annotation":
        node = node.named_children[0] if node.named_child_count else None
        if node is None:
            return None
    if node.type == "union_type":  # `Subscriber<T> | null`: the one type left without null / undefined
        sole = sole_member(node)
        return type_name(sole) if sole is not None else None
    if node.type == "generic_type":
        name = node.child_by_field_name("name")
        if name is not None and name.text in _SAME_MEMBERS:
            inner = same_members_of(node)
            return type_name(inner) if inner is not None else None
        node = name
    elif node.type == "type_query" and node.named_child_count:  # `typeof Event`: the class's own (static) side
        node = node.named_children[0]
    if node is not None and node.type in ("type_identifier", "identifier", "nested_type_identifier", "member_expression"):
        return node_text(node)
    return None


# TypeScript's utility types whose members, where they exist, are the first argument's own
_SAME_MEMBERS = {b"Readonly", b"Partial", b"Required", b"Omit", b"Pick", b"NonNullable", b"Promise", b"PromiseLike"}


_NULLISH = {b"null", b"undefined", b"void"}


_MAY_HOLD_ELEMENTS = frozenset({"array_type", "readonly_type", "generic_type", "union_type"})
# (type arguments, the element's); a Set's elements are what for-of and forEach's first parameter read
_CONTAINERS = {"Array": (1, 0), "ReadonlyArray": (1, 0), "Record": (2, 1), "Set": (1, 0), "ReadonlySet": (1, 0)}


def element_type(node: tree_sitter.Node | None) -> str | None:
    """``T`` of an array annotation: ``T[]``, ``readonly T[]``, ``Array<T>``, ``ReadonlyArray<T>``,
    ``Record<K, T>``, ``Set<T>``, ``ReadonlySet<T>``, also with ``| null`` / ``| undefined``; else None."""
    if node is not None and node.type == "type_annotation":
        node = node.named_children[0] if node.named_child_count else None
    if node is None:
        return None
    if node.type == "union_type":
        sole = sole_member(node)
        return element_type(sole) if sole is not None else None
    if node.type == "readonly_type" and node.named_child_count:
        return element_type(node.named_children[0])
    if node.type == "array_type" and node.named_child_count:
        return type_name(node.named_children[0])
    if node.type == "generic_type":
        # Record<string, V>: what any key reads is a V, as an array's index reads an element (code
        # that compiles neither iterates a Record nor calls an array's methods on it)
        taken = _CONTAINERS.get(node_text(node.child_by_field_name("name")))
        args = node.child_by_field_name("type_arguments")
        if taken and args is not None and args.named_child_count == taken[0]:
            return type_name(args.named_children[taken[1]])
    return None


def same_members_of(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The type a utility type of ``_SAME_MEMBERS`` wraps (``Readonly<Props>``: Props, whose
    members it has; ``Promise<Db>``: what ``await`` gives, as for an awaited call's result
    ``const db = await connect()``: nothing but ``then``/``catch``/``finally`` is called on the
    promise itself in code that compiles, and a class rarely has those), or None."""
    if node is None or node.type != "generic_type":
        return None
    name, args = node.child_by_field_name("name"), node.child_by_field_name("type_arguments")
    if name is None or name.text not in _SAME_MEMBERS or args is None or not args.named_child_count:
        return None
    return args.named_children[0]


def typed_or_array(node: tree_sitter.Node | None) -> str | None:
    """``type_name``, else ``T[]`` for an array of ``T`` (``element_type``): the form in which
    a binding's or field's array type is recorded; only element reads (``x[i].m()``, ``for
    (const c of x)``, ``x.forEach(c => …)``) look through the ``[]``, so no member call is ever
    made of the array itself."""
    inner = node.named_children[0] if node is not None and node.type == "type_annotation" and node.named_child_count \
        else node
    wrapped = same_members_of(inner)  # `Promise<Query[]>`, `Readonly<T[]>`: as type_name
    if wrapped is not None:
        return typed_or_array(wrapped)
    if inner is not None and inner.type in _MAY_HOLD_ELEMENTS:
        element = element_type(inner)
        if element:
            return f"{element}[]"  # not `Array` for Array<T>
    named = type_name(inner)
    if named is None and inner is not None and inner.type == "union_type":
        return named_union(inner)
    return named


def named_union(union: tree_sitter.Node) -> str | None:
    """``<ListItemNode|ListNode>`` for a union of two or more named types (``null`` and
    ``undefined`` aside), the linker's ``UNION``: a member every one of them has from one
    declaration links. None where a member is anything else (a literal, a function, an object)."""
    kept = [t for t in union_members(union) if t.text not in _NULLISH]
    names = {type_name(t) if t.type in NAMED_TYPES else None for t in kept}
    if None in names or len(names) < 2 or any(b"<" in name.encode() for name in names):
        return None
    return f"<{'|'.join(sorted(names))}>"


def operator_of(node: tree_sitter.Node) -> str | None:
    """The operator of a binary or unary expression (``&&``, ``instanceof``, ``!``); None in a
    tree recovered from an error, where it may be missing."""
    operator = node.child_by_field_name("operator")
    return operator.type if operator is not None else None


def declared_type(annotation: tree_sitter.Node | None) -> str | None:
    """``type_name`` of a field's annotation (``T[]`` for an array of ``T``), or an indexed
    access of a named type's field as ``<App["viewport"]>`` (excalidraw's ``viewport:
    App["viewport"]``: the linker reads the field's declared type there)."""
    named = typed_or_array(annotation)
    if named is not None or annotation is None or not annotation.named_child_count:
        return named
    lookup = annotation.named_children[0]
    if lookup.type != "lookup_type" or lookup.named_child_count != 2:
        return None
    base, key = lookup.named_children
    fragment = key.named_children[0] if key.type == "literal_type" and key.named_child_count else None
    owner = type_name(base)
    if owner is None or fragment is None or fragment.type != "string" or fragment.named_child_count != 1:
        return None
    field = node_text(fragment.named_children[0])
    return field_of(owner, field) if field.isidentifier() else None


def field_of(owner: str, field: str) -> str:
    """The type reference of ``owner``'s field ``field`` (``<App["viewport"]>``), for the linker."""
    return f'<{owner}["{field}"]>'


def const_class(statements: list[tree_sitter.Node], name: bytes, before: int | None = None) -> str | None:
    """The class of ``const name: Class = ...`` or ``const name = new Class(...)`` among
    ``statements`` (those starting before byte ``before``, when given), or None."""
    for statement in statements:
        if statement.type != "lexical_declaration" or before is not None and statement.start_byte > before:
            continue
        for d in statement.named_children:
            ident = d.child_by_field_name("name")
            if ident is not None and ident.type == "identifier" and ident.text == name:
                declared = type_name(d.child_by_field_name("type"))
                if declared:
                    return declared
                return constructed(d.child_by_field_name("value"))
    return None


def constructed(value: tree_sitter.Node | None) -> str | None:
    """The class ``new X(...)`` makes, also as the one branch of a conditional whose other is
    ``null`` / ``undefined`` (``env.KEY ? new AttioClient(env.KEY) : undefined``: an optional
    client, called as ``attioClient?.m()`` or after a check)."""
    if value is None:
        return None
    if value.type == "parenthesized_expression" and value.named_child_count:
        value = value.named_children[0]
    if value.type == "new_expression":
        made = value.child_by_field_name("constructor")
        if made is not None and made.text in (b"Set", b"Array"):  # `new Set<Collection>()`: of elements
            args = value.child_by_field_name("type_arguments")
            element = type_name(args.named_children[0]) if args is not None and args.named_child_count == 1 else None
            return f"{element}[]" if element else None
        return type_name(made)
    if value.type == "ternary_expression":
        yes, no = value.child_by_field_name("consequence"), value.child_by_field_name("alternative")
        for made, other in ((yes, no), (no, yes)):
            if made is not None and other is not None and made.type == "new_expression" \
                    and other.type in ("null", "undefined"):
                return type_name(made.child_by_field_name("constructor"))
    return None


def sole_member(union: tree_sitter.Node) -> tree_sitter.Node | None:
    """The one member of a union left without ``null`` / ``undefined`` / ``void``, literal
    types (``Subscriber<T> | null``) and function types, else None. A member called on a value
    of ``TypedQueryBuilder | ((qb: QueryBuilder) => TypedQueryBuilder)`` (drizzle's ``as(qb)``,
    after ``if (typeof qb === 'function') qb = qb(…)``) is the named type's: a function has no
    such member in code that compiles."""
    kept = [t for t in union_members(union)
            if not (t.type in _NOT_MEMBER_TYPES or t.text in _NULLISH or _is_function_type(t))]
    return kept[0] if len(kept) == 1 else None


_NOT_MEMBER_TYPES = ("literal_type", "function_type")


def _is_function_type(node: tree_sitter.Node) -> bool:
    return node.type == "parenthesized_type" and node.named_child_count == 1 and node.named_children[0].type == "function_type"


def declares_field(pattern: tree_sitter.Node) -> bool:
    """``constructor(private readonly backend: Backend)``: the parameter named ``pattern`` is
    also a field of the class, which other files' ``x.backend.m()`` read."""
    before = pattern.prev_sibling
    return before is not None and before.type in ("accessibility_modifier", "readonly")


def union_members(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    members, stack = [], [node]
    while stack and len(members) < 16:
        n = stack.pop()
        if n.type == "union_type":
            stack.extend(n.named_children)
        else:
            members.append(n)
    return members


NAMED_TYPES = ("type_identifier", "generic_type", "nested_type_identifier")  # a type written by its name


def annotated(annotation: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The type a ``type_annotation`` (``: T``) or return type holds, or None."""
    return annotation.named_children[0] if annotation is not None and annotation.named_child_count else None


def _sole_type_argument(generic: tree_sitter.Node) -> str | None:
    """``T`` of ``X<T>`` when its one type argument is a plain name, else None."""
    args = generic.child_by_field_name("type_arguments")
    if args is None or args.named_child_count != 1 or args.named_children[0].type != "type_identifier":
        return None
    return node_text(args.named_children[0])


def makes_instances(annotation: tree_sitter.Node | None, name: str) -> bool:
    """Whether a parameter annotated so takes a class whose instances are of type ``name`` (a
    type parameter): ``new (...args: any[]) => T``, ``abstract new () => T``, or a generic of
    ``T`` alone (``Type<T>``, ``ProviderToken<T>``, ``Constructor<T>``: the tokens of dependency
    injection), or a union holding one (``Type<T> | string``)."""
    inner = annotated(annotation)
    for member in union_members(inner) if inner is not None else ():
        if member.type == "constructor_type":
            made = member.child_by_field_name("type")
            if made is not None and made.type == "type_identifier" and node_text(made) == name:
                return True
        elif member.type == "generic_type" and _sole_type_argument(member) == name:
            return True
    return False


def instance_of(returns: tree_sitter.Node | None) -> str | None:
    """``T`` of a declared return type (or a type) ``InstanceType<T>``, else None."""
    inner = annotated(returns) if returns is not None and returns.type == "type_annotation" else returns
    if inner is None or inner.type != "generic_type" or node_text(inner.child_by_field_name("name")) != "InstanceType":
        return None
    return _sole_type_argument(inner)


def callee_text(fn: tree_sitter.Node) -> str | None:
    """``foo`` / ``this.bar`` / ``a.b.c``; ``?.name`` when the object is not a plain chain."""
    if fn.type == "identifier":
        return node_text(fn)
    if fn.type == "member_expression":
        return member_callee(fn, fn.text)
    if fn.type == "non_null_expression" and fn.named_child_count:
        return callee_text(fn.named_children[0])
    return None


def one_line_chain(text: bytes) -> bytes:
    """A member chain's text with ``?.`` and ``!.`` read as ``.`` and on one line (``await service\\n
    .appendToEventLog()``, as formatters break chains, is ``service.appendToEventLog``)."""
    if b"?." in text:
        text = text.replace(b"?.", b".")
    if b"!." in text:  # `a.b!.m()`: a non-null assertion types nothing
        text = text.replace(b"!.", b".")
    return _BLANKS.sub(b"", text) if b"\n" in text else text


def member_callee(fn: tree_sitter.Node, text: bytes) -> str | None:
    """``callee_text`` of a member expression whose text the caller has read already."""
    chain = one_line_chain(text).decode("utf-8", "replace")
    if SIMPLE_CHAIN.match(chain) or (chain.startswith("this.") and SIMPLE_CHAIN.match(chain[5:])):
        return chain
    prop = fn.child_by_field_name("property")
    return "?." + node_text(prop) if prop is not None else None


_PARAMETERS = ("required_parameter", "optional_parameter")


def parameters(fn: tree_sitter.Node | None) -> list[tree_sitter.Node]:
    if fn is None:
        return []
    params = fn.child_by_field_name("parameters")
    if params is None:
        single = fn.child_by_field_name("parameter")  # x => ...
        if single is not None and single.type == "identifier":
            return [Bare(single)]
        return []
    # a `this: T` parameter types `this`, it takes no argument
    return [p for p in params.named_children if p.type in _PARAMETERS and not _declares_this(p)]


def declares_this(fn: tree_sitter.Node | None) -> bool:
    """Whether the function declares what ``this`` is (``static send(this: StaticThis<T>, …)``)."""
    params = fn.child_by_field_name("parameters") if fn is not None else None
    return params is not None and any(p.type in _PARAMETERS and _declares_this(p) for p in params.named_children)


def _declares_this(param: tree_sitter.Node) -> bool:
    return param.named_child_count > 0 and param.named_children[0].type == "this"


class Bare:
    """The one untyped parameter of ``x => ...``, read like a ``required_parameter``."""

    def __init__(self, ident: tree_sitter.Node) -> None:
        self.ident = ident

    def child_by_field_name(self, name: str) -> tree_sitter.Node | None:
        return self.ident if name == "pattern" else None


def constraints(node: tree_sitter.Node | None) -> dict[str, str]:
    """The named constraint of each type parameter that has one (``T extends Action<D>``: Action)."""
    found = {}
    for name, p in type_parameter_names(node):
        constraint = p.child_by_field_name("constraint")
        bound = type_name(constraint.named_children[0]) if constraint is not None and constraint.named_child_count else None
        if bound:
            found[node_text(name)] = bound
    return found


def type_parameters(node: tree_sitter.Node | None) -> set[str]:
    return {node_text(name) for name, _ in type_parameter_names(node)}


def type_parameter_names(node: tree_sitter.Node | None) -> list[tuple[tree_sitter.Node, tree_sitter.Node]]:
    """(name, type_parameter) of each type parameter ``node`` declares (``<T, U extends X>``)."""
    params = node.child_by_field_name("type_parameters") if node is not None else None
    if params is None:
        return []
    named = [(p.child_by_field_name("name"), p) for p in params.named_children if p.type == "type_parameter"]
    return [(name, p) for name, p in named if name is not None]


def untyped_parameters(params: list, heads: set[bytes]) -> list[tuple[int, tree_sitter.Node]]:
    """(position, name) of the parameters without a type whose name some member call starts with."""
    found = []
    for j, param in enumerate(params):
        pattern = param.child_by_field_name("pattern")
        if pattern is not None and pattern.type == "identifier" and pattern.text in heads \
                and param.child_by_field_name("type") is None:
            found.append((j, pattern))
    return found


def object_bindings(pattern: tree_sitter.Node, defaults: bool = False) -> list[tuple[bytes, tree_sitter.Node]]:
    """(key, bound name) of each ``{ a }`` / ``{ b: c }`` of an object pattern (with ``defaults``,
    also ``{ a = fallback }``)."""
    found = []
    for part in pattern.named_children:
        if defaults and part.type == "object_assignment_pattern":
            part = part.child_by_field_name("left")
            if part is None:
                continue
        if part.type == "shorthand_property_identifier_pattern":
            found.append((part.text, part))
        elif part.type == "pair_pattern":
            key, bound = part.child_by_field_name("key"), part.child_by_field_name("value")
            if key is not None and key.type == "property_identifier" and bound is not None and bound.type == "identifier":
                found.append((key.text, bound))
    return found
