"""Receiver types the extractor infers without a checker, and JSX uses. A mixin of
``typescript._Extractor``, which holds the state; what a file declares for other files to read
is ``ts_signatures``.

A receiver whose type is not written where it is used gets a *type reference* that the linker
resolves across files from the declared types of the callee's signature (``FileExtraction.types``):

- ``<F()>``: the declared return type of ``F`` (``const x = f(); x.m()``, ``f().m()``);
  ``types["F()"]`` in ``F``'s file;
- ``<F(i)(j)>``: parameter ``j`` of the function-typed parameter ``i`` of ``F``, the type a
  callback's untyped parameter takes from its context (``operate((source, sub) => source.m())``);
- ``<new C(i)(j)>``: the same through ``C``'s constructor.

``F`` is itself a callee text (``f``, ``ns.f``, ``Type.m``, ``this.m`` or another reference).
A callback's parameter is typed inside that function only (the innermost function around a use
that binds the name wins: a typed or untyped parameter of a function nested in it hides it); a
local variable is typed in its block, a parameter in its function, and a name bound twice with
different types there gets none (``""``): the edge stays ``maybe`` rather than risk a wrong
``certain`` one.
"""

from __future__ import annotations

import bisect
import re

import tree_sitter

from cogo_pipelines.indexing.linking_members import DEEPEST
from cogo_pipelines.indexing.ts_nodes import (
    SIMPLE_CHAIN,
    annotated,
    callee_text,
    member_callee,
    node_text,
    object_bindings,
    parameters,
    type_name,
    type_parameters,
    untyped_parameters,
)
from cogo_pipelines.indexing.ts_returns import constructed_return
from cogo_pipelines.indexing.ts_scopes import binding_scope, function_around, local_scope

_WRAPPERS = ("non_null_expression", "parenthesized_expression", "await_expression")  # `(await f()).m()`
MAX_DEPTH = 8  # f().g().h(): references nest at most this deep (a query builder's chains: typeorm)
# a variable typed by a call on the one before it nests their references (`const a2 = a1.m()`:
# `<<<B.m()>.m()>.m()>`), one level a line: past the depth the linker resolves such a reference
# only grows, so a file of generated lines made references as long as the file is (quadratic
# text) that nothing could resolve
MAX_NESTING = DEEPEST
_TOO_DEEP = "<" * MAX_NESTING
# what a destructured-alias span holds where the name is a parameter or a nested declaration:
# the name is local there, not the module's binding of it (a callee text "?name" then)
LOCAL = "?"

_PLAIN_TYPE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")  # a type name, not a reference or T[]


