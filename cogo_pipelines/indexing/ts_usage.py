"""Uses inside a TypeScript file: call sites per enclosing symbol (with instance types for
``obj.method()``), heritage clauses and references to names the file binds. A mixin of
``typescript._Extractor``, which holds the state."""

from __future__ import annotations

from operator import itemgetter

import tree_sitter

from cogo_pipelines.indexing.model import CallSite
from cogo_pipelines.indexing.ts_generics import member_type, names_return_type, read_through_constraint
from cogo_pipelines.indexing.ts_nodes import (
    NAMED_TYPES,
    SIMPLE_CHAIN,
    annotated,
    callee_text,
    constructed,
    declared_type,
    declares_field,
    declares_this,
    field_of,
    node_text,
    object_bindings,
    one_line_chain,
    type_name,
    type_parameter_names,
    type_parameters,
    typed_or_array,
)
from cogo_pipelines.indexing.ts_scopes import binding_scope

CALLED = ("call_expression", "await_expression")  # a value typed by what its call returns: `await f()` too
_DOCUMENT_ORDER = itemgetter(0, 1)  # (start byte, end byte): the outer of two nodes that start together last


def value_heads(value: tree_sitter.Node | None, depth: int = 0) -> set[bytes]:
    """The names whose types a variable's value is read from (``subject`` of ``const metadata =
    subject.metadata``, of ``subject.columns[0]``, of either branch of a conditional): worth
    typing when the variable is a call's head."""
    while value is not None and value.type in ("non_null_expression", "parenthesized_expression", "await_expression") \
            and value.named_child_count:
        value = value.named_children[0]
    if value is None or depth > 2:
        return set()
    if value.type == "subscript_expression":
        return value_heads(value.child_by_field_name("object"), depth + 1)
    if value.type == "ternary_expression":
        return value_heads(value.child_by_field_name("consequence"), depth + 1) | \
            value_heads(value.child_by_field_name("alternative"), depth + 1)
    if value.type == "call_expression":  # columns.find(…)
        fn = value.child_by_field_name("function")
        return value_heads(fn.child_by_field_name("object"), depth + 1) if fn is not None and \
            fn.type == "member_expression" else set()
    if value.type in ("identifier", "member_expression"):
        text = one_line_chain(value.text)
        return {text, text.partition(b".")[0]}
    return set()


