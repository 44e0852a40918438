"""Receivers typed by declarations in other files: what the linker makes of a type reference.

The extractor writes a receiver it cannot type at the call as a *reference* to another file's
declared types (``ts_types``): ``<F()>`` (``F``'s return type), ``<F(i)(j)>`` (parameter ``j``
of ``F``'s function-typed parameter ``i``: a callback's), ``<F(i).key(j)>`` (parameter ``j`` of
the method ``key`` of the type ``F``'s parameter ``i`` declares: a function in an object literal
argument), a field chain after any of them (``<F()>.store.m``), ``<App["viewport"]>`` (a
field's declared type), ``<:Handler(j)>`` (parameter ``j`` of the function type a type alias
names: a function typed by its context's declared name), and ``<F(is0)?T>`` (what ``F``'s type
predicate proves its argument 0 to be, else ``T``: a type guard, ``ts_narrowing``). A return
type marked ``BOUND`` was read through its class's type parameter (``ts_generics``) and holds
for ``this.m()`` in that class only. A mixin of ``linking.Linker``: it needs ``names`` and
``_call``; what it reads of the members of the types it reaches is ``linking_members``'.
"""

from __future__ import annotations

import re

from cogo_pipelines.indexing.linking_members import (
    CALLBACK_PARENS,
    DEEPEST,
    HAS_FIELDS,
    THIS,
    UNION,
    MemberLookup,
    resolved_once,
)

_PARENS = re.compile(r"(?:\(\d*\))+$")  # the "()" / "(0)(1)" that ends a type reference
# "<F(is0)?Before>": narrowed by F's type predicate (ts_narrowing); F a plain callee text
_GUARD = re.compile(r"<([^<>?]+)\(is(\d+)\)(?:\?(.+))?>")
_PARAMETER = re.compile(r"\((\d+)\)")  # "(j)"
_PROPERTY_CALLBACK = re.compile(r"\((\d+)\)\.([A-Za-z_$][\w$]*)\((\d+)\)>$")  # "(0).perform(1)>"
BOUND = "~"  # a return type read through the class's type parameter (ts_generics): for `this.m()` in it
# "<!invariant!<F(is0)?T>>": what follows a call of `invariant` handed a guard (ts_narrowing): the
# guard's type where `invariant` is declared `asserts` its first parameter, else the type before
ASSERTED = "!"
# Array.prototype methods whose first argument is a callback, and which of its parameters is an
# element (``ts_arrays`` types those parameters in the extractor too)
ELEMENT_CALLBACKS = {
    "forEach": (0,), "map": (0,), "filter": (0,), "find": (0,), "findIndex": (0,), "findLast": (0,),
    "findLastIndex": (0,), "some": (0,), "every": (0,), "flatMap": (0,), "reduce": (1,), "reduceRight": (1,),
    "sort": (0, 1),
}


# Array.prototype methods that give an array of the same elements (an element of their result is
# one of the array they are called on)
COPIES = frozenset({"filter", "slice", "concat", "sort", "reverse", "toSorted", "toReversed", "splice"})