class TypeInference:
    # --- receivers typed by context ---------------------------------------------------------
    def bind_type(self, scope: str, name: str, typed: str) -> None:
        key = (scope, name)
        known = self.instance_types.get(key)
        self.instance_types[key] = typed if known is None or known == typed else ""

    def callbacks(self, nodes: list[tree_sitter.Node], heads: set[bytes]) -> None:
        """Untyped parameters of a function passed as argument ``i`` of a call take the type of
        the callee's parameter ``i``'s parameters, inside that function only (``ranged``)."""
        done = set()  # a function with two untyped parameters is captured twice
        for fn in nodes:
            if fn.id in done:
                continue
            done.add(fn.id)
            args, params = fn.parent, parameters(fn)
            call = args.parent if args is not None else None
            if call is None or not any(p.child_by_field_name("pattern").text in heads for p in params
                                       if p.child_by_field_name("pattern") is not None):
                continue
            position = [a.id for a in args.named_children if a.type != "comment"].index(fn.id)
            if call.type == "call_expression" and self.element_callback(fn, call, position, heads):
                continue  # columns.forEach((c) => …): an element of a known array
            callee = self._callee_at(call, fn.start_byte)
            if not callee:
                continue
            for j, pattern in untyped_parameters(params, heads):
                self.within(fn, pattern.text, f"<{callee}({position})({j})>")

    def declared_callbacks(self, nodes: list[tree_sitter.Node], heads: set[bytes]) -> None:
        """A function whose type its context names: ``const notFound: NotFoundHandler = (c) =>
        c.text()``, the function a ``(): MiddlewareHandler =>`` arrow or a ``function make():
        Handler`` returns (hono's middleware factories). Its untyped parameters take the
        parameter types of the function type that name stands for (``<:Handler(j)>``, read by
        the linker in the alias's file), inside that function only."""
        for fn in nodes:
            untyped = untyped_parameters(parameters(fn), heads)
            named = _declared_function_type(fn) if untyped else None
            if named and SIMPLE_CHAIN.match(named):
                for j, pattern in untyped:
                    self.within(fn, pattern.text, f"<:{named}({j})>")

    def property_callbacks(self, nodes: list[tree_sitter.Node], heads: set[bytes]) -> None:
        """A function given as property ``key`` of an object literal passed as argument ``i``
        (``register({ perform: (elements, app) => app.m() })``, a config object's handlers) takes
        its untyped parameters' types from the type the callee's parameter ``i`` declares: that
        type's method or function-typed property ``key`` (``<register(0).perform(1)>``). Of a
        literal whose type is written beside it (``const config: DomConfig = { $exportDOM: (node)
        => … }``, ``{ … } satisfies DomConfig``: lexical's, and many an app's config objects),
        from that type's ``key`` (``<:DomConfig.$exportDOM(0)>``)."""
        for fn in nodes:
            untyped = untyped_parameters(parameters(fn), heads)
            if not untyped:
                continue
            method = fn.type == "method_definition"
            key = fn.child_by_field_name("name") if method else fn.parent.child_by_field_name("key")
            literal = fn.parent if method else fn.parent.parent
            args = literal.parent
            if key is None or key.type != "property_identifier" or args is None or args.parent is None:
                continue
            if args.type != "arguments":  # `const x: T = {…}`, `{…} satisfies T`
                declared = args.child_by_field_name("type") if args.type == "variable_declarator" else \
                    args.named_children[-1]
                named = type_name(declared)
                if named and SIMPLE_CHAIN.match(named):
                    for j, name in untyped:
                        self.within(fn, name.text, f"<:{named}.{node_text(key)}({j})>")
                continue
            callee = self._callee_at(args.parent, fn.start_byte)
            if not callee:
                continue
            position = [a.id for a in args.named_children if a.type != "comment"].index(literal.id)
            for j, name in untyped:
                self.within(fn, name.text, f"<{callee}({position}).{node_text(key)}({j})>")

    def _callee_at(self, call: tree_sitter.Node, at: int) -> str | None:
        """The callee text of ``call`` (``new C`` for a constructor), or None when unknown."""
        if call.type == "new_expression":
            ctor = callee_text(call.child_by_field_name("constructor") or call)
            callee = "new " + ctor if ctor and not ctor.startswith("?") else None
        else:
            callee = self.callee_of(call.child_by_field_name("function"), self.enclosing(at))
        return callee if callee and not callee.startswith("?") else None

    def within(self, fn: tree_sitter.Node, name: bytes, typed: str) -> None:
        """``name`` has type ``typed`` inside ``fn`` (``""``: unknown there, a shadowing
        parameter); the innermost such function around a use wins over the symbol's bindings."""
        self.within_span(fn.start_byte, fn.end_byte, name, typed)

    def within_span(self, start: int, end: int, name: bytes, typed: str) -> None:
        """``within`` for a span that is no one node (the rest of a block after a guard)."""
        _spans(self.ranged, name).add(start, end, typed)

    def shadowed(self, params: list[tree_sitter.Node]) -> None:
        """Untyped parameters of other functions hide a callback's binding of the same name."""
        ranged = self.ranged
        if not ranged:
            return
        for pattern in params:
            if pattern.text in ranged and pattern.parent.type == "required_parameter" and \
                    pattern.parent.child_by_field_name("type") is None:
                fn = pattern.parent.parent.parent if pattern.parent.parent is not None else None
                if fn is not None:
                    self.within(fn, pattern.text, "")

    def in_range(self, name: bytes, at: int) -> str | None:
        spans = self.ranged.get(name)
        return spans.innermost(at) if spans is not None else None

    def _file_functions(self) -> set[bytes]:
        """The names of this file's top-level functions (once per file)."""
        names = getattr(self, "_functions", None)
        if names is None:
            names = self._functions = {s.name.encode() for s in self.out.symbols if s.kind == "function" and s.parent is None}
        return names

    def returned(self, value: tree_sitter.Node, index: int) -> str | None:
        """The type reference of a call's result (``<f()>``), or None. What the arguments make
        is written into it (``<singleton[1=Db]()>``, ``_hints``): the linker takes it where
        ``f`` returns what that argument returns (``_signature``)."""
        awaited = value.type == "await_expression"
        if awaited and value.named_child_count:  # `await connect()`: Promise<T>'s T
            value = value.named_children[0]
        if value.type != "call_expression":
            return None
        element = self.found_element(value, index)  # columns.find(…): an element
        if element:
            return element
        callee = self.callee_of(value.child_by_field_name("function"), index)
        if callee and "." not in callee and self.local_functions:  # a function declared in a block around
            declared = self._local_function(callee.removeprefix(LOCAL).encode(), value)
            if declared is not None:
                return self._local_return(declared, awaited)
        if not callee or callee.startswith(("?", _TOO_DEEP)):
            return None
        return f"<{callee}{self._hints(value, index)}()>"

    def _local_function(self, name: bytes, call: tree_sitter.Node) -> tree_sitter.Node | None:
        """The innermost function named ``name`` declared in a block that holds ``call``, if any
        (it hides a module-level function of that name there)."""
        found = None
        for fn in self.local_functions.get(name, ()):
            block = fn.parent
            if block is not None and block.start_byte <= call.start_byte < block.end_byte \
                    and (found is None or block.start_byte > found.parent.start_byte):
                found = fn
        return found

    def _local_return(self, found: tree_sitter.Node, awaited: bool) -> str | None:
        """What a call of a function declared in a block returns (a test's ``function
        createBackend() { return new S3Backend(…) }`` inside ``describe``, which has no symbol):
        its declared class-like return type, else the class its one ``return new X(…)`` makes.
        An ``async`` one only where the call is awaited (else it is a Promise)."""
        if not awaited and any(child.type == "async" for child in found.children):
            return None
        returns = found.child_by_field_name("return_type")
        if returns is None:
            return constructed_return(found)
        inner = returns.named_children[0] if returns.named_child_count else None
        if inner is None or (not awaited and inner.type == "generic_type" and inner.child_by_field_name("name") is not None
                             and inner.child_by_field_name("name").text in (b"Promise", b"PromiseLike")):
            return None
        named = type_name(returns)
        return named if named and named not in type_parameters(found) else None

    def _hints(self, call: tree_sitter.Node, index: int | None = None) -> str:
        """``[i=X,…]`` for the arguments of ``call`` that make something the callee may return:
        a function returning a class (``1=Db``), a function of this file (``1=<init()>``), a
        class itself (``0=@TabService``: ``getService(TabService)`` returns an instance);
        ``tk=X`` for its type arguments (``t0=TextNode``: what a returned ``T`` is); and, given
        the ``index`` of the symbol around, ``ai=X`` for a name argument this file types
        (``$copyNode(node)`` with ``node: ListItemNode``: what ``<T>(node: T): T`` returns) and
        ``fi=name`` for a name the module binds (a type guard handed over: ``$assertNodeType(node,
        $isTextNode)`` returns what ``$isTextNode`` proves)."""
        args = call.child_by_field_name("arguments")
        hints = []
        if args is not None and args.type == "arguments":
            for position, arg in enumerate(a for a in args.named_children if a.type != "comment"):
                if index is not None and arg.type == "identifier":
                    typed = self.chain_type(arg, index)
                    if typed and _PLAIN_TYPE.fullmatch(typed):
                        hints.append(f"a{position}={typed}")
                    elif arg.text in self.module_names:  # a function of the module's: `$assertNodeType(n, $isTextNode)`
                        hints.append(f"f{position}={node_text(arg)}")
                if arg.type in ("arrow_function", "function_expression"):
                    body = arg.child_by_field_name("body")
                    made = (type_name(body.child_by_field_name("constructor")) if body is not None
                            and body.type == "new_expression" else constructed_return(arg))
                    if made:
                        hints.append(f"{position}={made}")
                elif arg.type == "identifier" and arg.text in self._file_functions():
                    # `singleton("pubsub", initializePubSub)`: what that function of this file returns
                    hints.append(f"{position}=<{node_text(arg)}()>")
                elif arg.type == "identifier" and arg.text[:1].isupper():
                    hints.append(f"{position}=@{node_text(arg)}")
        types = call.child_by_field_name("type_arguments")
        if types is not None:  # `$getNodeByKey<TextNode>(key)`: what a returned type parameter is (`?`: unnamed)
            for k, typed in enumerate(t for t in types.named_children if t.type != "comment"):
                hints.append(f"t{k}={type_name(typed) or '?'}")
        return f"[{','.join(hints)}]" if hints else ""

    def destructured(self, pattern: tree_sitter.Node, value: tree_sitter.Node, called: set[bytes]) -> None:
        """``const { a, b: c } = obj`` binds ``a`` to ``obj.a`` and ``c`` to ``obj.b`` for calls."""
        index = self.enclosing(pattern.start_byte)
        head = self.returned(value, index)
        if head is None:
            head = callee_text(value) if value.type in ("identifier", "member_expression") else None
            if not head or head.startswith("?"):
                return
        scope = self.out.symbols[index].qualified_name if index >= 0 else ""
        # inside a block the names hold there only: `const { auth } = ctx.state` in a route's
        # handler does not hide the imported `auth()` called beside it (outline's routes)
        block = binding_scope(pattern.parent) if pattern.parent.type == "variable_declarator" else None
        for key, bound in object_bindings(pattern):
            if bound.text in called:
                target = f"{head}.{key.decode('utf-8', 'replace')}"
                if block is None:
                    self.aliases[(scope, node_text(bound))] = target
                    continue
                _spans(self.ranged_aliases, bound.text).add(block.start_byte, block.end_byte, target)

    def hide_locals(self, names: list[tree_sitter.Node], wanted: set[bytes]) -> None:
        """Parameters and declarations inside functions and blocks of a name the module binds
        too (and something calls): there, the name is that local (``LOCAL``), which no module
        symbol can stand for (``(helper) => helper()``, a nested ``const inner = …`` beside an
        exported ``inner``). After ``destructured``: a block's destructured alias stays."""
        for name in names:
            text = name.text
            if text in wanted:
                scope = local_scope(name)
                if scope is not None:
                    _spans(self.ranged_aliases, text).add_absent(scope.start_byte, scope.end_byte, LOCAL)

    def alias_at(self, index: int, name: str, at: int) -> str | None:
        """What the destructured ``name`` reads at byte ``at``: its innermost block's binding,
        else the symbol's (``alias``)."""
        spans = self.ranged_aliases.get(name.encode()) if self.ranged_aliases else None
        found = spans.innermost(at) if spans is not None else None
        if found is not None:
            return found or None  # "": the block destructures it twice, from two places
        return self.alias(index, name) if self.aliases else None

    def alias(self, index: int, name: str) -> str | None:
        while index >= 0:
            found = self.aliases.get((self.out.symbols[index].qualified_name, name))
            if found:
                return found
            index = self.parents[index]
        return self.aliases.get(("", name))

    # --- the callee of a call site ----------------------------------------------------------
    def callee_of(self, fn: tree_sitter.Node | None, index: int, depth: int = 0) -> str | None:
        """The callee text of ``fn`` as the linker reads it: a typed head replaced by its type
        (``Type.m``, ``<f()>.m``), a destructured name by what it reads."""
        if fn is None:
            return None
        if fn.type == "identifier":
            text = node_text(fn)
            bound = self.alias_at(index, text, fn.start_byte)
            if bound is None:
                return text
            if bound == LOCAL:
                return LOCAL + text
            head, _, rest = bound.rpartition(".")
            # `const { collections } = model.store.rootStore`: the head's first name typed, the
            # linker follows the declared field types from there (as for `model.store.m()`)
            typed = self._typed_head(index, head, fn.start_byte) if not head.startswith(("<", "this")) else None
            return f"{typed}.{rest}" if typed and not typed.endswith("[]") else bound
        if fn.type == "non_null_expression" and fn.named_child_count:
            return self.callee_of(fn.named_children[0], index, depth)
        if fn.type != "member_expression":
            return None
        callee = member_callee(fn, fn.text)
        if not callee:
            return None
        if callee.startswith("?."):
            obj = fn.child_by_field_name("object")
            awaited = False
            while obj is not None and obj.type in _WRAPPERS and obj.named_child_count:
                awaited = awaited or obj.type == "await_expression"
                obj = obj.named_children[0]
            if awaited and obj.type in ("identifier", "member_expression"):  # (await this.jobScheduler).m()
                typed = self._typed_head(index, node_text(obj), fn.start_byte)
                return f"{typed}.{callee[2:]}" if typed else callee
            if obj is not None and obj.type == "as_expression" and obj.named_child_count == 2:
                typed = type_name(obj.named_children[1])  # (x as Foo).m()
                return f"{typed}.{callee[2:]}" if typed else callee
            if obj is not None and obj.type in ("subscript_expression", "member_expression"):
                typed = self.element_head(obj, index)  # columns[i].m(), columns[i].field!.m(): an element's
                return f"{typed}.{callee[2:]}" if typed else callee
            if obj is not None and obj.type == "new_expression":  # new Presenter().call(): the class's own
                typed = type_name(obj.child_by_field_name("constructor"))
                return f"{typed}.{callee[2:]}" if typed else callee
            if obj is not None and obj.type == "call_expression" and depth < MAX_DEPTH:
                inner = self.callee_of(obj.child_by_field_name("function"), index, depth + 1)
                if inner and not inner.startswith("?"):
                    return f"<{inner}{self._hints(obj, index)}()>.{callee[2:]}"
            return callee
        head, _, rest = callee.rpartition(".")
        if head and head not in ("this", "super"):
            typed = self._typed_head(index, head, fn.start_byte)
            if typed:
                return f"{typed}.{rest}"
            bound = self.alias_at(index, head.partition(".")[0], fn.start_byte)
            if bound == LOCAL:
                return LOCAL + callee
            if bound and "." not in head:  # `const { dialogs } = useStores(); dialogs.close()`: <useStores()>.dialogs.close
                owner, _, field = bound.rpartition(".")
                typed = self._typed_head(index, owner, fn.start_byte) if not owner.startswith(("<", "this")) else None
                return f"{typed or owner}.{field}.{rest}"
        return callee

    def _typed_head(self, index: int, head: str, at: int) -> str | None:
        """``head`` with its typed part replaced by the type: the whole head (``x`` of ``x.m``),
        else its first name (``model`` of ``model.store.rootStore``: the linker follows the
        declared field types from there)."""
        typed = self._name_type(index, head, at)
        if typed or "." not in head or head.startswith("this."):
            return None if typed and typed.endswith("[]") else typed  # an array's own methods are no one's
        first, _, fields = head.partition(".")
        typed = self._name_type(index, first, at)
        return f"{typed}.{fields}" if typed and not typed.endswith("[]") else None

    def _name_type(self, index: int, name: str, at: int) -> str | None:
        """The type of ``name`` at byte ``at``: a callback parameter's, else a typed binding's."""
        typed = self.in_range(name.encode(), at) if self.ranged else None
        return typed if typed is not None else self._instance_type(index, name)

    # --- JSX --------------------------------------------------------------------------------
    def jsx(self, names: list[tree_sitter.Node]) -> None:
        """``<Empty/>`` uses the component ``Empty``: lower-case tags are the host's elements."""
        seen, out, symbols, ranged_aliases = set(), self.out.renders, self.out.symbols, self.ranged_aliases
        for node in names:
            text = node.text
            if node.type == "identifier":
                if not text[:1].isupper():
                    continue
            elif node.type != "member_expression" or not SIMPLE_CHAIN.match(text.decode("utf-8", "replace")):
                continue
            index = self.enclosing(node.start_byte)
            head = text.partition(b".")[0]
            if ranged_aliases and head in ranged_aliases and \
                    self.alias_at(index, head.decode("utf-8", "replace"), node.start_byte) == LOCAL:
                text = LOCAL.encode() + text  # a parameter's component: `(Story) => <Story/>`
            if (index, text) not in seen:
                seen.add((index, text))
                caller = symbols[index].qualified_name if index >= 0 else ""
                out.append((caller, text.decode("utf-8", "replace"), node.start_point[0] + 1))


