"""Symbol edges of one file: its calls, heritage clauses and references resolved across files.

``Names`` looks a name up through local symbols, import bindings, exports and re-export
chains to the defining symbol; ``Linker`` turns one file's uses into ``calls`` / ``renders`` /
``references`` / ``extends`` / ``implements`` edges, keeping what cannot be resolved with
``confidence='maybe'`` and a placeholder target. A receiver typed by another file's signature
(``<F()>.m``, ``<F(0)(1)>.m``, see ``ts_types``) is resolved here, from the declared types of
the file that defines ``F``; ``super`` through the class's ``extends`` target. A file's edges depend on every file's
declarations but on no other file's uses, so files can be linked in any order, in any process.
"""

from __future__ import annotations

import re

from cogo_pipelines.indexing import sfc
from cogo_pipelines.indexing.ids import file_id, node_id
from cogo_pipelines.indexing.linking_members import HAS_FIELDS, resolved_once
from cogo_pipelines.indexing.linking_types import TypeResolution
from cogo_pipelines.indexing.model import FileExtraction, Symbol
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.specifiers import package_name

# what a call's arguments make, written into a type reference for the linker (`<inject[0=@Db]()>`,
# ``ts_types._hints``): left out of what an unresolved call is shown and keyed as
_HINTS = re.compile(r"\[[^\]]*\](?=\()")

EdgeKey = tuple[str, str, tuple[str, str]]  # (source id, target id, (kind, detail))
_CLASS_BOUND = ("this.", "super.", "<")  # callees whose meaning depends on the enclosing class (and `super`)
_TYPES_ONLY = ("type", "interface")  # symbols a call can never reach


