"""Receivers narrowed by ``instanceof`` and by type guards: ``prop.customType instanceof
JsonType && prop.customType.convertToDatabaseValue(…)`` calls ``JsonType``'s method (a subclass
that overrides the one the declared ``Type`` has: mikro-orm), not the declared type's; ``if
(Reference.isReference(params)) params.unwrap()`` calls what the guard's predicate (``data is
Reference<T>``) names. A mixin of ``typescript._Extractor`` (it needs ``within``).

The narrowed type holds where TypeScript narrows and the code says so in one place: the
``if``'s or the ``?``'s consequence of a condition the test is a conjunct of, the operands of
``&&`` after it. (Not after an early ``return`` on the negated test: left to the declared type.)
An ``instanceof`` is found from the bytes (it is rare), so files without one pay a substring
search; a guard is any call in such a place (the query's ``guard``), told from a plain
predicate by the linker, which reads the callee's declared predicate in its own file.
"""

from __future__ import annotations

import tree_sitter

from cogo_pipelines.indexing.ts_nodes import SIMPLE_CHAIN, one_line_chain, type_name

_INSTANCEOF = b"instanceof"
_GUARD = "(is"  # `<F(is0)>`: what F's type predicate proves its argument 0 to be


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
            for holds in _where_true(test):
                self.within(holds, name, klass)


    def guarded(self, calls: list[tree_sitter.Node], heads: set[bytes]) -> None:
        """``if (Utils.isCollection(target)) { target.getItems() }``: where the call holds, an
        argument some member call starts with is what the callee's type predicate says
        (``item is Collection``: ``types["F(is{j})"]``, ``ts_signatures``), read by the linker;
        where the callee is no type guard, its type stays what it was (written after ``?``:
        ``<Utils.isCollection(is0)?Item>``). The classes the arguments hand over are written as
        hints (``<is[1=@IndexBuilder](is0)>``): a guard may prove an instance of one."""
        seen = set()
        for call in calls:
            if call.id in seen:
                continue
            seen.add(call.id)
            args = call.child_by_field_name("arguments")
            if args is None:
                continue
            tested = [(j, arg, one_line_chain(arg.text)) for j, arg in enumerate(
                a for a in args.named_children if a.type != "comment") if arg.type in ("identifier", "member_expression")]
            tested = [(j, arg, name) for j, arg, name in tested
                      if name in heads and SIMPLE_CHAIN.match(name.decode("utf-8", "replace"))]
            holds = _where_true(call) if tested else ()
            if not holds:
                continue
            index = self.enclosing(call.start_byte)
            callee = self.callee_of(call.child_by_field_name("function"), index)
            if not callee or any(c in callee for c in "<>?"):  # a plain callee text (linking_types._GUARD)
                continue
            hints = self._hints(call)  # `is(builder, IndexBuilder)`: the class an argument hands over
            if any(c in hints for c in "<>?"):
                hints = ""
            for j, arg, name in tested:
                before = self.chain_type(arg, index)
                if before and (_GUARD in before or before.endswith("[]")):
                    continue  # one guard's reference inside another's is not read back: left as it was
                typed = f"<{callee}{hints}{_GUARD}{j})?{before}>" if before else f"<{callee}{hints}{_GUARD}{j})>"
                for node in holds:
                    self.within(node, name, typed)


def _where_true(test: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The nodes in which ``test`` is known to be true: the right operand of each ``&&`` it is
    (part of) the left of, and the consequence of the ``if`` or the conditional whose condition
    it is a conjunct of (``if (x instanceof C && ready) { x.m() }``)."""
    found = []
    node = test
    while True:
        while node.parent is not None and node.parent.type == "parenthesized_expression":
            node = node.parent
        parent = node.parent
        if parent is None:
            return found
        if parent.type == "binary_expression" and parent.child_by_field_name("operator").type == "&&":
            if parent.child_by_field_name("left") == node:
                found.append(parent.child_by_field_name("right"))
            node = parent
            continue
        if parent.type in ("if_statement", "ternary_expression") and parent.child_by_field_name("condition") == node:
            found.append(parent.child_by_field_name("consequence"))
        return found
