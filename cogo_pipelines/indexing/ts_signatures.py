"""The types a file declares for its functions, methods and exported constants, which the
linker reads in other files (``FileExtraction.types``): ``types["F()"]`` (the declared return
type, or ``THIS``, or ``=>i``: what argument ``i`` returns), ``types["F(i)(j)"]`` (parameter ``j``
of the function-typed parameter ``i``: a callback's context), ``types["F(i)"]`` (a parameter's
declared type, for object literals handed over), ``types["C.x"]`` for getters and
``types["q"]`` for an exported const or a type alias of a class. A mixin of
``typescript._Extractor``.
"""

from __future__ import annotations

import re

import tree_sitter

from cogo_pipelines.indexing.linking_members import THIS
from cogo_pipelines.indexing.linking_types import BOUND
from cogo_pipelines.indexing.ts_generics import member_type
from cogo_pipelines.indexing.ts_nodes import (
    FUNCTION_VALUES,
    NAMED_TYPES,
    annotated,
    constraints,
    constructed,
    instance_of,
    makes_instances,
    node_text,
    parameters,
    type_name,
    type_parameter_names,
    type_parameters,
    typed_or_array,
    union_members,
)
from cogo_pipelines.indexing.ts_returns import constructed_return, returned_call, returns_this

SIGNATURES = {
    "function_declaration", "generator_function_declaration", "function_signature", "method_definition",
    "method_signature", "abstract_method_signature",
}


