"""Element types of arrays: the receivers typeorm-like code reads out of a typed array. A mixin
of ``typescript._Extractor`` (it needs ``ts_usage.Usage.chain_type``, which reads a chain's
type and its elements' alike, and ``ts_types.TypeInference.within``).

A binding or field declared as an array of ``T`` is recorded as ``T[]`` (``ts_nodes.typed_or_array``)
and no member call is ever read off the array itself (``columns.forEach`` is not a method of
``T``). Its elements are ``T`` where they are read:

- ``columns[i].m()``, and ``byName[key].m()`` of a ``Record<string, T>`` (recorded as ``T[]``: what
  any key reads; on an array a string key never reads a method that is then called);
- ``for (const c of columns) c.m()``, inside the loop;
- ``columns.forEach((c) => c.m())`` and the other callbacks of ``Array.prototype`` that take
  an element (``map``, ``filter``, ``find``, ``some``, ``reduce``'s second parameter, ...;
  ``ELEMENT_CALLBACKS``, read by the linker too);
- ``const c = columns[0]``, ``const c = columns.find(…)``.

When the array is a field of another file's type (``metadata.columns``, ``this.columns`` of a base
class), the element is written as the field chain with ``[0]`` (``EntityMetadata.columns[0]``,
``this.columns[0]``): the linker reads the field's declared type there and takes its element
only when it is declared an array (``linking_types``), so a custom collection with its own
``map`` never passes for one.
"""

from __future__ import annotations

import tree_sitter

from cogo_pipelines.indexing.linking_types import ELEMENT_CALLBACKS
from cogo_pipelines.indexing.ts_nodes import (
    node_text,
    one_line_chain,
    parameters,
    untyped_parameters,
)
from cogo_pipelines.indexing.ts_usage import value_heads

_UNWRAP = ("non_null_expression", "parenthesized_expression")
_ELEMENT_RESULTS = {b"find", b"findLast", b"at", b"pop", b"shift"}  # what returns one element (or undefined)


class ArrayElements:
    def element_of(self, node: tree_sitter.Node | None, index: int, chains: bool = True) -> str | None:
        """The element type of the array expression ``node`` (a name or a plain member chain),
        or None when it is not known to be an array (with ``chains``, a field chain the linker
        reads: ``EntityMetadata.columns[0]``)."""
        while node is not None and node.type in _UNWRAP and node.named_child_count:
            node = node.named_children[0]
        if node is None or node.type not in ("identifier", "member_expression"):
            return None
        return self.chain_type(node, index, element=True, chains=chains)

    def indexed(self, node: tree_sitter.Node, index: int) -> str | None:
        """The element type of ``columns[i]`` / ``byName["id"]`` (``node`` a subscript
        expression), or None."""
        if node.child_by_field_name("index") is None:
            return None
        return self.element_of(node.child_by_field_name("object"), index)

    def element_head(self, node: tree_sitter.Node, index: int) -> str | None:
        """The typed head of a receiver read out of an element, with the fields after it
        (``columns[i]``, ``metadata.columns[i].referencedColumn!``), or None."""
        fields = []
        while True:
            while node.type in _UNWRAP and node.named_child_count:
                node = node.named_children[0]
            if node.type != "member_expression" or len(fields) > 8:
                break
            prop = node.child_by_field_name("property")
            if prop is None or prop.type != "property_identifier":
                return None
            fields.append(prop.text.decode("utf-8", "replace"))
            node = node.child_by_field_name("object")
            if node is None:
                return None
        # narrowed by a guard (`$isTextNode(children[0]) && children[0].m()`), else the element's type
        typed = (self.in_range(one_line_chain(node.text), node.start_byte) if self.ranged else None) \
            or self.indexed(node, index) if node.type == "subscript_expression" else None
        return ".".join([typed, *reversed(fields)]) if typed else None

    def found_element(self, call: tree_sitter.Node, index: int) -> str | None:
        """The element ``columns.find(…)`` (``findLast``, ``at``, ``pop``, ``shift``) returns,
        where ``columns`` is a known array."""
        fn = call.child_by_field_name("function")
        if fn is None or fn.type != "member_expression":
            return None
        method = fn.child_by_field_name("property")
        if method is None or method.text not in _ELEMENT_RESULTS:
            return None
        return self.element_of(fn.child_by_field_name("object"), index)

    def element_callback(self, fn: tree_sitter.Node, call: tree_sitter.Node, position: int, heads: set[bytes]) -> bool:
        """Types the element parameters of ``fn`` when it is the callback of an array method
        called on an array typed in this file (``columns.forEach((c) => …)``); whether it did.
        On another file's field (``metadata.columns.forEach``) the callback is typed as any
        other (``<EntityMetadata.columns.forEach(0)(0)>``), and the linker takes the element
        where the field is declared an array, else the method's own signature (a collection
        of the repo's with a ``map`` of its own)."""
        callee = call.child_by_field_name("function")
        if position != 0 or callee is None or callee.type != "member_expression":
            return False
        method = callee.child_by_field_name("property")
        wanted = ELEMENT_CALLBACKS.get(node_text(method)) if method is not None else None
        if wanted is None:
            return False
        element = self.element_of(callee.child_by_field_name("object"), self.enclosing(fn.start_byte), chains=False)
        if not element or element.startswith("<"):  # (an element of a call's result: typed as any
            return False  # callback, `<<f()>.forEach(0)(0)>`, which a collection of the repo's answers too)
        for j, pattern in untyped_parameters(parameters(fn), heads):
            if j in wanted:
                self.within(fn, pattern.text, element)
        return True

    def loop_elements(self, names: list[tree_sitter.Node], heads: set[bytes]) -> None:
        """``for (const c of columns)``: ``c`` is an element of ``columns`` inside the loop
        (``names``: the names ``for … in/of`` loops bind)."""
        for name in names:
            loop = name.parent
            if loop is None or loop.type != "for_in_statement" or name.text not in heads \
                    or loop.child_by_field_name("left") != name or not _iterates(loop):
                continue
            right, index = loop.child_by_field_name("right"), self.enclosing(name.start_byte)
            element = self.element_of(right, index)
            if element is None and right is not None and right.type == "call_expression":
                # `for (const child of node.getChildren())`: an element of what the call returns
                returned = self.returned(right, index)
                element = returned + "[0]" if returned and returned.startswith("<") and returned.endswith("()>") else None
            if element:
                self.within(loop, name.text, element)


def _iterates(loop: tree_sitter.Node) -> bool:
    """``for (… of …)``, not ``for (… in …)`` (keys, strings)."""
    return any(child.type == "of" for child in loop.children)


def iterated_heads(names: list[tree_sitter.Node], heads: set[bytes]) -> set[bytes]:
    """The arrays (and their first names) a ``for … of`` loop reads into a name some member call
    starts with: their types are worth reading too."""
    found = set()
    for name in names:
        loop = name.parent
        if name.text in heads and loop is not None and loop.type == "for_in_statement":
            right = loop.child_by_field_name("right")
            if right is not None and right.type in ("identifier", "member_expression", "call_expression"):
                found |= value_heads(right)
    return found