class Names:
    """Name lookup across files: local symbols, import bindings, exports and re-exports."""

    def __init__(self, repo: str, extractions: dict[str, FileExtraction], resolver: Resolver) -> None:
        self.repo = repo
        self.resolver = resolver
        self.ex: dict[str, FileExtraction] = {}
        self.symbols: dict[str, dict[str, Symbol]] = {}
        self.merged: dict[str, frozenset[str]] = {}  # per file, names both a namespace and a class (``_merged``)
        self.bindings: dict[str, dict[str, tuple[str | None, str, str]]] = {}
        self.reexports: dict[str, list[tuple[str | None, dict[str, str]]]] = {}
        # per file, the classes an interface of the same name merges with (``member``)
        self.class_interfaces: dict[str, frozenset[str]] = {}
        for e in extractions.values():
            self.add(e)
        self._export_memo: dict[tuple[str, str], tuple | None] = {}
        self._dotted_memo: dict[tuple[str, str, tuple[str, ...]], tuple | None] = {}
        self._globals: dict[str, tuple] | None = None  # built on the first lookup (``global_component``)

    def add(self, e: FileExtraction) -> None:
        """One more file (``static_graph`` adds them as they are parsed); before any lookup."""
        path, resolver = e.path, self.resolver
        self.ex[path] = e
        self.symbols[path] = _by_name(e.symbols)
        merged = _merged(e.symbols, self.symbols[path])
        if merged:
            self.merged[path] = merged
        interfaces = {s.qualified_name for s in e.symbols if s.kind == "interface"}
        if interfaces:
            both = frozenset(s.qualified_name for s in e.symbols if s.kind == "class" and s.qualified_name in interfaces)
            if both:
                self.class_interfaces[path] = both
        local: dict[str, tuple[str | None, str, str]] = {}
        reexports = []
        for rec in e.imports:
            if rec.specifier is None or rec.kind == "reference":
                continue
            target = resolver.resolve(rec.specifier, path)
            target_path = target.path if target.internal else None
            external = package_name(rec.specifier) if not target.internal else ""
            if rec.kind == "reexport":
                reexports.append((target_path, rec.bindings))
            else:
                for name, imported in rec.bindings.items():
                    local[name] = (target_path, imported, external)
        self.bindings[path] = local
        self.reexports[path] = reexports
        self._globals = None

    def global_component(self, name: str) -> tuple | None:
        """What a Vue template's unbound tag names: a member of an interface ``GlobalComponents``
        in a declaration file (unplugin's ``components.d.ts``: ``TheFooter: typeof
        import('./components/TheFooter.vue')['default']``, the member a binding of that file)."""
        if self._globals is None:
            self._globals = {}
            for path, symbols in self.symbols.items():
                if path.endswith(".d.ts") and any(q.rpartition(".")[2] == "GlobalComponents" and s.kind == "interface"
                                                  for q, s in symbols.items()):
                    for local in self.bindings[path]:
                        self._globals.setdefault(local, self.local(path, local))
        return self._globals.get(name)

    def kind(self, found: tuple | None) -> str | None:
        """The kind of the symbol a lookup found (``class``, ``type``, ...), None for anything else."""
        return self.symbols[found[1]][found[2]].kind if found and found[0] == "symbol" else None

    def dotted_memo(self, path: str, text: str, scopes: tuple[str, ...] = ()) -> tuple | None:
        """``dotted`` for the lookups of ``Linker``, where the same callee or type name recurs
        in many symbols of a file (the answer only depends on the arguments)."""
        key = (path, text, scopes)
        memo = self._dotted_memo
        if key in memo:
            return memo[key]
        found = memo[key] = self.dotted(path, text, scopes)
        return found

    def export(self, path: str, name: str, depth: int = 0) -> tuple | None:
        """What module ``path`` exports as ``name``: ("symbol", path, qname) or ("module", path)."""
        if name == "*":
            return ("module", path)
        key = (path, name)
        if key in self._export_memo:
            return self._export_memo[key]
        self._export_memo[key] = None  # cycle guard
        found = None
        if depth < 30 and path in self.ex:
            exports = self.ex[path].exports
            if name in exports:
                target = exports[name]  # `Class.method`: a destructured method of a module's instance
                found = self.dotted(path, target) if "." in target else self.local(path, target, depth + 1)
            if found is None:
                for target, bindings in self.reexports.get(path, ()):
                    if target is None:
                        continue
                    if name in bindings:
                        found = self.export(target, bindings[name], depth + 1)
                    elif "*" in bindings and name != "default":
                        found = self.export(target, name, depth + 1)
                    if found:
                        break
            if found is None and name == "default" and sfc.is_component(path):
                found = ("module", path)  # a component file is its own default export (`<script setup>`)
        self._export_memo[key] = found
        return found

    def local(self, path: str, name: str, depth: int = 0, scopes: tuple[str, ...] = ()) -> tuple | None:
        """A name as seen at module level of ``path`` (or inside the given namespace scopes)."""
        symbols = self.symbols.get(path, {})
        for scope in scopes:
            if f"{scope}.{name}" in symbols:
                return ("symbol", path, f"{scope}.{name}")
        if name in symbols:
            return ("symbol", path, name)
        return self.imported(path, name, depth)

    def imported(self, path: str, name: str, depth: int = 0) -> tuple | None:
        """What the import of ``name`` in ``path`` names, passing over the file's own symbols
        (``local`` takes those first; a value import may merge with a local type of its name)."""
        binding = self.bindings.get(path, {}).get(name)
        if binding:
            target, imported, external = binding
            if target is None:
                return ("external", external, imported)
            return self.export(target, imported, depth + 1)
        return None

    def dotted(self, path: str, text: str, scopes: tuple[str, ...] = ()) -> tuple | None:
        """``a`` / ``ns.b`` / ``Class.method`` / ``ns.Class.method``."""
        head, *rest = text.split(".")
        found = self.local(path, head, scopes=scopes)
        if found is None and rest:  # `db.query` of `import db from './db'`, an object literal
            found = self._object_member(path, head, rest[0])
            rest = rest[1:]
        for i, part in enumerate(rest):
            if found is None:
                return None
            if found[0] == "external":  # a package's member: named, never resolved further
                return ("external", found[1], ".".join([found[2], *rest[i:]]))
            if found[0] == "module":
                found = self.export(found[1], part)
            elif found[0] == "symbol":
                owner = found
                found = self.member(found[1], found[2], part) or self.export(found[1], f"{found[2]}.{part}")
                if found is None and self.kind(owner) in HAS_FIELDS:
                    return ("member_of", owner[1], owner[2])  # a member we have no node for
            else:
                return None
        return found

    def default_instance(self, path: str, name: str) -> tuple[str, str] | None:
        """(file, type name) when ``name`` imports a module's default export that is an instance
        (``export default new Logger()``: ``types["default"]`` of that file)."""
        binding = self.bindings.get(path, {}).get(name)
        if binding is None or binding[0] is None or binding[1] != "default" or binding[0] not in self.ex:
            return None
        typed = self.ex[binding[0]].types.get("default")
        return (binding[0], typed) if typed else None

    def _object_member(self, path: str, head: str, key: str) -> tuple | None:
        """``key`` of the object literal that the import ``head`` names (the module exports it
        as ``name.key``: ``ts_module_interface._object_exports``)."""
        binding = self.bindings.get(path, {}).get(head)
        if binding is None or binding[0] is None:
            return None
        return self.export(binding[0], f"{binding[1]}.{key}")

    def member(self, path: str, qname: str, name: str, depth: int = 0) -> tuple | None:
        """``name`` on a class / namespace / enum, following ``extends`` for classes."""
        symbols = self.symbols.get(path, {})
        if f"{qname}.{name}" in symbols:
            return ("symbol", path, f"{qname}.{name}")
        sym = symbols.get(qname)
        if sym is None or sym.kind != "class" or depth > 8:
            return None
        if qname in self.class_interfaces.get(path, ()):
            types = self.ex[path].types
            if f"{qname}.{name}()" in types or f"{qname}.{name}" in types:
                # `interface TextNode { getTopLevelElementOrThrow(): ElementNode }` merged with the
                # class redeclares the base's method: the checker's target is that signature
                return None
        for klass, relation, base in self.ex[path].heritage:
            if klass == qname and relation == "extends":
                parent = self.dotted(path, base.split("<")[0])
                if parent and parent[0] == "symbol":
                    found = self.member(parent[1], parent[2], name, depth + 1)
                    if found:
                        return found
        return None


