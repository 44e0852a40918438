"""Interfaces with call signatures: what a callback passed to a value of such a type receives.

hono declares its routing methods as fields of interface types, ``get!: HandlerInterface<…>``,
where ``HandlerInterface`` is some twenty overloaded call signatures such as ``(path: P,
...handlers: [H & M1, H]): Hono<…>``, and ``H`` is the union of the ``Handler`` and
``MiddlewareHandler`` function types, both ``(c: Context, next: Next) => …``. In
``app.get('/', (c) => c.json(…))`` the checker gives ``c`` the type ``Context``. The extractor
records, for each position of an argument, the type name the call signatures declare there
(``types["HandlerInterface.(call1)"] = "H"``; a rest parameter's array or tuple gives the
positions after it), the parameter types of a function type written there
(``types["I.(call0)(0)"]``) and the return type (``types["I.(call)"]``); overloads that disagree
leave the position unknown (``""``), a type parameter leaves it out. The linker reads them where
a callee is a field of such a type (``linking_types._callable``). A mixin of
``typescript._Extractor`` (it needs ``enclosing``, ``function_type`` and ``_put``).
"""

from __future__ import annotations

import tree_sitter

from cogo_pipelines.indexing.linking_members import CALL_RETURN, call_position
from cogo_pipelines.indexing.ts_nodes import NAMED_TYPES, annotated, parameters, type_name, type_parameters

_REST_POSITIONS = 8  # a rest parameter `...handlers: H[]` types this many arguments from its own


class CallSignatures:
    def call_signature(self, node: tree_sitter.Node) -> None:
        """The argument and return types one call signature of an interface declares."""
        i = self.enclosing(node.start_byte)
        if i < 0 or self.out.symbols[i].kind not in ("interface", "type"):
            return
        owner = self.out.symbols[i].qualified_name
        declaration = node.parent.parent if node.parent is not None else None  # interface_body, then the interface
        generics = type_parameters(declaration) | type_parameters(node)
        for index, typed in _positions(node):
            key = f"{owner}.{call_position(index)}"
            if typed.type == "function_type":  # (cb: (c: Ctx) => void)
                self.function_type(key, typed, generics)
            else:
                self._put(key, _named(typed, generics), generics)
        self._put(f"{owner}.{CALL_RETURN}", type_name(node.child_by_field_name("return_type")), generics)


def _positions(signature: tree_sitter.Node) -> list[tuple[int, tree_sitter.Node]]:
    """(argument position, declared type) for each argument a call signature types: a rest
    parameter's array element for the positions from its own, a tuple's elements one by one."""
    found = []
    for index, param in enumerate(parameters(signature)):
        typed = annotated(param.child_by_field_name("type"))
        pattern = param.child_by_field_name("pattern")
        if typed is None or pattern is None:
            continue
        if pattern.type != "rest_pattern":
            found.append((index, typed))
        elif typed.type == "array_type" and typed.named_child_count:
            found.extend((index + k, typed.named_children[0]) for k in range(_REST_POSITIONS))
        elif typed.type == "tuple_type":
            found.extend((index + k, element) for k, element in enumerate(typed.named_children))
    return found


def _named(typed: tree_sitter.Node, generics: set[str]) -> str | None:
    """The one type name a declared argument type reads as: ``H<E, P>``, or the member of an
    intersection that is no type parameter (``H<E2, P, I> & M1``)."""
    if typed.type == "intersection_type":
        names = {type_name(t) for t in typed.named_children if t.type in NAMED_TYPES} - generics - {None}
        return names.pop() if len(names) == 1 else None
    return type_name(typed) if typed.type in NAMED_TYPES else None
