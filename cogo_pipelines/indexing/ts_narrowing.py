"""Receivers narrowed by ``instanceof`` and by type guards: ``prop.customType instanceof
JsonType && prop.customType.convertToDatabaseValue(…)`` calls ``JsonType``'s method (a subclass
that overrides the one the declared ``Type`` has: mikro-orm), not the declared type's; ``if
(Reference.isReference(params)) params.unwrap()`` calls what the guard's predicate (``data is
Reference<T>``) names. A mixin of ``typescript._Extractor`` (it needs ``within``).

The narrowed type holds where TypeScript narrows and the code says so in one place: the
``if``'s or the ``?``'s consequence of a condition the test is a conjunct of, the operands of
``&&`` after it; for a negated test (``!isText(node)``, ``!(x instanceof C)``), the operands of
``||`` after it, the ``else``, and the rest of the block after an ``if`` whose consequence
always leaves it (``if (!$isTextNode(node)) return;``, ``continue``, ``break``, ``throw``: lexical,
and most application code, guards this way), up to the first statement that assigns the name
again (TypeScript's narrowing ends there too). An assertion call (``invariant($isRangeSelection(
selection), '…')``, ``assert(x instanceof C)``) narrows the rest of its block alike, where this
file declares the function ``asserts``, or, for one it imports, where the linker finds its
declaration ``asserts`` (``<!invariant!…>``). Not by name: lexical imports ``invariant`` from a package
outside the indexed packages, and the checker, not seeing its ``asserts``, narrows nothing there
(taking every ``invariant``/``assert`` as asserting, as tiny-invariant's, node's and vitest's do,
found 85 more of lexical's pairs and 60 the checker does not give: precision .999 -> .989).
``instanceof`` tests and guards come from the query (``instanceof``, ``guard``: a guard is any
call in such a place, told from a plain predicate by the linker, which reads the callee's
declared predicate in its own file).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

import tree_sitter

from cogo_pipelines.indexing.linking_types import ASSERTED
from cogo_pipelines.indexing.ts_nodes import SIMPLE_CHAIN, one_line_chain, operator_of, type_name

_GUARD = "(is"  # `<F(is0)>`: what F's type predicate proves its argument 0 to be


class Narrowing:
    def narrowed(self, tests: list[tree_sitter.Node], heads: set[bytes]) -> None:
        """Types each ``x instanceof C`` test's ``x`` (a name or plain chain some member call
        starts with) as ``C`` where the test holds (``tests``: the query's ``instanceof``)."""
        parent_of = self.parent_of(tests)
        for test in tests:
            left, right = test.child_by_field_name("left"), test.child_by_field_name("right")
            if left is None or right is None or left.type not in ("identifier", "member_expression"):
                continue
            name = one_line_chain(left.text)
            klass = type_name(right)
            if name not in heads or not klass or not SIMPLE_CHAIN.match(name.decode("utf-8", "replace")):
                continue
            for start, end, via in _where_true(test, name, self.asserting, self.source, self.block_cache(), parent_of):
                if via is None:  # (an assertion of another file's: left to the declared type)
                    self.within_span(start, end, name, klass)

    def parent_of(self, tests: list[tree_sitter.Node]) -> Callable[[tree_sitter.Node], tree_sitter.Node | None]:
        """How ``_where_true`` climbs from ``tests``: ``Node.parent`` (tree-sitter walks down from
        the root for it: cheap in code as people write it), or, from ``_MANY_TESTS`` tests in a
        file, the conditions' nodes and the tests read once (``_ChainParents``, from the query's
        ``binary`` and ``chain`` captures): thousands of guards in one chain stay linear."""
        if len(tests) < _MANY_TESTS:
            return _parent
        binaries, others = getattr(self, "chains", ((), ()))
        conditions = [b for b in binaries if operator_of(b) in ("&&", "||")]
        return _ChainParents([*conditions, *others, *tests]).parent_of

    def block_cache(self) -> dict:
        """What ``_rest_of_block`` has read of this file's blocks (made on first use)."""
        cache = getattr(self, "_block_cache", None)
        if cache is None:
            cache = self._block_cache = {}
        return cache

    def asserting(self) -> frozenset[bytes]:
        """The names of the assertion functions a call of which narrows what follows it (once
        per file)."""
        found = getattr(self, "_asserting", None)
        if found is None:
            found = self._asserting = frozenset(
                declared.group(1) for declared in _ASSERTION_FUNCTIONS.finditer(self.source)) \
                if b"asserts" in self.source else frozenset()
        return found

    def guarded(self, calls: list[tree_sitter.Node], heads: set[bytes]) -> None:
        """``if (Utils.isCollection(target)) { target.getItems() }``: where the call holds, an
        argument some member call starts with is what the callee's type predicate says
        (``item is Collection``: ``types["F(is{j})"]``, ``ts_signatures``), read by the linker;
        where the callee is no type guard, its type stays what it was (written after ``?``:
        ``<Utils.isCollection(is0)?Item>``). The classes the arguments hand over are written as
        hints (``<is[1=@IndexBuilder](is0)>``): a guard may prove an instance of one."""
        seen = set()
        parent_of, cache = self.parent_of(calls), self.block_cache()
        for call in calls:
            if call.id in seen:
                continue
            seen.add(call.id)
            args = call.child_by_field_name("arguments")
            if args is None:
                continue
            tested = [(j, arg, one_line_chain(arg.text)) for j, arg in enumerate(
                a for a in args.named_children if a.type != "comment") if arg.type in _TESTED]
            # where each tested name holds (the rest of a block is cut at that name's assignment);
            # `children[0]` too, as TypeScript narrows an element read at a literal index
            tested = [(j, arg, name, holds) for j, arg, name in tested
                      if name in heads and (SIMPLE_CHAIN.match(name.decode("utf-8", "replace")) or _LITERAL_ELEMENT.fullmatch(name))
                      and (holds := _where_true(call, name, self.asserting, self.source, cache, parent_of))]
            if not tested:
                continue
            index = self.enclosing(call.start_byte)
            callee = self.callee_of(call.child_by_field_name("function"), index)
            if not callee or any(c in callee for c in "<>?"):  # a plain callee text (linking_types._GUARD)
                continue
            hints = self._hints(call)  # `is(builder, IndexBuilder)`: the class an argument hands over
            if any(c in hints for c in "<>?"):
                hints = ""
            for j, arg, name, holds in tested:
                before = self.chain_type(arg, index) if arg.type != "subscript_expression" else self.element_head(arg, index)
                if before and (_GUARD in before or before.endswith("[]")):
                    continue  # one guard's reference inside another's is not read back: left as it was
                typed = f"<{callee}{hints}{_GUARD}{j})?{before}>" if before else f"<{callee}{hints}{_GUARD}{j})>"
                for start, end, via in holds:  # after another file's assertion: what the linker verifies
                    self.within_span(start, end, name, typed if via is None else f"<{ASSERTED}{via.decode()}{ASSERTED}{typed}>")


# `function name(…): asserts …`, a parameter list without nested parentheses (as assertion functions
# have). Bounded runs: unbounded, each `function f<` scanned on to the next `>` (20,000 of them
# without one, 220 kB: 6 s)
_ASSERTION_FUNCTIONS = re.compile(
    rb"\bfunction\s+([A-Za-z_$][\w$]*)\s*(?:<[^>{]{0,400}>)?\s*\([^()]{0,2000}\)\s*:\s*asserts\b")
_MANY_TESTS = 64  # guards (or `instanceof` tests) in a file from which conditions are climbed by `_ChainParents`
_LONGEST_CHAIN = 24  # operators and parentheses climbed from a test at most (`_where_true`)
_TESTED = frozenset(("identifier", "member_expression", "subscript_expression"))
_LITERAL_ELEMENT = re.compile(rb"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\[(?:\d+|'[^'\\]*'|\"[^\"\\]*\")\]")  # `children[0]`
_ASSIGNED = re.compile(rb"\s*(?:[-+*/%&|^]|\?\?|<<|>>>?|\*\*|&&|\|\|)?=(?!=)")  # `x =`, `x +=`, `x ??=`, not `x ==`
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.")
_EXITS = frozenset(("return_statement", "throw_statement", "continue_statement", "break_statement"))
_BLOCKS = frozenset(("statement_block", "program", "switch_case", "switch_default"))


def right_guards(binaries: list[tree_sitter.Node]) -> list[tree_sitter.Node]:
    """The calls right of ``&&`` that test a name (``node !== null && $isTextNode(node)``):
    guards, as the query's left ones, read from the query's plain ``binary`` captures (a pattern
    naming the right operand would keep a state alive through every left operand: quadratic)."""
    found = []
    for binary in binaries:
        right = binary.child_by_field_name("right")
        if right is None or right.type != "call_expression" or operator_of(binary) != "&&":
            continue
        args = right.child_by_field_name("arguments")
        if args is not None and any(a.type in _TESTED for a in args.named_children):
            found.append(right)
    return found


def _parent(node: tree_sitter.Node) -> tree_sitter.Node | None:
    return node.parent


class _ChainParents:
    """The parents of the nodes of conditions (``&&``/``||``, ``!``, parentheses, the ``if`` or
    ``?`` whose condition they are, the arguments of a call statement), from the query's
    ``chain`` captures: nested intervals sorted once, each one's innermost container found by a
    stack, a node's parent checked to hold it directly (anything else is no condition's part:
    None)."""

    def __init__(self, nodes: list[tree_sitter.Node]) -> None:
        nodes = sorted({n.id: n for n in nodes}.values(), key=lambda n: (n.start_byte, -n.end_byte))
        self.nodes, self.starts = nodes, [n.start_byte for n in nodes]
        self.index = {n.id: i for i, n in enumerate(nodes)}
        self.parents: list[int] = []
        stack: list[int] = []
        for i, n in enumerate(nodes):
            while stack and nodes[stack[-1]].end_byte < n.end_byte:
                stack.pop()
            self.parents.append(stack[-1] if stack else -1)
            stack.append(i)

    def parent_of(self, node: tree_sitter.Node) -> tree_sitter.Node | None:
        i = self.index.get(node.id)
        if i is not None:
            k = self.parents[i]
        else:  # no node of the conditions (the tests are): the innermost captured node around it
            k = bisect.bisect_right(self.starts, node.start_byte) - 1
            for _ in range(_LONGEST_CHAIN):
                if k < 0 or self.nodes[k].end_byte >= node.end_byte:
                    break
                k = self.parents[k]
            else:
                return None
        if k < 0:
            return None
        parent = self.nodes[k]
        return parent if _holds_directly(parent, node) else None


def _holds_directly(parent: tree_sitter.Node, node: tree_sitter.Node) -> bool:
    kind = parent.type
    if kind == "binary_expression":
        return parent.child_by_field_name("left") == node or parent.child_by_field_name("right") == node
    if kind == "unary_expression":
        return parent.child_by_field_name("argument") == node
    if kind in ("if_statement", "ternary_expression"):
        return parent.child_by_field_name("condition") == node
    children = [c for c in parent.named_children if c.type != "comment"]  # parentheses, arguments
    return bool(children) and children[0] == node


def _where_true(test: tree_sitter.Node, name: bytes | None = None,
                asserting: Callable[[], frozenset[bytes]] | None = None,
                source: bytes | None = None, cache: dict | None = None,
                parent_of: Callable[[tree_sitter.Node], tree_sitter.Node | None] = _parent,
                ) -> list[tuple[int, int, bytes | None]]:
    """The byte spans in which ``test`` is known to be true: the right operand of each ``&&``
    it is (part of) the left of, and the consequence of the ``if`` or the conditional whose
    condition it is a conjunct of (``if (x instanceof C && ready) { x.m() }``). Through a ``!``
    the test must be false instead: the right of ``||``, the ``else``, and the rest of the block
    after an ``if`` that always leaves it, cut before the first statement that assigns ``name``
    again (``_rest_of_block``, in ``source``). The first argument of a call statement of one
    of the ``asserting()`` functions holds in the rest of the block too; of any other function,
    there too, marked with the function's name (``via``: whether it asserts is the linker's to
    verify, ``linking_types.ASSERTED``). Spans are (start, end, via). A test more than
    ``_LONGEST_CHAIN`` operators deep in a condition narrows nothing: each guard of a chain of
    thousands (generated code) would otherwise walk the whole chain, quadratic in its length.
    ``cache`` (per file) keeps what ``_rest_of_block`` reads of each block; ``parent_of``
    climbs (``Narrowing.parent_of``)."""
    found: list[tuple[int, int, bytes | None]] = []
    node, truth = test, True  # truth: the value of `node` that makes the test true
    climbed = 0
    while True:
        climbed += 1
        if climbed > _LONGEST_CHAIN:
            return []
        parent = parent_of(node)
        while parent is not None and parent.type == "parenthesized_expression":
            node, parent = parent, parent_of(parent)
        if parent is None:
            return found
        kind = parent.type
        operator = operator_of(parent) if kind in ("unary_expression", "binary_expression") else None
        if kind == "unary_expression" and operator == "!":
            node, truth = parent, not truth
            continue
        if kind == "binary_expression":
            if operator not in ("&&", "||") or (operator == "&&") != truth:
                return found  # `a && b` false, `a || b` true: says nothing of either operand
            if parent.child_by_field_name("left") == node:
                _add(found, parent.child_by_field_name("right"))
            node = parent
            continue
        if kind == "arguments" and truth and asserting is not None and parent.named_children[0] == node:
            call = parent.parent
            callee = call.child_by_field_name("function") if call is not None else None
            if callee is not None and callee.type == "identifier" and call.parent is not None \
                    and call.parent.type == "expression_statement":
                rest = _rest_of_block(call.parent, name, source, cache)
                if rest is not None:
                    found.append((*rest, None if callee.text in asserting() else callee.text))
            return found
        if kind in ("if_statement", "ternary_expression") and parent.child_by_field_name("condition") == node:
            if truth:
                _add(found, parent.child_by_field_name("consequence"))
                return found
            alternative = parent.child_by_field_name("alternative")
            if alternative is not None:
                _add(found, alternative)
            elif kind == "if_statement" and _leaves(parent.child_by_field_name("consequence")):
                rest = _rest_of_block(parent, name, source, cache)
                if rest is not None:
                    found.append((*rest, None))
        return found


def _add(found: list[tuple[int, int, bytes | None]], node: tree_sitter.Node | None) -> None:
    """``node``'s span (none for a part missing from a tree recovered from an error)."""
    if node is not None:
        found.append((node.start_byte, node.end_byte, None))


def _leaves(consequence: tree_sitter.Node | None) -> bool:
    """Whether ``consequence`` always leaves the block around its ``if`` (ends in ``return``,
    ``throw``, ``continue`` or ``break``)."""
    if consequence is not None and consequence.type == "statement_block":
        last = [child for child in consequence.named_children if child.type != "comment"]
        consequence = last[-1] if last else None
    return consequence is not None and consequence.type in _EXITS


def _rest_of_block(statement: tree_sitter.Node, name: bytes | None, source: bytes | None,
                   cache: dict | None = None) -> tuple[int, int] | None:
    """The span of the statements after ``statement`` in its block, up to the first that
    assigns ``name`` (``node = node.getParent()``: from there on it is the assigned type). The
    block's assignments to ``name`` and its statements' ends are read once (``cache``): a block
    of thousands of guarded ``if``s stays linear."""
    block = statement.parent
    if block is None or block.type not in _BLOCKS:
        return None
    cache = {} if cache is None else cache
    start, end = statement.end_byte, block.end_byte
    if name is not None and source is not None:
        assignments = cache.get((block.id, name))
        if assignments is None:
            assignments = cache[(block.id, name)] = _assignments(source, name, block.start_byte, block.end_byte)
        first = bisect.bisect_left(assignments, start)
        if first < len(assignments):
            bounds = cache.get(block.id)
            if bounds is None:
                children = block.named_children
                bounds = cache[block.id] = ([c.start_byte for c in children], [c.end_byte for c in children])
            after = bisect.bisect_right(bounds[1], assignments[first])  # the statement holding it
            end = bounds[0][after] if after < len(bounds[0]) else end
    return (start, end) if end > start else None


def _assignments(source: bytes, name: bytes, start: int, end: int) -> list[int]:
    """The offsets of the assignments to ``name`` in ``source[start:end]``, in order (a
    substring search, then a look at the bytes around: names differ from call to call, and
    compiling a pattern for each cost more than the search)."""
    found = []
    at = source.find(name, start, end)
    while at >= 0:
        after = at + len(name)
        if (at == 0 or source[at - 1] not in _NAME_BYTES) and (after >= len(source) or source[after] not in _NAME_BYTES) \
                and _ASSIGNED.match(source, after, end):
            found.append(at)
        at = source.find(name, after, end)
    return found