def _by_name(symbols: list[Symbol]) -> dict[str, Symbol]:
    """A file's symbols by qualified name. Where declarations merge, the value stands for the
    name: a namespace merged into a class, function or enum of the same name (``class QrCode
    {…}`` then ``namespace QrCode { export class Ecc {…} }``, dub's QR code generator) leaves the
    class its members and ``this`` (the namespace's own declarations are still in scope inside
    it: ``_scopes``), and an interface merged with a class (mikro-orm's ``class EntityMetadata``
    and ``interface EntityMetadata``) leaves ``new EntityMetadata()`` the class's."""
    found: dict[str, Symbol] = {}
    for sym in symbols:
        known = found.get(sym.qualified_name)
        if known is None or _MERGE_RANK.get(sym.kind, 2) > _MERGE_RANK.get(known.kind, 2):
            found[sym.qualified_name] = sym
    return found


_MERGE_RANK = {"namespace": 0, "interface": 1, "type": 1}  # any value declaration: 2


def _merged(symbols: list[Symbol], by_name: dict[str, Symbol]) -> frozenset[str]:
    """The qualified names both a namespace and another declaration have (``by_name`` kept the
    other: ``_by_name``)."""
    return frozenset(s.qualified_name for s in symbols
                     if s.kind == "namespace" and by_name[s.qualified_name].kind != "namespace")


def _scopes(symbols: dict[str, Symbol], caller: str,
            merged: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], str | None]:
    """Enclosing namespaces (innermost first) and the enclosing class of ``caller``."""
    namespaces, klass = [], None
    current = symbols.get(caller)
    while current is not None:
        if current.kind == "namespace" or current.qualified_name in merged:
            namespaces.append(current.qualified_name)
        if current.kind == "class" and klass is None:
            klass = current.qualified_name
        current = symbols.get(current.parent) if current.parent else None
    return tuple(namespaces), klass