def _spans(table: dict, name: bytes) -> _Spans:
    """``name``'s spans in ``table`` (``ranged``, ``ranged_aliases``), made on first use."""
    spans = table.get(name)
    if spans is None:
        spans = table[name] = _Spans()
    return spans


class _Spans:
    """Functions binding one name: nested or disjoint byte ranges, the innermost one around an
    offset found by bisection and a walk up the nesting (as ``Declarations.enclosing``).

    Each pass over the file (callbacks, guards, loops) adds its ranges in document order and
    looks names up between them, and it starts again at the top of the file: the ranges added
    in order since the last lookup that found the order broken are kept apart (``_run``), in an
    order of their own, and a lookup takes the innermost of the two orders' answers. Rebuilding
    the whole order at every lookup after an addition made a minified bundle, where thousands of
    callbacks and guards bind ``e``, quadratic (3.5 of 5 s for a 1.4 MB line); now it is rebuilt
    when an addition comes out of order, at the next lookup."""

    def __init__(self) -> None:
        self.typed: dict[tuple[int, int], str] = {}
        self._built = _Order()  # the ranges at the last rebuild
        self._run = _Order()  # those added since, in document order
        self._stale = False  # a range came out of order: rebuild both at the next lookup

    def add(self, start: int, end: int, typed: str) -> None:
        known = self.typed.get((start, end))
        if known is None:
            self.typed[(start, end)] = typed
            self._place(start, end)
        elif known != typed and known and typed:  # one block binding the name to two types: unknown
            self.typed[(start, end)] = ""  # ("" from ``shadowed`` does not undo a binding of the same function)

    def add_absent(self, start: int, end: int, typed: str) -> None:
        if (start, end) not in self.typed:
            self.typed[(start, end)] = typed
            self._place(start, end)

    def _place(self, start: int, end: int) -> None:
        if not self._stale and not self._run.append(start, end):
            self._stale = True

    def innermost(self, at: int) -> str | None:
        if self._stale:
            self._built, self._run, self._stale = _Order(), _Order(), False
            for start, end in sorted(self.typed, key=lambda s: (s[0], -s[1])):
                self._built.append(start, end)
        found = self._built.innermost(at)
        other = self._run.innermost(at) if self._run.spans else None
        if other is not None and (found is None or (other[0], -other[1]) > (found[0], -found[1])):
            found = other
        return self.typed[found] if found is not None else None


