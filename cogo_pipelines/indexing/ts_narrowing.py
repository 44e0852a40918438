"""Receivers narrowed by ``instanceof``: ``prop.customType instanceof JsonType &&
prop.customType.convertToDatabaseValue(…)`` calls ``JsonType``'s method (a subclass that
overrides the one the declared ``Type`` has: mikro-orm), not the declared type's. A mixin of
``typescript._Extractor`` (it needs ``within``).

The narrowed type holds where TypeScript narrows and the code says so in one place: the
``if``'s consequence, the right operand of ``&&``, the ``?``'s consequence. The test is found
from the bytes (``instanceof`` is rare), so files without one pay a substring search.
"""

from __future__ import annotations

import tree_sitter

from cogo_pipelines.indexing.ts_nodes import SIMPLE_CHAIN, one_line_chain, type_name

_INSTANCEOF = b"instanceof"


class Narrowing:
    def narrowed(self, root: tree_sitter.Node, heads: set[bytes]) -> None:
        """Types each ``x instanceof C`` test's ``x`` (a name or plain chain some member call
        starts with) as ``C`` where the test holds."""
        source = self.source
        at = source.find(_INSTANCEOF)
        while at >= 0:
            test = root.descendant_for_byte_range(at, at + len(_INSTANCEOF))
            while test is not None and test.type != "binary_expression":
                test = test.parent if test.type == "instanceof" else None
            at = source.find(_INSTANCEOF, at + len(_INSTANCEOF))
            if test is None:
                continue
            left, right = test.child_by_field_name("left"), test.child_by_field_name("right")
            if left is None or right is None or left.type not in ("identifier", "member_expression"):
                continue
            name = one_line_chain(left.text)
            klass = type_name(right)
            if name not in heads or not klass or not SIMPLE_CHAIN.match(name.decode("utf-8", "replace")):
                continue
            holds = _where_true(test)
            if holds is not None:
                self.within(holds, name, klass)


def _where_true(test: tree_sitter.Node) -> tree_sitter.Node | None:
    """The node in which ``test`` is known to be true: an ``if``'s consequence, the right
    operand of the ``&&`` it is the left of, a conditional's consequence; else None."""
    node = test
    while node.parent is not None and node.parent.type == "parenthesized_expression":
        node = node.parent
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "binary_expression" and parent.child_by_field_name("left") == node \
            and parent.child_by_field_name("operator").type == "&&":
        return parent.child_by_field_name("right")
    if parent.type == "if_statement" and parent.child_by_field_name("condition") == node:
        return parent.child_by_field_name("consequence")
    if parent.type == "ternary_expression" and parent.child_by_field_name("condition") == node:
        return parent.child_by_field_name("consequence")
    return None