class Linker(TypeResolution):
    """Resolves the uses of one file at a time; memos (ids, scopes, lookups) carry over."""

    def __init__(self, repo: str, extractions: dict[str, FileExtraction], resolver: Resolver,
                 ids: dict[tuple[str, str, str], str] | None = None, names: Names | None = None) -> None:
        self.repo = repo
        self.extractions = extractions
        self.names = names if names is not None else Names(repo, extractions, resolver)
        self._ids = ids if ids is not None else {}  # (path, qualified name, kind) -> node id
        self._scopes: dict[tuple[str, str], tuple[tuple[str, ...], str | None, str]] = {}
        self.resolved: dict[tuple, tuple | None] = {}  # linking_members.resolved_once

    def sid(self, path: str, sym: Symbol) -> str:
        key = (path, sym.qualified_name, sym.kind)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = node_id(self.repo, path, sym.qualified_name, sym.kind)
        return found

    def _target(self, found: tuple | None) -> str | None:
        if found and found[0] == "symbol":
            return self.sid(found[1], self.names.symbols[found[1]][found[2]])
        if found and found[0] == "module":
            return file_id(self.repo, found[1])
        return None

    def _outcome(self, found: tuple | None, kind: str, text: str, path: str,
                 keep_unresolved: bool) -> tuple[str, tuple[str, str], dict, bool] | None:
        """What a use makes: (target id, key detail, attributes, drop when it is the source
        itself), or None. The same for every use of the same name in the same scope, so it
        is worked out once per file; the attribute dicts are shared, never changed."""
        if "[" in text:
            text = _HINTS.sub("", text)
        if text[:1] == "?" and text[1:2] != ".":  # a local name (``ts_types.LOCAL``): named as any other
            text = text[1:]
        if found and found[0] == "member_of":  # e.g. a method of an interface: its owner, maybe
            if not keep_unresolved:
                return None
            owner = self.sid(found[1], self.names.symbols[found[1]][found[2]])
            return owner, (kind, text), {"kind": kind, "confidence": "maybe", "detail": text, "path": path}, False
        dst = self._target(found)
        if dst is not None:
            return dst, (kind, ""), {"kind": kind, "confidence": "certain", "path": path}, True
        if not keep_unresolved:
            return None
        placeholder = f"external:{found[1]}:{found[2]}" if found and found[0] == "external" else f"unresolved:{text}"
        return placeholder, (kind, text), {"kind": kind, "confidence": "maybe", "detail": text, "path": path}, False

    @resolved_once
    def _call(self, path: str, callee: str, namespaces: tuple[str, ...], klass: str | None,
              depth: int = 0) -> tuple | None:
        names = self.names
        if callee.startswith("new "):
            found = names.dotted_memo(path, callee[4:], namespaces)
            # `type File = {...}` makes no value: `new File()` is the global's
            return None if names.kind(found) in _TYPES_ONLY else found
        if callee.startswith("this.") and callee.count(".") == 1:
            return names.member(path, klass, callee[5:]) if klass else None
        if callee == "super" or callee.startswith("super."):  # not `superLoaderJson()`
            return self._super(path, callee, namespaces, klass)
        if callee.startswith("<"):
            return self._typed_member(path, callee, namespaces, klass, depth)
        if callee.startswith("this.") and klass:  # this.f.m(), this.a.b.m(): through the declared field types
            return self._fields(("symbol", path, klass), callee.split(".")[1:], depth, of_this=True)
        if callee.startswith(("?", "this.")):  # `?.m`: of an unknown receiver; `?name`: a local name
            return None
        found = names.dotted_memo(path, callee, namespaces)
        if names.kind(found) in _TYPES_ONLY:
            return None  # a type of the same name as the value called (a global, a merged declaration)
        if (found is None or found[0] == "member_of") and callee.count(".") >= 2:
            # Type.a.b.m() (a receiver typed by the extractor, then fields): the declared field types
            first = names.dotted_memo(path, callee.partition(".")[0], namespaces)
            if names.kind(first) in HAS_FIELDS:
                chained = self._fields(first, callee.split(".")[1:], depth)
                if chained is not None:
                    return chained
        if (found is None or found[0] == "member_of") and "." in callee:
            head, _, name = callee.rpartition(".")
            owner = names.dotted_memo(path, head, namespaces)
            if names.kind(owner) == "type":  # `Payload.find` with `type Payload = BasePayload`
                aliased = self._aliased(owner)
                if aliased is not None:
                    return self._member_of_type(aliased, name)
            if found is not None:
                return found
            if names.kind(owner) == "const":  # `db.query()` on a const of a declared type
                declared = names.ex[owner[1]].types.get(owner[2])
                typed = self._type_of(owner[1], declared, (), None, depth + 1) if declared else None
                return self._member_of_type(typed, name) if typed and typed[0] == "symbol" else None
            if owner is None and "." not in head:  # `log.error()` of `export default new Logger()`
                instance = names.default_instance(path, head)
                typed = self._type_of(instance[0], instance[1], (), None, depth + 1) if instance else None
                return self._member_of_type(typed, name) if typed and typed[0] == "symbol" else None
        return found

    def _scope(self, path: str, caller: str) -> tuple[tuple[str, ...], str | None, str]:
        """(namespaces, class, node id) of a caller: the same few recur for all its uses."""
        found = self._scopes.get((path, caller))
        if found is None:
            symbols = self.names.symbols[path]
            sym = symbols.get(caller)
            src = self.sid(path, sym) if sym else file_id(self.repo, path)
            found = self._scopes[(path, caller)] = (*_scopes(symbols, caller, self.names.merged.get(path, frozenset())), src)
        return found

    def file_edges(self, path: str) -> dict[EdgeKey, dict]:
        """The symbol edges out of ``path``: their sources lie in this file, so the edges of
        two files never share a key."""
        ex, names, scope, outcome = self.extractions[path], self.names, self._scope, self._outcome
        batch: dict[EdgeKey, dict] = {}
        done: dict[tuple, tuple | None] = {}  # (kind, text, namespaces, class) -> outcome, in this file

        def add(src: str, made: tuple | None) -> None:
            if made is not None and not (made[3] and made[0] == src):
                batch[(src, made[0], made[1])] = made[2]

        for call in ex.calls:
            namespaces, klass, src = scope(path, call.caller)
            callee = call.callee
            bound = callee == "super" or callee.startswith(_CLASS_BOUND)
            key = ("calls", callee, namespaces, klass if bound else None)
            if key not in done:
                done[key] = outcome(self._call(path, callee, namespaces, klass), "calls", callee, path, True)
            add(src, done[key])
        for owner, relation, base in ex.heritage:
            namespaces, _, src = scope(path, owner)
            key = (relation, base, namespaces, None)
            if key not in done:
                done[key] = outcome(names.dotted_memo(path, base.split("<")[0], namespaces), relation, base, path, True)
            add(src, done[key])
        for owner, name, _line in ex.renders:  # <Component/>: resolved like a call, kept when unresolved
            namespaces, _, src = scope(path, owner)
            key = ("renders", name, namespaces, None)
            if key not in done:
                found = names.dotted_memo(path, name, namespaces) if name[:1] != "?" else None
                if names.kind(found) in _TYPES_ONLY:  # `interface Image` merged with `import Image from …`
                    found = names.imported(path, name) or found  # (or with a const of the file: its node)
                done[key] = outcome(found, "renders", name, path, True)
            add(src, done[key])
        for name, _line in ex.globals:  # a Vue template's global component: an edge only when declared
            found = names.global_component(name)
            if found is not None:
                namespaces, _, src = scope(path, "")
                add(src, outcome(found, "renders", name, path, True))
        for owner, name, _line in ex.references:
            namespaces, _, src = scope(path, owner)
            key = ("references", name, namespaces, None)
            if key not in done:
                done[key] = outcome(names.dotted_memo(path, name, namespaces), "references", name, path, False)
            add(src, done[key])
        return batch