class Usage:
    # --- calls, instances, heritage, references --------------------------------------
    def calls(self, idents: list[tree_sitter.Node], members: list[tree_sitter.Node],
              supers: list[tree_sitter.Node] = ()) -> None:
        """Call sites, one per (enclosing symbol, callee); the hot loop of extraction."""
        symbols, seen, out, enclosing = self.out.symbols, self.seen_calls, self.out.calls, self.enclosing
        aliases, ranged_aliases, typed_apart = self.aliases, self.ranged_aliases, set()
        # the instance types are all known now: a head no scope types (most are imports) needs no walk
        self.typed_heads = {head for _, head in self.instance_types}
        for node in idents:
            text = node.text
            if text == b"require":
                self.module_call(node.parent, "require")
                continue
            index = enclosing(node.start_byte)
            apart = text in ranged_aliases  # destructured in some block only: told apart by what it reads
            if (index, text) in seen and not apart:
                continue
            seen.add((index, text))
            callee = self.callee_of(node, index) if aliases or apart else text.decode("utf-8", "replace")
            if apart:
                if (index, callee) in typed_apart:
                    continue
                typed_apart.add((index, callee))
            caller = symbols[index].qualified_name if index >= 0 else ""
            out.append(CallSite(caller=caller, callee=callee, line=node.start_point[0] + 1))
        ranged = self.ranged
        for node in members:
            text = node.text
            index = enclosing(node.start_byte)
            # a head typed per block (`service` of `service.call()` in several handlers) may
            # name another type at each site: those are told apart by what they resolve to
            head = text.partition(b".")[0]
            apart = bool(ranged) and head in ranged or head in ranged_aliases
            if (index, text) in seen and not apart:
                continue
            seen.add((index, text))
            callee = self.callee_of(node, index)
            if not callee:
                continue
            if apart:
                if (index, callee) in typed_apart:
                    continue
                typed_apart.add((index, callee))
            caller = symbols[index].qualified_name if index >= 0 else ""
            out.append(CallSite(caller=caller, callee=callee, line=node.start_point[0] + 1))
        for node in supers:  # super(...): the constructor of the class's `extends` target
            index = enclosing(node.start_byte)
            if (index, b"super") not in seen:
                seen.add((index, b"super"))
                caller = symbols[index].qualified_name if index >= 0 else ""
                out.append(CallSite(caller=caller, callee="super", line=node.start_point[0] + 1))
        self.typed_heads = None

    def new(self, node: tree_sitter.Node) -> None:
        callee = callee_text(node)
        if node.type == "this":  # `new this(…)` in a static method: the class itself (bullmq's Job.create)
            callee = self._class_around(node)
        if callee and not callee.startswith("?"):
            index = self.enclosing(node.start_byte)
            if (index, "new " + callee) not in self.seen_calls:
                self.seen_calls.add((index, "new " + callee))
                caller = self.out.symbols[index].qualified_name if index >= 0 else ""
                self.out.calls.append(CallSite(caller=caller, callee="new " + callee, line=node.start_point[0] + 1))

    def _class_around(self, node: tree_sitter.Node) -> str | None:
        """The qualified name of the class whose method ``node`` is in, or None; None too where
        the method declares what ``this`` is (``static send(this: StaticThis<T>, …)``: a
        subclass's constructor, supabase storage's events)."""
        index = self.enclosing(node.start_byte)
        if index < 0 or self.out.symbols[index].kind != "method":
            return None
        method = node.parent
        while method is not None and method.type != "method_definition":
            method = method.parent
        return None if declares_this(method) else self.out.symbols[index].parent

    def _instance_type(self, index: int, head: str) -> str | None:
        if self.typed_heads is not None and head not in self.typed_heads:
            return None
        scopes = []
        while index >= 0:
            scopes.append(self.out.symbols[index])
            index = self.parents[index]
        if head.startswith("this."):
            for sym in scopes:
                if sym.kind == "class":
                    return self.instance_types.get((sym.qualified_name, head))
            return None
        for sym in scopes:
            typed = self.instance_types.get((sym.qualified_name, head))
            if typed:
                return typed
        return self.instance_types.get(("", head))

    def variable(self, node: tree_sitter.Node) -> bool:
        """Types a variable's name from its annotation or its value; whether it could."""
        name = node.child_by_field_name("name")
        if name is None or name.type != "identifier":
            return True
        value = node.child_by_field_name("value")
        annotation = node.child_by_field_name("type")
        through = member_type(annotation, node) if names_return_type(annotation) else None  # ReturnType<typeof f>
        typed = through[0] if through is not None else typed_or_array(annotation)
        if not typed and value is not None:
            typed = self.value_type(value, self.enclosing(node.start_byte))
        if not typed:
            return False
        caller = self.caller(node)
        # a local binding holds in its block (its function for `var`) and nowhere else: sibling
        # callbacks of one symbol each with their own `const service = new XService()` (a job
        # table's handlers) get their own type; a test's `const crypto = require("crypto")`
        # leaves the module's `import * as crypto` alone outside its block; a test block's
        # `const poolManager = new PgPoolManager()` does not type a helper's parameter of that
        # name (supabase storage). Only a module-level binding is symbol-wide.
        scope = binding_scope(node)
        if scope is None:
            self.bind_type(caller, node_text(name), typed)
        else:
            self.within(scope, name.text, typed)
        return True

    def value_type(self, value: tree_sitter.Node, index: int, depth: int = 0) -> str | None:
        """The type of the value a variable is bound to, where it can be read: ``new X()``, a
        cast, a call's declared return type, an element (``columns[0]``, ``columns.find(…)``), a
        name or a field chain (``const metadata = subject.metadata``: ``Subject.metadata``, the
        linker follows the declared field types), and a conditional whose other branch is
        ``null`` or the value a type guard tested (``isTable(x) ? x : await this.load(x)``)."""
        typed = constructed(value)
        if typed or depth > 2:
            return typed
        made = value.child_by_field_name("constructor") if value.type == "new_expression" else None
        if made is not None and made.type == "this":
            return self._class_around(value)  # `const job = new this(…)` in a static method
        kind = value.type
        if kind == "non_null_expression" and value.named_child_count:
            return self.value_type(value.named_children[0], index, depth + 1)
        if kind == "subscript_expression":  # `const first = columns[0]`: an element
            return self.indexed(value, index)
        if kind == "as_expression" and value.named_child_count == 2:
            return type_name(value.named_children[1])  # `const eventClass = this as typeof Event`
        if kind == "await_expression" and value.named_child_count \
                and value.named_children[0].type in ("identifier", "member_expression"):
            return self.chain_type(value.named_children[0], index)  # `await this.jobScheduler`: Promise<T>'s T
        if kind in CALLED:  # the callee's return type
            return self.returned(value, index)
        if kind in ("identifier", "member_expression"):
            return self.chain_type(value, index)
        if kind == "ternary_expression":
            return self._conditional_type(value, index, depth)
        return None

    def _conditional_type(self, value: tree_sitter.Node, index: int, depth: int) -> str | None:
        """``guard(x) ? x : other`` (or ``x ? x : other``, ``cond ? other : null``): what
        ``other`` is. Where the guard is a type predicate (typeorm's ``InstanceChecker.isTable(x)
        ? x : await this.getCachedTable(x)``), both branches are of one type."""
        test = value.child_by_field_name("condition")
        yes, no = value.child_by_field_name("consequence"), value.child_by_field_name("alternative")
        if test is None or yes is None or no is None:
            return None
        while test.type == "parenthesized_expression" and test.named_child_count:
            test = test.named_children[0]
        tested = {test.text} if test.type == "identifier" else set()
        args = test.child_by_field_name("arguments") if test.type == "call_expression" else None
        if args is not None:
            tested.update(a.text for a in args.named_children if a.type == "identifier")
        for kept, other in ((yes, no), (no, yes)):
            if other.type in ("null", "undefined") or other.type == "identifier" and other.text in tested:
                return self.value_type(kept, index, depth + 1)
        return None

    def chain_type(self, value: tree_sitter.Node, index: int, element: bool = False, chains: bool = True) -> str | None:
        """The type of a name or plain member chain read as a value: its own where this file
        types it, else (with ``chains``) its first name's with the fields after it for the
        linker. With ``element``, the type of its elements instead (``ts_arrays``): ``T`` of a
        ``T[]`` typed here, the linker's chain with ``[0]``; None when not known to be an array."""
        text = one_line_chain(value.text).decode("utf-8", "replace")
        if not SIMPLE_CHAIN.match(text) or text == "this":
            return None
        at = value.start_byte
        whole = self._name_type(index, text, at)
        if whole is not None or "." not in text:
            if element and whole and whole.startswith("<") and whole.endswith("()>"):
                return whole + "[0]"  # `const all = this.getAll().filter(…); all[i]`: the linker's element of the call
            if element:
                return whole[:-2] if whole and whole.endswith("[]") else None
            return whole or None
        if not chains:
            return None
        if text.startswith("this."):
            chained = text  # the caller's class's fields, read by the linker
        else:
            first, _, fields = text.partition(".")
            typed = self._name_type(index, first, at)
            chained = f"{typed}.{fields}" if typed and not typed.endswith("[]") else None
        return f"{chained}[0]" if element and chained else chained

    def parameter(self, node: tree_sitter.Node) -> None:
        pattern = node.child_by_field_name("pattern")
        annotation = node.child_by_field_name("type")
        field = pattern is not None and declares_field(pattern)
        # `constructor(readonly driver: D)` in a class of `D extends IDatabaseDriver`; anywhere,
        # `server: ReturnType<typeof getTestServer>`
        through = member_type(annotation, node) if field or names_return_type(annotation) else None
        typed, bound = through if through is not None else (typed_or_array(annotation), False)
        if pattern is None or pattern.type != "identifier" or not typed:
            return
        if not bound:  # `host: T` of `<T extends ElementNode>`: an ElementNode in the function
            typed = read_through_constraint(typed, node)
            if not typed:
                return
        i = self.enclosing(node.start_byte)
        scope = self.out.symbols[i].qualified_name if i >= 0 else ""
        name = node_text(pattern)
        fn = node.parent.parent if node.parent is not None else None
        if fn is not None:  # in its own function only: a callback's `(node: RecallNode) =>` types no
            self.within(fn, pattern.text, typed)  # other callback's `for (const node of …)` (formbricks)
        else:
            self.instance_types[(scope, name)] = typed
        klass = self.out.symbols[i].parent if i >= 0 else None
        if klass and field:
            self.instance_types[(klass, "this." + name)] = typed
            if not bound:
                self.out.types[f"{klass}.{name}"] = typed

    def destructured_parameter(self, node: tree_sitter.Node, heads: set[bytes]) -> None:
        """A destructured parameter's names take the declared types of the fields they read,
        inside their function: ``({ app }: { app: App })`` or ``({ app }: Props)`` (a React
        component's props), so ``app.m()`` is ``App.m`` there."""
        annotation, fn = node.child_by_field_name("type"), node.parent.parent if node.parent is not None else None
        inner = annotated(annotation)
        if inner is None or fn is None:
            return
        if inner.type == "object_type":
            declared = {}
            for prop in inner.named_children:
                name = prop.child_by_field_name("name") if prop.type == "property_signature" else None
                typed = declared_type(prop.child_by_field_name("type")) if name is not None else None
                if typed:
                    declared[name.text] = typed
            field_type = declared.get
        elif inner.type in NAMED_TYPES:
            owner = type_name(inner)
            field_type = lambda key: field_of(owner, key.decode()) if owner else None
        else:
            return
        for key, bound in object_bindings(node.child_by_field_name("pattern"), defaults=True):
            typed = field_type(key) if bound.text in heads else None
            if typed:
                self.within(fn, bound.text, typed)

    def field(self, node: tree_sitter.Node) -> None:
        """Class fields give ``this.x`` a type for ``this.x.method()`` calls; the properties of
        an interface or of an object type alias (``type AppProps = { library: Library }``) give
        ``app.library.method()`` one on a receiver of that type."""
        if node.type == "call_signature":  # `interface HandlerInterface { (path, handler: H): … }`
            self.call_signature(node)
            return
        name = node.child_by_field_name("name")
        if name is None:
            return
        if node.type in ("property_signature", "method_signature"):
            self._member_signature(node, node_text(name))
            return
        value = node.child_by_field_name("value")
        annotation = node.child_by_field_name("type")
        through = member_type(annotation, node)  # `driver: D`, `ReturnType<D['getPlatform']>`
        if through is not None:
            self._class_member(node, node_text(name), *through)
            if through[1]:
                self._class_parameter_field(node, node_text(name), annotation)
            return
        typed = declared_type(annotation)
        if typed is None:
            typed = constructed(value)
        if typed is None and value is not None and value.type in CALLED:  # = createLogger()
            typed = self.returned(value, self.enclosing(node.start_byte))
        if typed:
            self._class_member(node, node_text(name), typed, False)

    def _class_member(self, node: tree_sitter.Node, name: str, typed: str, bound: bool) -> None:
        """``this.name`` has type ``typed`` in the class; in its subclasses and on other
        receivers too, unless read through the class's type parameter (``ts_generics``)."""
        klass = self.caller(node) if typed else None
        if klass:
            self.instance_types[(klass, "this." + name)] = typed
            if not bound:
                self.out.types[f"{klass}.{name}"] = typed  # for subclasses in other files

    def _class_parameter_field(self, node: tree_sitter.Node, name: str, annotation: tree_sitter.Node | None) -> None:
        """``types["AbstractCaret.origin"] = "=c0"`` for a field declared as the class's type
        parameter ``k`` (``readonly origin: T`` of ``AbstractCaret<T extends LexicalNode, …>``):
        in a subclass, ``this.origin`` is what the subclass hands over for it (``extends
        AbstractCaret<T, D, 'child'>`` with its own ``T extends ElementNode``; the linker follows
        the ``<extends>`` arguments, ``ts_signatures._class_parameters``)."""
        declared = type_name(annotation)
        klass = self.caller(node)
        owner = node.parent.parent if node.parent is not None and node.parent.type == "class_body" else None
        own = [node_text(n) for n, _ in type_parameter_names(owner)]
        if klass and declared in own:
            self.out.types[f"{klass}.{name}"] = f"=c{own.index(declared)}"

    def _member_signature(self, node: tree_sitter.Node, name: str) -> None:
        """``types["Owner.name"]`` of an interface's or object type alias's member: a field's
        declared type, or a method's / function-typed property's parameter types."""
        i = self.enclosing(node.start_byte)
        if i < 0 or self.out.symbols[i].kind not in ("interface", "type"):
            return  # an interface local to a function: no node of its own
        owner = self.out.symbols[i].qualified_name
        annotation = node.child_by_field_name("type")
        inner = annotated(annotation)
        if node.type == "method_signature" or inner is not None and inner.type == "function_type":
            # keyTest(event, app: AppProps): boolean, predicate?: (app: AppProps) => boolean
            declaration = node.parent.parent  # interface_body or object_type, then the declaration
            fn = inner if inner is not None else node
            self.function_type(f"{owner}.{name}", fn, type_parameters(declaration))
            # getPlatform(): Platform: `driver.getPlatform().m()` on a receiver of the interface
            # (its members have no node: the linker reads the declared return, ``_interface_return``)
            self.member_return(f"{owner}.{name}()", fn.child_by_field_name("return_type"),
                               type_parameters(declaration) | type_parameters(fn))
            return
        typed = declared_type(annotation)
        if typed:
            self.out.types[f"{owner}.{name}"] = typed

    def heritage(self, node: tree_sitter.Node) -> None:
        klass = self.caller(node)
        if not klass:
            return
        for clause in node.named_children:
            if clause.type == "extends_clause":
                value = clause.child_by_field_name("value")
                if value is not None:
                    self.out.heritage.append((klass, "extends", node_text(value)))
            elif clause.type == "implements_clause":
                for t in clause.named_children:
                    name = type_name(t)
                    if name:
                        self.out.heritage.append((klass, "implements", name))

    def interface_extends(self, node: tree_sitter.Node) -> None:
        iface = self.caller(node)
        if iface:
            for t in node.named_children:
                name = type_name(t)
                if name:
                    self.out.heritage.append((iface, "extends", name))

    def references(self, typerefs: list[tree_sitter.Node], nested: list[tree_sitter.Node],
                   valrefs: list[tree_sitter.Node]) -> None:
        """Names used by each symbol that this file binds. A declaration's own name refers to
        itself and the graph drops self-references, so no parent checks are needed here.

        The groups come unordered (the biggest captures of a file: every type name), so the
        few that name something bound here are picked first and only those put in document
        order; the first use per symbol gives the line."""
        symbols, seen, out = self.out.symbols, set(), self.out.references
        enclosing = self.enclosing
        # only names bound in this file can resolve: imports and declarations
        known = {s.name.encode() for s in symbols}
        for record in self.out.imports:
            known.update(name.encode() for name in record.bindings)
        # the few nodes that name something known, picked in one comprehension per group (a
        # type_identifier / identifier has no dot: its whole text is the head)
        typed = [n for n in typerefs if n.text in known]
        inner_ends = {n.end_byte for n in nested} if typed else ()
        for group, skip in (([n for n in nested if n.text.partition(b".")[0] in known], ()), (typed, inner_ends),
                            ([n for n in valrefs if n.text in known], ())):
            hits = []
            for node in group:
                end = node.end_byte
                if skip and end in skip:
                    continue  # the `C` of `B.C`
                hits.append((node.start_byte, end, node.text, node))
            hits.sort(key=_DOCUMENT_ORDER)
            for start, _, text, node in hits:
                index = enclosing(start)
                if (index, text) not in seen:
                    seen.add((index, text))
                    caller = symbols[index].qualified_name if index >= 0 else ""
                    out.append((caller, text.decode("utf-8", "replace"), node.start_point[0] + 1))