class DeclaredTypes:
    # --- the file's declared signature types ------------------------------------------------
    def declared_types(self, decls: list[tree_sitter.Node]) -> None:
        """``types`` entries for every function, method and function-valued const of the file."""
        scopes = self.scopes
        for node in decls:
            scope = scopes.get(node.id)
            if scope is None:
                continue  # inside a function body: a local, no node of its own
            if node.type in SIGNATURES:
                self._signature(node, node, scope[0])
            elif node.type in ("class_declaration", "abstract_class_declaration"):
                self._class_parameters(node)
            elif node.type == "public_field_definition":  # `getByDocumentId = (id: string): Subscription => …`
                value = node.child_by_field_name("value")
                if value is not None and value.type in FUNCTION_VALUES:
                    self._signature(node, value, scope[0])
            elif node.type == "type_alias_declaration":
                value = node.child_by_field_name("value")
                i = self.enclosing(node.start_byte) if value is not None else -1
                if i < 0 or self.out.symbols[i].name != node_text(node.child_by_field_name("name")):
                    continue
                if value.type == "function_type":
                    self.function_type(self.out.symbols[i].qualified_name, value, type_parameters(node))
                elif value.type in NAMED_TYPES:  # `type Payload = BasePayload`: another name for a class
                    named = type_name(value)
                    if named and named not in type_parameters(node):
                        self.out.types[self.out.symbols[i].qualified_name] = named
                elif value.type in ("union_type", "conditional_type"):  # `type H = Handler | MiddlewareHandler`
                    # a conditional type (`N extends ElementNode ? ElementDOMSlot : DOMSlot`) is one of
                    # its branches: read as their union, a member links where both branches agree on it
                    branches = union_members(value) if value.type == "union_type" else \
                        [value.child_by_field_name("consequence"), value.child_by_field_name("alternative")]
                    members = {type_name(t) if t is not None and t.type in NAMED_TYPES else None for t in branches}
                    if None not in members and len(members) > 1 and not members & type_parameters(node):
                        self.out.types[self.out.symbols[i].qualified_name] = "|".join(sorted(members))
            elif node.type in ("lexical_declaration", "variable_declaration"):
                exported = scope[1].type == "export_statement"
                for declarator in node.named_children:
                    value = declarator.child_by_field_name("value") if declarator.type == "variable_declarator" else None
                    if value is not None and value.type in FUNCTION_VALUES:
                        self._signature(declarator, value, None)
                    elif exported and declarator.type == "variable_declarator":
                        self._constant(declarator, value)

    def _class_parameters(self, node: tree_sitter.Node) -> None:
        """``types["C<>"]``: a generic class's type parameters with their constraints
        (``T:ElementNode,D:``), and ``types["C<extends>"]``: the type arguments its ``extends``
        hands its base (``T,D,?``: a type name, or ``?`` for anything else). The linker maps a
        base's field declared as its type parameter through them (``=c{k}``, ``ts_usage``)."""
        i = self.enclosing(node.start_byte)
        name = node.child_by_field_name("name")
        if i < 0 or name is None or node_text(name) != self.out.symbols[i].name:
            return
        q = self.out.symbols[i].qualified_name
        if node.child_by_field_name("type_parameters") is not None:
            bounds = constraints(node)
            self.out.types[f"{q}<>"] = ",".join(f"{node_text(n)}:{bounds.get(node_text(n), '')}"
                                                for n, _ in type_parameter_names(node))
        heritage = next((c for c in node.named_children if c.type == "class_heritage"), None)
        extends = next((c for c in heritage.named_children if c.type == "extends_clause"), None) if heritage else None
        arguments = extends.child_by_field_name("type_arguments") if extends is not None else None
        if arguments is not None:
            self.out.types[f"{q}<extends>"] = ",".join(
                (type_name(a) if a.type in NAMED_TYPES else None) or "?" for a in arguments.named_children
                if a.type != "comment")

    def _constant(self, declarator: tree_sitter.Node, value: tree_sitter.Node | None) -> None:
        """An exported const's type, for ``import { db } from './db'; db.query()`` elsewhere."""
        i = self.enclosing(declarator.start_byte)
        name = declarator.child_by_field_name("name")
        if i < 0 or name is None or self.out.symbols[i].kind != "const" or node_text(name) != self.out.symbols[i].name:
            return
        typed = type_name(declarator.child_by_field_name("type"))
        if typed is None and value is not None:
            typed = constructed(value) or self.returned(value, i)
        if typed is None and value is not None and value.type == "identifier":
            typed = self.out.types.get(node_text(value))  # `export const jobs = jobsClient`, typed above
        if typed:
            self.out.types[self.out.symbols[i].qualified_name] = typed
        elif value is not None and value.type == "object":
            self._factories(self.out.symbols[i].qualified_name, value)

    def _factories(self, q: str, literal: tree_sitter.Node) -> None:
        """``types["ERRORS.AccessDenied()"]`` of an exported object literal's functions that make
        a class without declaring a return type (``export const ERRORS = { AccessDenied: (…) =>
        new StorageBackendError(…) }``: supabase storage's error factories, then
        ``ERRORS.AccessDenied(…).withMetadata(…)``)."""
        for pair in literal.named_children:
            fn = pair.child_by_field_name("value") if pair.type == "pair" else None
            key = pair.child_by_field_name("key") if fn is not None else None
            if key is None or key.type != "property_identifier" or fn.type not in ("arrow_function", "function_expression") \
                    or fn.child_by_field_name("return_type") is not None:
                continue
            body = fn.child_by_field_name("body")
            made = constructed(body) if body is not None and body.type != "statement_block" else constructed_return(fn)
            if made:
                self.out.types[f"{q}.{node_text(key)}()"] = made

    def _signature(self, named: tree_sitter.Node, fn: tree_sitter.Node, owner: tree_sitter.Node | None) -> None:
        returns = fn.child_by_field_name("return_type")
        callbacks, typed = [], []
        for index, param in enumerate(parameters(fn)):
            annotation = param.child_by_field_name("type")
            inner = _sole_function(annotated(annotation))
            if inner is not None and inner.type == "function_type":
                callbacks.append((index, inner))
            elif inner is not None and inner.type in NAMED_TYPES:
                typed.append((index, annotation))
        constructed = constructed_return(fn) if returns is None else None
        fluent = returns is None and not constructed and owner is not None and returns_this(fn)
        called = self._call_return(fn) if returns is None and not constructed and not fluent else None
        if returns is None and not callbacks and not constructed and not typed and not fluent and not called:
            return
        i = self.enclosing(named.start_byte)
        name = named.child_by_field_name("name")
        if i < 0 or name is None or node_text(name).strip("'\"") != self.out.symbols[i].name:
            return  # a local function: no node of its own
        q = self.out.symbols[i].qualified_name
        generics = type_parameters(fn) | type_parameters(owner)  # a method's and its class's
        if constructed:  # no declared return type: `return new X()`, or a const the body made so
            self.out.types[f"{q}()"] = constructed
        elif called:  # no declared return type: what the one call it returns returns (`<f()>`)
            self.out.types[f"{q}()"] = called
        through = member_type(returns, fn, generics)  # ReturnType<Driver['getPlatform']>
        if through is None:  # `getAll(): Array<Query>` as `Query[]`: its elements are read (linking_types)
            self._put(f"{q}()", typed_or_array(returns), generics)
        elif through[0]:
            self._put(f"{q}()", BOUND + through[0] if through[1] else through[0], set())
        if returns is not None and returns.type == "type_predicate_annotation":
            self._predicate(q, fn, annotated(returns), generics)
        elif returns is not None and returns.type == "asserts_annotation":
            self._asserts(q, fn, returns)
        owner_q = self.out.symbols[i].parent
        if owner_q and (fluent or returns is not None and (annotated(returns) or returns).type == "this_type"):
            self.out.types[f"{q}()"] = THIS  # `setLimits(…): this`: a fluent call's receiver again
        if owner_q and returns is not None and fn.type == "method_definition" and fn.children[0].type == "get":
            self._getter(owner_q, self.out.symbols[i].name, returns, generics)
        returned = type_name(returns)
        given = ()
        if returned in generics and returns.named_children[0].type == "type_identifier":
            # `singleton<T>(name, getValue: () => T): T`: the call returns what its argument
            # `index` returns (``returned`` hints it at the call: `singleton("db", () => new Db())`)
            given = [index for index, inner in callbacks if type_name(inner.child_by_field_name("return_type")) == returned]
            if not given:  # `inject<T>(token: Type<T>): T`: an instance of the class handed over
                given = [index for index, p in enumerate(parameters(fn))
                         if makes_instances(p.child_by_field_name("type"), returned)]
        elif (handed := _instance_handed_over(fn, returns, generics)) is not None:
            given = handed  # `getService<T>(service: T): InstanceType<T>`
        if len(given) == 1:
            self.out.types[f"{q}()"] = f"=>{given[0]}"
        elif returned in generics and f"{q}()" not in self.out.types:
            self._type_argument_return(q, fn, returned)
        for index, inner in callbacks:
            for j, p in enumerate(parameters(inner)):
                annotation = p.child_by_field_name("type")
                if owner_q and (annotated(annotation) or annotation or p).type == "this_type":
                    self.out.types[f"{q}({index})({j})"] = THIS  # `where((qb: this) => …)`: the receiver
                    continue
                self._declare(f"{q}({index})({j})", annotation, generics | type_parameters(inner))
        if typed:  # an object literal passed there types its methods' parameters: `register({ perform: (e, app) => … })`
            bounds = None
            for index, annotation in typed:
                name = type_name(annotation)
                if name in generics:  # `<T extends Action>(action: T)`: an Action
                    bounds = constraints(fn) | constraints(owner) if bounds is None else bounds
                    name = bounds.get(name)
                self._put(f"{q}({index})", name, generics)

    def _call_return(self, fn: tree_sitter.Node) -> str | None:
        """The type reference of the one call a function without a declared return type returns
        (``ts_returns.returned_call``), as a variable bound to that call records it
        (``<this.rootStore.collections.get()>``, read by the linker in the function's own scope)."""
        value = returned_call(fn, self.source)
        made = self.returned(value, self.enclosing(value.start_byte)) if value is not None else None
        return made if made and made.startswith("<") and made.endswith("()>") else None

    def _type_argument_return(self, q: str, fn: tree_sitter.Node, returned: str) -> None:
        """``$getNodeByKey<T extends LexicalNode>(key: NodeKey): T | null``: a type parameter
        of the function's own that no parameter mentions is what the call's type argument names
        (``$getNodeByKey<TextNode>(key)``), else its constraint (``=t{k}:Bound``; the linker
        reads the call's ``t{k}`` hint, ``ts_types._hints``). One that a single parameter ``j``
        is declared as (``$copyNode<T extends LexicalNode>(node: T): T``, ``T | null`` too) is
        what the call's argument ``j`` is (``=a{j}:{k}``: the ``a{j}`` hint, or the type
        argument); one mentioned otherwise (``T[]``, ``Foo<T>``): not read."""
        own = [node_text(name) for name, _ in type_parameter_names(fn)]
        params = fn.child_by_field_name("parameters")
        if returned not in own:
            return
        k = own.index(returned)
        mention = re.compile(rb"\b%s\b" % re.escape(returned.encode()))
        if params is not None and mention.search(params.text):
            mentioned = [(j, p) for j, p in enumerate(parameters(fn)) if mention.search(p.text)]
            if len(mentioned) != 1:
                return
            j, annotation = mentioned[0][0], mentioned[0][1].child_by_field_name("type")
            if type_name(annotation) == returned:
                self.out.types[f"{q}()"] = f"=a{j}:{k}"
            elif _proves(annotation, returned):  # `$assertNodeType(node, $isTextNode)`: what the guard proves
                self.out.types[f"{q}()"] = f"=g{j}:{k}"
            return
        self.out.types[f"{q}()"] = f"=t{k}:{constraints(fn).get(returned, '')}"

    def _asserts(self, q: str, fn: tree_sitter.Node, returns: tree_sitter.Node) -> None:
        """``types["F(asserts)"] = "j"``: ``F`` asserts its parameter ``j`` holds (``function
        invariant(cond?: boolean, …): asserts cond``), so a guard handed to it narrows what
        follows the call (``ts_narrowing``, verified by the linker where ``F`` is imported)."""
        asserts = returns.named_children[0] if returns.named_child_count else None
        name = asserts.named_children[0] if asserts is not None and asserts.named_child_count else None
        if name is None or name.type != "identifier":
            return  # `asserts x is T` proves a type of its own: not read
        for j, p in enumerate(parameters(fn)):
            pattern = p.child_by_field_name("pattern")
            if pattern is not None and pattern.text == name.text:
                self.out.types[f"{q}(asserts)"] = str(j)
                return

    def _predicate(self, q: str, fn: tree_sitter.Node, predicate: tree_sitter.Node | None, generics: set[str]) -> None:
        """``types["F(is{j})"]``: the type a type guard ``isCollection(item: any): item is
        Collection`` proves its parameter ``j`` to be (``ts_narrowing``); ``=>k`` for an
        instance of the class handed as argument ``k`` (drizzle's ``is(value, type: T): value is
        InstanceType<T>``)."""
        name = predicate.child_by_field_name("name") if predicate is not None else None
        if name is None or name.type != "identifier":
            return
        proven = predicate.child_by_field_name("type")
        params = parameters(fn)
        for j, p in enumerate(params):
            pattern = p.child_by_field_name("pattern")
            if pattern is None or pattern.text != name.text:
                continue
            given = _instance_handed_over(fn, proven, generics)
            if given is not None:
                if len(given) == 1:
                    self.out.types[f"{q}(is{j})"] = f"=>{given[0]}"
                return
            self._put(f"{q}(is{j})", type_name(proven), generics)
            return

    def _getter(self, owner: str, name: str, returns: tree_sitter.Node, generics: set[str]) -> None:
        """``get metadata(): EntityMetadata`` is read as a field: ``alias.metadata.m()`` elsewhere,
        ``this.metadata.m()`` in the class."""
        self._put(f"{owner}.{name}", typed_or_array(returns), generics)
        typed = self.out.types.get(f"{owner}.{name}")
        if typed:
            self.instance_types[(owner, "this." + name)] = typed

    def function_type(self, key: str, fn: tree_sitter.Node, generics: set[str]) -> None:
        """The parameter types of a function type that a type alias or a property declares
        (``type ActionFn = (elements: E[], app: AppProps) => R``: ``types["ActionFn(1)"]``). A
        parameter typed by the function type's own type parameter is its constraint: a function
        given there is generic alike (``$exportDOM: <T extends LexicalNode>(node: T) => …``, and
        ``node.getType()`` in ``$exportDOM: (node) => …`` reads ``LexicalNode``'s)."""
        own = type_parameters(fn)
        bounds = constraints(fn) if own else {}
        generics = generics | own
        for j, p in enumerate(parameters(fn)):
            annotation = p.child_by_field_name("type")
            named = type_name(annotation)
            if named in own and bounds.get(named):
                self._put(f"{key}({j})", bounds[named], generics)
            else:
                self._declare(f"{key}({j})", annotation, generics)

    def member_return(self, key: str, returns: tree_sitter.Node | None, generics: set[str]) -> None:
        """``types["I.m()"]`` of an interface's method signature: its declared return type, or
        ``THIS`` for ``: this`` (a fluent interface)."""
        if returns is not None and (annotated(returns) or returns).type == "this_type":
            self.out.types[key] = THIS
        else:
            self._put(key, typed_or_array(returns), generics)

    def _declare(self, key: str, annotation: tree_sitter.Node | None, generics: set[str]) -> None:
        self._put(key, type_name(annotation), generics)

    def _put(self, key: str, name: str | None, generics: set[str]) -> None:
        if not name or name.partition(".")[0].removesuffix("[]") in generics:
            return
        types = self.out.types
        types[key] = name if types.get(key, name) == name else ""  # overloads that disagree: unknown