def _reference_end(text: str) -> int:
    """The index of the ``>`` that closes the reference ``text`` starts with (``<<f()>.g()>.h``:
    the second), or -1."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_hints(callee: str) -> tuple[str, str]:
    """(callee, its hints with the closing ``]``) of a callee text that may end in hints
    (``singleton[1=Db]``); only the last group is the callee's own: a nested reference's
    (``<f[t0=T]()>.g``) belongs to that reference."""
    if not callee.endswith("]"):
        return callee, ""
    start = callee.rfind("[")
    return (callee[:start], callee[start + 1:]) if start > 0 else (callee, "")


def _hint(hints: str, position: str) -> str | None:
    """What the call's argument ``position`` makes, from the hints ``[i=X,…]`` after a callee
    (``ts_types._hints``), or None."""
    return dict(h.split("=", 1) for h in hints[:-1].split(",") if "=" in h).get(position)


class TypeResolution(MemberLookup):
    def _super(self, path: str, callee: str, namespaces: tuple[str, ...], klass: str | None) -> tuple | None:
        """``super(...)`` calls the class's ``extends`` target, ``super.m()`` its member ``m``."""
        if not klass:
            return None
        for owner, relation, base in self.names.ex[path].heritage:
            if owner == klass and relation == "extends":
                found = self.names.dotted_memo(path, base.split("<")[0], namespaces)
                if callee == "super" or not found or found[0] != "symbol":
                    return found
                return self._member_of_type(found, callee[6:])
        return None

    def _typed_member(self, path: str, callee: str, namespaces: tuple[str, ...], klass: str | None,
                      depth: int) -> tuple | None:
        """``<F(i)(j)>.m``: ``m`` on the type ``F``'s signature declares (``ts_types``); ``<F()>[0].m``:
        on an element of the array ``F`` returns (``_chain_type``)."""
        close = _reference_end(callee)
        if close > 0 and callee.startswith("[0]", close + 1):  # `const all = f(); all[i].m()`
            head, _, member = callee.rpartition(".")
            typed = self._chain_type(path, head, namespaces, klass, depth) if depth <= DEEPEST else None
            return self._member_of_type(typed, member) if typed is not None else None
        end = callee.rfind(">.")
        typed = self._type_of(path, callee[:end + 1], namespaces, klass, depth) if end > 0 else None
        rest = callee[end + 2:]
        if typed is None and end > 0 and callee[end - 2:end] == "()" and depth <= DEEPEST:  # `return { touch }`
            fn = self._call(path, _split_hints(callee[1:end - 2])[0], namespaces, klass, depth + 1)
            if not fn or fn[0] != "symbol":
                return None
            field, _, after = rest.partition(".")
            declared = self.names.ex[fn[1]].types.get(f"{fn[2]}().{field}") if after else None
            if not declared:
                return self.names.export(fn[1], f"{fn[2]}().{rest}")
            # `return { query, store }` with `const store = new Store(…)`: a test helper's instances
            typed = self._type_of(fn[1], declared, (), None, depth + 1)
            rest = after
        while typed and typed[0] == "symbol" and "." in rest:  # <F()>.field.m: through declared field types
            field, _, rest = rest.partition(".")
            typed = self._field_type(typed[1], typed[2], field, depth)
        if typed and typed[0] == UNION and "." not in rest:  # `anchor.getNode().getParent()`: where every member agrees
            return self._member_of_type(typed, rest)
        if not typed or typed[0] != "symbol":
            return typed if typed and typed[0] == "external" else None
        return self._member_of_type(typed, rest)

    @resolved_once
    def _type_of(self, path: str, ref: str, namespaces: tuple[str, ...], klass: str | None,
                 depth: int) -> tuple | None:
        """The type symbol a reference ``<F(i)(j)>`` names, or a plain type name's symbol."""
        if ref.endswith('"]>'):  # <App["viewport"]>: the declared type of App's field
            owner, _, field = ref[1:-3].partition('["')
            found = self.names.dotted_memo(path, owner, namespaces)
            if not found or found[0] != "symbol" or depth > DEEPEST:
                return None
            return self._field_type(found[1], found[2], field, depth + 1)
        if not ref.startswith("<"):
            return self.names.dotted_memo(path, ref.split("<")[0], namespaces)
        if "|" in ref and "(" not in ref and ref.count("<") == 1:  # <ListItemNode|ListNode>: a declared union
            return self._union([self._named(path, name, namespaces) for name in ref[1:-1].split("|")])
        if ref.startswith("<" + ASSERTED):  # <!invariant!<F(is0)?T>>: narrowed if invariant asserts
            fn, _, inner = ref[2:-1].partition(ASSERTED)
            signature = self._signature_of(path, fn, namespaces, klass, depth) if depth <= DEEPEST else None
            if signature is not None and self.names.ex[signature[0]].types.get(f"{signature[1]}(asserts)") == "0":
                return self._type_of(path, inner, namespaces, klass, depth + 1)
            guard = _GUARD.fullmatch(inner)
            before = guard.group(3) if guard is not None else None
            return self._chain_type(path, before, namespaces, klass, depth + 1) if before else None
        guard = _GUARD.fullmatch(ref)
        if guard is not None:  # <Utils.isCollection(is0)?Item>: narrowed by a type guard
            return self._guarded(path, ref, guard, namespaces, klass, depth)
        member = _PROPERTY_CALLBACK.search(ref)
        if member is not None:  # <register(0).perform(1)>: a function passed in an object literal
            return self._property_parameter(path, ref[1:member.start()], member, namespaces, klass, depth)
        parens = _PARENS.search(ref[:-1])
        if parens is None or depth > DEEPEST:
            return None
        fn, hints = _split_hints(ref[1:parens.start()])  # `singleton[1=Db]`: what arguments return
        if fn.startswith(":"):  # <:Handler(0)>: parameter 0 of the function type `Handler` names
            found = self._alias_parameter(path, fn[1:], parens.group(0), namespaces, depth)
            if found is None and "." in fn:  # <:DomConfig.$exportDOM(0)>: of the type's member
                head, _, key = fn[1:].rpartition(".")
                j = _PARAMETER.fullmatch(parens.group(0))
                holder = self.names.dotted_memo(path, head, namespaces) if j is not None else None
                if self.names.kind(holder) in HAS_FIELDS:
                    found = self._member_parameter(holder, key, j.group(1), depth)
            return found
        signature = self._signature_of(path, fn, namespaces, klass, depth)
        if signature is None:
            if any(h[:1].isdigit() for h in hints.split(",")):  # what arguments make (type arguments aside)
                return None
            made = self._factory_return(path, fn, namespaces) if parens.group(0) == "()" else None
            if made is not None:
                return made
            return (self._element_parameter(path, fn, parens.group(0), klass, depth)
                    or self._member_without_node(path, fn, parens.group(0), namespaces, klass, depth))
        tpath, qname = signature
        declared = self.names.ex[tpath].types.get(qname + parens.group(0))
        callback = CALLBACK_PARENS.fullmatch(parens.group(0)) if not declared else None
        if callback is not None:  # `use(h: Handler)`: parameter j of the function type the parameter names
            holder = self.names.ex[tpath].types.get(f"{qname}({callback.group(1)})")
            return self._alias_parameter(tpath, holder, f"({callback.group(2)})", (), depth) if holder else None
        if declared and declared.startswith(BOUND):  # through the class's type parameter: `this.m()` in it only
            this_call = fn.startswith("this.") and fn.count(".") == 1 and path == tpath
            declared = declared[1:] if this_call and klass == qname.rpartition(".")[0] else None
        if declared == THIS:  # `orderBy(): this`, `where((qb: this) => …)`: the receiver's type, a subclass's too
            if fn.startswith("super.") and fn.count(".") == 1 and klass:  # `super.updateFromJSON(j)`: this object
                return "symbol", path, klass
            receiver = self._receiver(path, fn, namespaces, klass, depth + 1)
            return receiver if receiver is not None else self.names.dotted_memo(tpath, qname.rpartition(".")[0])
        if declared and declared.startswith("=>"):  # returns what argument i returns: named where the call is
            made = _hint(hints, declared[2:])
            if made and made.startswith("<"):  # a function of that file: what it returns
                return self._type_of(path, made, namespaces, klass, depth + 1)
            if made and made.startswith("@"):  # a class handed over: its instance, if a class it is
                return self._class_handed_over(path, made, namespaces)
            return self.names.dotted_memo(path, made) if made else None
        if declared and declared.startswith("=t"):  # a type parameter returned: the call's type argument, else the constraint
            k, _, bound = declared[2:].partition(":")
            made = _hint(hints, "t" + k)
            if made is not None:
                return self.names.dotted_memo(path, made, namespaces) if made != "?" else None
            return self.names.dotted_memo(tpath, bound, self._scope(tpath, qname)[0]) if bound else None
        if declared and declared.startswith("=g"):  # returns what the guard handed as argument j proves
            j, _, k = declared[2:].partition(":")
            made = _hint(hints, "t" + k)
            if made is not None:
                return self.names.dotted_memo(path, made, namespaces) if made != "?" else None
            guard = _hint(hints, "f" + j)
            signature = self._signature_of(path, guard, namespaces, klass, depth) if guard else None
            return self._proven(*signature, "0") if signature else None
        if declared and declared.startswith("=a"):  # returns what argument j is (or the type argument k names)
            j, _, k = declared[2:].partition(":")
            made = _hint(hints, "t" + k) or _hint(hints, "a" + j)
            return self.names.dotted_memo(path, made, namespaces) if made and made != "?" else None
        if declared and declared.startswith("<"):  # `ReturnType<Driver['getPlatform']>` (ts_generics), or
            # the call an undeclared return returns (`<this.rootStore.collections.get()>`): in the function's scope
            namespaces_there, owner_there, _ = self._scope(tpath, qname)
            return self._type_of(tpath, declared, namespaces_there, owner_there, depth + 1)
        # a type named inside a namespace is that namespace's (`make(): Code` in `namespace qr`)
        return self.names.dotted_memo(tpath, declared, self._scope(tpath, qname)[0]) if declared else None

    def _factory_return(self, path: str, fn: str, namespaces: tuple[str, ...]) -> tuple | None:
        """What a function of an exported object literal makes (``<ERRORS.AccessDenied()>``:
        ``types["ERRORS.AccessDenied()"]``, ``ts_signatures._factories``): it has no node of its own."""
        head, _, key = fn.rpartition(".")
        owner = self.names.dotted_memo(path, head, namespaces) if head and "<" not in head else None
        if self.names.kind(owner) != "const":
            return None
        made = self.names.ex[owner[1]].types.get(f"{owner[2]}.{key}()")
        return self.names.dotted_memo(owner[1], made, self._scope(owner[1], owner[2])[0]) if made else None

    def _receiver(self, path: str, fn: str, namespaces: tuple[str, ...], klass: str | None,
                  depth: int) -> tuple | None:
        """The type symbol of the receiver of the method call ``fn`` (``SelectQueryBuilder`` of
        ``SelectQueryBuilder.where``, of ``<f()>.where`` where ``f`` returns one, of
        ``this.qb.where`` through the field's declared type), or None."""
        head = fn.rpartition(".")[0]
        return self._chain_type(path, head, namespaces, klass, depth) if head else None

    def _class_handed_over(self, path: str, made: str, namespaces: tuple[str, ...]) -> tuple | None:
        """The class an argument hint ``@Name`` names (``getService(TabService)``), if a class it is."""
        found = self.names.dotted_memo(path, made[1:], namespaces)
        return found if self.names.kind(found) == "class" else None

    def _guarded(self, path: str, ref: str, guard: re.Match, namespaces: tuple[str, ...], klass: str | None,
                 depth: int) -> tuple | None:
        """What the callee's type predicate proves its argument to be (``types["F(is0)"]``,
        ``ts_narrowing``); where the callee declares none (a plain predicate), the type written
        after ``?`` (the argument's own, unnarrowed), else None."""
        if depth > DEEPEST:
            return None
        fn, j, before = guard.groups()
        fn, hints = _split_hints(fn)
        signature = self._signature_of(path, fn, namespaces, klass, depth)
        if signature is not None:
            tpath, qname = signature
            proven = self.names.ex[tpath].types.get(f"{qname}(is{j})")
            if proven and proven.startswith("=>"):  # `value is InstanceType<T>`: the class handed over
                made = _hint(hints, proven[2:])
                return self._class_handed_over(path, made, namespaces) if made and made.startswith("@") else None
            if proven:
                return self._proven(tpath, qname, j)
        return self._chain_type(path, before, namespaces, klass, depth + 1) if before else None

    def _proven(self, tpath: str, qname: str, j: str) -> tuple | None:
        """The type symbol the type guard ``qname`` (of ``tpath``) proves its argument ``j`` to be
        (``types["F(is{j})"]`` names it), else None (none declared, or an instance of a class
        handed over, ``=>``, which needs the call's hints)."""
        proven = self.names.ex[tpath].types.get(f"{qname}(is{j})")
        if not proven or proven.startswith("=>"):
            return None
        return self.names.dotted_memo(tpath, proven, self._scope(tpath, qname)[0])

    def _alias_parameter(self, path: str, name: str, parens: str, namespaces: tuple[str, ...],
                         depth: int) -> tuple | None:
        """The declared type of parameter ``j`` (``parens`` ``(j)``) of the function type that the
        type alias ``name`` (seen from ``path``) stands for: ``type Handler = (c: Context, next)
        => …`` gives ``Context`` for parameter 0 (``types["Handler(0)"]``, ``ts_signatures``)."""
        j = _PARAMETER.fullmatch(parens)
        alias = self.names.dotted_memo(path, name.split("<")[0], namespaces) if j is not None and depth <= DEEPEST else None
        if self.names.kind(alias) != "type":
            return None
        types = self.names.ex[alias[1]].types
        declared = types.get(f"{alias[2]}({j.group(1)})")
        if declared:
            return self._type_of(alias[1], declared, (), None, depth + 1)
        union = types.get(alias[2])  # `type H = Handler | MiddlewareHandler`: what every member says
        if not union or "|" not in union:
            return None
        found = {self._alias_parameter(alias[1], member, parens, (), depth + 1) for member in union.split("|")}
        return found.pop() if len(found) == 1 and None not in found else None

    def _element_parameter(self, path: str, fn: str, parens: str, klass: str | None, depth: int) -> tuple | None:
        """``<Type.columns.forEach(0)(0)>``, ``<this.columns.reduce(0)(1)>``: an element of the
        field chain before the array method, where its last field is declared an array."""
        head, _, method = fn.rpartition(".")
        wanted = ELEMENT_CALLBACKS.get(method)
        if not head or wanted is None or parens not in [f"(0)({j})" for j in wanted] or "." not in head:
            return None
        return self._chain_type(path, head + "[0]", (), klass, depth)

    @resolved_once
    def _chain_type(self, path: str, head: str, namespaces: tuple[str, ...], klass: str | None,
                    depth: int) -> tuple | None:
        """The class or interface a receiver chain names: ``this``, a type name or a reference
        (``<f()>``), then fields through their declared types (``[0]`` after one: its element)."""
        end = _reference_end(head) if head.startswith("<") else -1
        if end > 0 and head.startswith("[0]", end + 1):  # `<this.getAll()>[0]`: an element of what it returns
            typed = self._returned_element(path, head[:end + 1], namespaces, klass, depth)
            fields = head[end + 5:].split(".") if end + 5 < len(head) else []
        elif end > 0:  # `<f()>` or `<f()>.a.b`
            typed = self._type_of(path, head[:end + 1], namespaces, klass, depth)
            fields = head[end + 2:].split(".") if end + 2 < len(head) else []
        else:
            first, *fields = head.split(".")
            typed = ("symbol", path, klass) if first == "this" else self.names.dotted_memo(path, first, namespaces)
            if first == "this" and not klass:
                return None
        for i, field in enumerate(fields):
            if self.names.kind(typed) not in HAS_FIELDS:
                return None
            typed = self._field_type(typed[1], typed[2], field, depth + 1, of_this=i == 0 and end < 0 and first == "this")
        return typed if self.names.kind(typed) in HAS_FIELDS or typed and typed[0] == UNION else None

    def _returned_element(self, path: str, ref: str, namespaces: tuple[str, ...], klass: str | None,
                          depth: int) -> tuple | None:
        """An element of the array the call ``ref`` (``<F()>``) gives: ``F``'s declared return
        ``T[]`` (``getAll(): Array<Query>``), or, for ``filter``/``slice``/... (``COPIES``), an
        element of the array they are called on (``<<this.getAll()>.filter()>``,
        ``<this.observers.slice()>``), which must itself be known to be one."""
        if not ref.endswith("()>") or depth > DEEPEST:
            return None
        fn = ref[1:-3]
        # the hints first (`filter[t0=Query]`, `filter[0=<a.b()>]`): a dot inside them is no member's
        head, _, method = _split_hints(fn)[0].rpartition(".")
        if head and method in COPIES:
            found = self._chain_type(path, head + "[0]", namespaces, klass, depth + 1)
            if found is not None:
                return found
        signature = self._signature_of(path, _split_hints(fn)[0], namespaces, klass, depth)
        if signature is None:
            return None
        tpath, qname = signature
        declared = self.names.ex[tpath].types.get(qname + "()")
        if not declared or not declared.endswith("[]") or declared.startswith(("<", "=", BOUND)):
            return None
        return self.names.dotted_memo(tpath, declared[:-2], self._scope(tpath, qname)[0])

    def _property_parameter(self, path: str, fn: str, member: re.Match, namespaces: tuple[str, ...],
                            klass: str | None, depth: int) -> tuple | None:
        """Parameter ``j`` of the method or function-typed property ``key`` of the type that
        ``fn``'s parameter ``i`` declares (``register<T extends Action>(action: T)``, ``Action``'s
        ``perform: ActionFn`` or ``perform(elements, app: AppProps)``)."""
        signature = self._signature_of(path, fn, namespaces, klass, depth) if depth <= DEEPEST else None
        if signature is None:
            return None
        tpath, qname = signature
        index, key, j = member.groups()
        declared = self.names.ex[tpath].types.get(f"{qname}({index})")
        holder = self._type_of(tpath, declared, (), None, depth + 1) if declared else None
        if not holder or holder[0] != "symbol":
            return None
        return self._member_parameter(holder, key, j, depth)

    def _member_parameter(self, holder: tuple, key: str, j: str, depth: int) -> tuple | None:
        """The declared type of parameter ``j`` of the method or function-typed property ``key``
        of the type symbol ``holder`` (``perform(elements, app: AppProps)``, ``perform: ActionFn``)."""
        found = self._declared(holder[1], holder[2], f"{key}({j})")  # a method / function-typed property
        if found is not None:
            return self._type_of(found[0], found[1], (), None, depth + 1)
        alias = self._field_type(holder[1], holder[2], key, depth + 1)  # `perform: ActionFn`
        if not alias or alias[0] != "symbol":
            return None
        declared = self.names.ex[alias[1]].types.get(f"{alias[2]}({j})")
        return self._type_of(alias[1], declared, (), None, depth + 1) if declared else None

    def _signature_of(self, path: str, fn: str, namespaces: tuple[str, ...], klass: str | None,
                      depth: int) -> tuple[str, str] | None:
        """(file, qualified name) under which the callee ``fn``'s signature types are declared
        (``C.constructor`` for ``new C``), or None when it resolves to no symbol."""
        target = self._call(path, fn, namespaces, klass, depth + 1)
        if not target or target[0] != "symbol":
            return None
        return target[1], target[2] + (".constructor" if fn.startswith("new ") else "")
