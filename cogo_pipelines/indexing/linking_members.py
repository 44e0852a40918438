"""Members of the repo's types as the linker reads them: a class's fields and their declared
types, down its ``extends`` chain and through a base's type parameter (``=c{k}``); members of
type aliases and of unions (``UNION``: a member where every type of the union has it from one
declaration); the method signatures of interfaces and the fields declared of interfaces with
call signatures, which have no node of their own. A mixin of ``linking_types.TypeResolution``:
it needs ``names``, ``_type_of``, ``_chain_type`` and ``_scope``.
"""

from __future__ import annotations

import functools
import re

CALLBACK_PARENS = re.compile(r"\((\d+)\)\((\d+)\)")  # "(i)(j)": parameter j of the function passed as argument i
DEEPEST = 20  # nested references (`<<f()>.g()>.h`, ts_types.MAX_DEPTH) and field chains resolved at most this deep
CALL_RETURN = "(call)"  # types["I.(call)"]: what a call of a value of interface I returns (ts_callables)
THIS = "=this"  # a declared `this` type (ts_types): the type of the receiver the method is called on
HAS_FIELDS = ("class", "interface", "type")  # declared field types: `types["App.viewport"]`
UNION = "union"  # a type symbol ("union", (symbol, …)): one of several, where each member is looked up


def call_position(index: int) -> str:
    """``types["I.(call{index})"]``: the type the call signatures of ``I`` declare for argument
    ``index`` (``ts_callables``)."""
    return f"(call{index})"


def resolved_once(method):
    """Each resolution worked out once per linker, keyed by all its arguments (``depth`` too, so
    the answer is the one the call would give): a reference nests the receivers before it
    (``<<<B.m()>.m()>.m()>.m``, one level per ``const a2 = a1.m()``), and a level resolves the one
    inside it along two ways (as a signature and as a member), so without this, 24 such lines
    took 2^20 lookups (minutes: one file of generated code held the whole graph up)."""
    name = method.__name__

    @functools.wraps(method)
    def once(self, path: str, text: str, namespaces: tuple[str, ...], klass: str | None, depth: int = 0):
        key = (name, path, text, namespaces, klass, depth)
        memo = self.resolved
        if key in memo:
            return memo[key]
        found = memo[key] = method(self, path, text, namespaces, klass, depth)
        return found

    return once