def _proves(annotation: tree_sitter.Node | None, name: str) -> bool:
    """Whether ``annotation`` is a type guard's function type proving its parameter ``name``
    (``$guard: (value: LexicalNode | null) => value is T``)."""
    inner = annotated(annotation) if annotation is not None else None
    returns = inner.child_by_field_name("return_type") if inner is not None and inner.type == "function_type" else None
    proven = returns.child_by_field_name("type") if returns is not None and returns.type == "type_predicate" else None
    return proven is not None and type_name(proven) == name


def _instance_handed_over(fn: tree_sitter.Node, typed: tree_sitter.Node | None, generics: set[str]) -> list[int] | None:
    """For ``InstanceType<T>`` with ``T`` a type parameter (a return type, a guard's predicate),
    the positions of ``fn``'s parameters declared ``T``: the class handed over there; None for any
    other type."""
    instance = instance_of(typed)
    if instance not in generics:
        return None
    return [k for k, p in enumerate(parameters(fn)) if type_name(p.child_by_field_name("type")) == instance]


def _sole_function(node: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """The function type of a union that has one (``where: string | Brackets | ((qb: this) =>
    string)``: a function passed there is that one), else ``node``."""
    if node is None or node.type != "union_type":
        return node
    functions = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "union_type":
            stack.extend(n.named_children)
        elif n.type == "parenthesized_type" and n.named_child_count:
            stack.append(n.named_children[0])
        elif n.type == "function_type":
            functions.append(n)
    return functions[0] if len(functions) == 1 else node