class _Order:
    """Ranges in document order (by start, the outer first), each with the range it nests in."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []
        self.starts: list[int] = []
        self.parents: list[int] = []
        self._open: list[int] = []  # the last range and those it nests in

    def append(self, start: int, end: int) -> bool:
        """Add a range after the others; False (nothing added) when it does not come after them."""
        spans = self.spans
        if spans and (start, -end) <= (spans[-1][0], -spans[-1][1]):
            return False
        stack = self._open
        while stack and spans[stack[-1]][1] <= start:
            stack.pop()
        self.parents.append(stack[-1] if stack else -1)
        stack.append(len(spans))
        spans.append((start, end))
        self.starts.append(start)
        return True

    def innermost(self, at: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self.starts, at) - 1
        while i >= 0:
            start, end = self.spans[i]
            if start <= at < end:
                return start, end
            i = self.parents[i]
        return None


def _declared_function_type(fn: tree_sitter.Node) -> str | None:
    """The type name declared for the function ``fn`` by where it stands: a variable's
    annotation, the return type of the arrow whose body it is, of the function it is returned
    from. None where none is written."""
    parent = fn.parent
    annotation = None
    if parent is None:
        return None
    if parent.type == "variable_declarator":
        annotation = parent.child_by_field_name("type")
    elif parent.type == "arrow_function":
        annotation = parent.child_by_field_name("return_type")
    elif parent.type == "return_statement":
        outer = function_around(parent.parent)  # the function it returns from, or the program (no return type)
        annotation = outer.child_by_field_name("return_type") if outer is not None else None
    inner = annotated(annotation)
    return type_name(inner) if inner is not None and inner.type in ("type_identifier", "generic_type") else None