class MemberLookup:
    def _member_without_node(self, path: str, fn: str, parens: str, namespaces: tuple[str, ...],
                             klass: str | None, depth: int) -> tuple | None:
        """A callee with no node of its own for ``_call`` to find, read through its receiver's
        declared type: an interface's method signature (``<IDatabaseDriver.getPlatform()>``:
        what it returns, ``_interface_return``), or a field declared of an interface with call
        signatures (``<Hono.get(1)(0)>``, ``<Hono.get()>``: ``_callable_field``)."""
        head, _, member = fn.rpartition(".")
        callback = CALLBACK_PARENS.fullmatch(parens) if parens != "()" else None
        if not head or depth > DEEPEST or (callback is None and parens != "()"):
            return None
        if member not in self._callable_members() and (callback is not None or member not in self._methods_with_returns()):
            return None  # no interface of the repo declares such a member: the receiver is not worth reading
        owner = self._chain_type(path, head, namespaces, klass, depth + 1)
        if owner is None:
            return None
        if callback is None and self.names.kind(owner) in ("interface", "type"):
            returned = self._interface_return(owner, member, depth)
            if returned is not None:
                return returned
        if member not in self._callable_members():
            return None
        return self._callable_field(owner, member, callback, depth)

    def _methods_with_returns(self) -> set[str]:
        """The names of the methods of the repo's interfaces, object types and classes that
        declare a return type (``types["I.m()"]``; a class's too: an interface may extend one,
        mikro-orm's ``interface SelectQueryBuilder extends QueryBuilder``); made once, on first use."""
        found = getattr(self, "_returning_methods", None)
        if found is None:
            found = self._returning_methods = set()
            for e in self.names.ex.values():
                owners = {s.qualified_name for s in e.symbols if s.kind in HAS_FIELDS}
                for key in e.types:
                    if key.endswith("()") and "(" not in key[:-2]:
                        owner, _, method = key[:-2].rpartition(".")
                        if owner in owners:
                            found.add(method)
        return found

    def _callable_members(self) -> set[str]:
        """The names of the fields declared of an interface with call signatures, anywhere in
        the repo (``ts_callables``); made once, on first use."""
        found = getattr(self, "_callables", None)
        if found is None:
            marker = "." + CALL_RETURN[:-1]  # ".(call": its return or any argument's type
            callable_types = {key.partition(marker)[0].rpartition(".")[2]
                              for e in self.names.ex.values() for key in e.types if marker in key}
            found = self._callables = {
                key.rpartition(".")[2] for e in self.names.ex.values() for key, declared in e.types.items()
                if declared and "(" not in key and declared.split("<")[0].rpartition(".")[2] in callable_types}
        return found

    def _callable_field(self, owner: tuple, member: str, callback: re.Match | None, depth: int) -> tuple | None:
        """Where ``owner``'s field ``member`` is declared of an interface with call signatures
        (``get!: HandlerInterface<…>``): the parameter type of the callback passed as argument
        ``i`` (a function type written there, or the function type alias named there; both where
        both are, if they agree), or what the call returns (``callback`` None)."""
        found = self._declared(owner[1], owner[2], member)
        typed = self._type_of(found[0], found[1], (), found[2], depth + 1) if found else None
        if self.names.kind(typed) not in ("interface", "type"):
            return None
        if callback is None:
            returned = self._declared(typed[1], typed[2], CALL_RETURN)
            return self._type_of(returned[0], returned[1], (), returned[2], depth + 1) if returned else None
        i, j = int(callback.group(1)), callback.group(2)
        inline = self._declared(typed[1], typed[2], f"{call_position(i)}({j})")
        named = self._declared(typed[1], typed[2], call_position(i))
        written = self._type_of(inline[0], inline[1], (), None, depth + 1) if inline else None
        aliased = self._alias_parameter(named[0], named[1], f"({j})", (), depth + 1) if named else None
        if written and aliased and written != aliased:
            return None
        return written or aliased

    def _interface_return(self, owner: tuple, method: str, depth: int) -> tuple | None:
        """What the method signature ``method`` of the interface (or object type) ``owner``
        declares it returns, read there or in the first interface it extends that declares it:
        ``driver.getPlatform().m()`` where ``driver: IDatabaseDriver``. Of a union alias (``type
        PointType = TextPointType | ElementPointType``), what each member returns: the one type
        they agree on, else their union (``_union``)."""
        if self.names.kind(owner) == "type":
            aliased = self._aliased(owner)
            if aliased is not None and aliased[0] == UNION:
                return self._union([self._interface_return(member, method, depth + 1) for member in aliased[1]])
        found = self._declared(owner[1], owner[2], method + "()")
        if found is None:
            return None
        if found[1] == THIS:
            return owner
        return self._type_of(found[0], found[1], (), found[2], depth + 1)

    def _fields(self, typed: tuple, parts: list[str], depth: int, of_this: bool = False) -> tuple | None:
        """Member ``parts[-1]`` of the type reached from class ``typed`` through the declared
        types of the fields ``parts[:-1]`` (None where one is not declared); ``of_this``: the
        chain starts at ``this`` in class ``typed``."""
        for i, field in enumerate(parts[:-1]):
            typed = self._field_type(typed[1], typed[2], field, depth, of_this=of_this and i == 0)
            if not typed or typed[0] != "symbol":
                return None
        return self._member_of_type(typed, parts[-1])

    def _field_type(self, path: str, klass: str, field: str, depth: int, of_this: bool = False) -> tuple | None:
        """The type symbol of ``klass``'s field ``field`` as declared there or in a base class;
        of its elements for ``field[0]``, where it is declared an array (``T[]``: ``ts_arrays``).
        An array itself has no members of the repo's. A base's field declared as its type
        parameter (``=c{k}``) is read only on ``this`` (``of_this``): what ``klass`` hands over."""
        element = field.endswith("[0]")
        found = self._declared(path, klass, field[:-3] if element else field)
        if found and found[1].startswith("=c"):
            return self._class_argument(path, klass, found[0], found[2], int(found[1][2:])) \
                if of_this and not element else None
        if not found or found[1].endswith("[]") != element:
            return None
        declared = found[1][:-2] if element else found[1]
        return self._type_of(found[0], declared, (), found[2], depth + 1)

    def _class_argument(self, path: str, klass: str, owner_path: str, owner: str, k: int) -> tuple | None:
        """The type ``klass`` (in ``path``) stands for in place of type parameter ``k`` of its base
        ``owner``: down the ``extends`` chain, each class's ``<extends>`` argument for the
        parameter (``types["C<extends>"]``), a type name ends it; a type parameter of ``klass``
        itself is read as its constraint (``types["C<>"]``), as on ``this`` inside it."""
        chain = [(path, klass)]
        while chain[-1] != (owner_path, owner):
            if len(chain) > 8:
                return None
            p, c = chain[-1]
            base = next((b for kk, r, b in self.names.ex[p].heritage if kk == c and r == "extends"), None)
            found = self.names.dotted_memo(p, base.split("<")[0]) if base else None
            if self.names.kind(found) not in HAS_FIELDS:
                return None
            chain.append((found[1], found[2]))
        for p, c in reversed(chain[:-1]):  # from the owner's subclass down to klass
            arguments = self.names.ex[p].types.get(f"{c}<extends>", "").split(",")
            own = [part.partition(":")[0] for part in self.names.ex[p].types.get(f"{c}<>", "").split(",")]
            if k >= len(arguments) or arguments[k] in ("", "?"):
                return None
            if arguments[k] not in own:  # a type named there
                return self.names.dotted_memo(p, arguments[k], self._scope(p, c)[0])
            k = own.index(arguments[k])
        parameters = self.names.ex[path].types.get(f"{klass}<>", "").split(",")
        bound = parameters[k].partition(":")[2] if k < len(parameters) else ""
        return self.names.dotted_memo(path, bound, self._scope(path, klass)[0]) if bound else None

    def _declared(self, path: str, klass: str, key: str) -> tuple[str, str, str] | None:
        """(file, declared type, owner) of ``types["Klass.key"]`` in ``klass`` or the first of
        its bases (``extends``) that declares it."""
        for _ in range(8):
            declared = self.names.ex[path].types.get(f"{klass}.{key}")
            if declared:
                return path, declared, klass
            aliased = self._aliased(("symbol", path, klass)) if self.names.kind(("symbol", path, klass)) == "type" else None
            if aliased is not None and aliased[0] == "symbol":  # a field of the class another name stands for
                path, klass = aliased[1], aliased[2]
                continue
            base = next((b for k, r, b in self.names.ex[path].heritage if k == klass and r == "extends"), None)
            found = self.names.dotted_memo(path, base.split("<")[0]) if base else None
            if self.names.kind(found) not in HAS_FIELDS:
                return None
            path, klass = found[1], found[2]
        return None

    def _member_of_type(self, typed: tuple, name: str, depth: int = 0) -> tuple | None:
        """Member ``name`` of the type symbol ``typed``: of the class, interface or object type,
        through a type alias (``depth`` of them at most ``DEEPEST``: an alias may name itself in
        code that does not compile), or the one every type of a union has."""
        if depth > DEEPEST:
            return None
        if typed[0] == UNION:  # the member every type of the union has, where they all have the same one
            found = {self._member_of_type(member, name, depth + 1) for member in typed[1]}
            one = found.pop() if len(found) == 1 else None
            return one if one is not None and one[0] == "symbol" else None
        found = self.names.member(typed[1], typed[2], name)
        if found is None and self.names.kind(typed) == "type":  # `type Payload = BasePayload`
            aliased = self._aliased(typed)
            if aliased is not None and aliased != typed:
                return self._member_of_type(aliased, name, depth + 1)
        if found is None and self.names.kind(typed) in HAS_FIELDS:
            return ("member_of", typed[1], typed[2])
        return found

    def _named(self, path: str, name: str, namespaces: tuple[str, ...]) -> tuple | None:
        """The class or interface ``name`` names in ``path`` (through type aliases), else None."""
        found = self.names.dotted_memo(path, name, namespaces)
        if self.names.kind(found) == "type":
            found = self._aliased(found) or found
        return found if found is not None and found[0] == "symbol" and self.names.kind(found) in HAS_FIELDS else None

    @staticmethod
    def _union(types: list[tuple | None]) -> tuple | None:
        """The type symbols ``types`` as one: the symbol where they are all the same, a ``UNION``
        of them where they differ, None where any is unknown (or not a symbol)."""
        if not types or any(t is None or t[0] != "symbol" for t in types):
            return None
        distinct = sorted(set(types))
        return distinct[0] if len(distinct) == 1 else (UNION, tuple(distinct))

    def _aliased(self, typed: tuple, depth: int = 0) -> tuple | None:
        """The class or interface a type alias names (``type Payload = BasePayload``), through
        at most 8 aliases, else None; a union of such types (``type PointType = TextPointType |
        ElementPointType``) as a ``UNION`` of them, where no member is the alias itself or
        another union (``type A = B | C`` with ``type B = A | D`` does not compile, and must not
        recurse here)."""
        if depth > 8:
            return None
        start = typed
        for _ in range(8):
            declared = self.names.ex[typed[1]].types.get(typed[2])
            if declared and "|" in declared:
                members = [self.names.dotted_memo(typed[1], member) for member in declared.split("|")]
                # a member that names another type is that type; an object type is itself
                if start in members or typed in members:
                    return None
                members = [(self._aliased(m, depth + 1) or m) if self.names.kind(m) == "type" else m for m in members]
                if any(m is None or m[0] != "symbol" or self.names.kind(m) not in HAS_FIELDS for m in members):
                    return None
                return self._union(members)
            typed = self.names.dotted_memo(typed[1], declared) if declared else None
            kind = self.names.kind(typed)
            if kind != "type":
                return typed if kind in HAS_FIELDS else None
        return None
