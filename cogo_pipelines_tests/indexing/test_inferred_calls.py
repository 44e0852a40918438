"""Calls whose receiver's type is not written at the call (contextual callback parameters,
declared return and field types, unions with null, ``super``, destructured bindings) and JSX
``renders`` edges, on the ``inferred`` fixture. Each expected edge is one the TypeScript
checker gives for the same site (``bench/callgraph_vs_checker.py`` on this fixture: precision
and recall 1.0)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cogo_pipelines.indexing.static_graph import analyze
from cogo_pipelines.indexing.typescript import extract_file
from cogo_pipelines.pipeline import graph_index

INFERRED = Path(__file__).parent / "fixtures" / "inferred"


@pytest.fixture(scope="module")
def edges():
    static, _ = analyze(INFERRED, repo="inferred")
    g = static.graph

    def label(n):
        d = g.nodes[n]
        if "kind" not in d:
            return n
        return d["path"] if d["kind"] == "file" else f"{d['path']}#{d['qualified_name']}"

    return {(label(s), label(t), d["kind"], d["confidence"]) for s, t, d in g.edges(data=True)}


@pytest.mark.parametrize(
    ("src", "dst", "kind", "rule"),
    [
        ("src/ops.ts#map", "src/stream.ts#Observable.subscribe", "calls",
         "callback parameter typed by the callee's parameter: operate((source, ...) => source.subscribe())"),
        ("src/ops.ts#map", "src/stream.ts#Subscriber.next", "calls", "second parameter of the same callback"),
        ("src/ops.ts#interval", "src/stream.ts#Subscriber.next", "calls",
         "callback of a constructor, past a `this:` parameter"),
        ("src/ops.ts#viaReturnTypes", "src/stream.ts#Subscriber.next", "calls",
         "variable typed by a call's declared return type `Subscriber<T> | null`"),
        ("src/ops.ts#viaReturnTypes", "src/stream.ts#Subscriber.unsubscribe", "calls", "f()?.m() through the return type"),
        ("src/ops.ts#destructured", "src/stream.ts#Db.pagedQuery", "calls",
         "const { pagedQuery } = prisma; pagedQuery() with prisma's declared type"),
        ("src/queries.ts#listWebsites", "src/db.ts#pagedQuery", "calls",
         "const { pagedQuery } = db; pagedQuery(), db a default-exported object literal { pagedQuery }"),
        ("src/queries.ts#listWebsites", "src/db.ts#countRows", "calls", "destructured key of { count: countRows }"),
        ("src/queries.ts#direct", "src/db.ts#pagedQuery", "calls", "db.pagedQuery() on the same object literal"),
        ("src/queries.ts#direct", "src/db.ts#countRows", "calls", "api.count() on an exported const object literal"),
        ("src/queries.ts#teamButton", "src/hooks.ts#touch", "calls",
         "const { touch } = useModified(), the hook returning { modified, touch }"),
        ("src/ops.ts#Service.run", "src/stream.ts#Logger.info", "calls", "this.field.m(), field set by a call"),
        ("src/ops.ts#conflicting", "src/stream.ts#Logger.info", "calls", "a typed parameter outside the callback"),
        ("src/ops.ts#conflicting", "src/stream.ts#Observable.subscribe", "calls", "the callback's own `source`"),
        ("src/ops.ts#twoCallbacks", "src/stream.ts#Observable.subscribe", "calls", "one name, two callbacks: the first"),
        ("src/ops.ts#twoCallbacks", "src/stream.ts#Logger.info", "calls", "one name, two callbacks: the typed second"),
        ("src/child.ts#Child.go", "src/stream.ts#Logger.info", "calls", "this.field.m(), field of a base class in another file"),
        ("src/ops.ts#jobHandlers", "src/stream.ts#Logger.info", "calls", "a handler's own `const service = new Logger()`"),
        ("src/ops.ts#jobHandlers", "src/stream.ts#Subscriber.next", "calls", "the next handler's `service`, another type"),
        ("src/ops.ts#jobHandlers", "src/stream.ts#Observable.subscribe", "calls", "a block's binding and the function's"),
        ("src/ops.ts#viaSingletons", "src/stream.ts#Logger.info", "calls",
         "an imported `singleton(name, () => new Logger())`: the generic return is the callback's"),
        ("src/ops.ts#viaSingletons", "src/stream.ts#Subscriber.next", "calls", "the callback returns a const it made"),
        ("src/ops.ts#viaSingletons", "src/stream.ts#Observable.subscribe", "calls", "a local singleton"),
        ("src/ops.ts#viaNew", "src/stream.ts#Logger.info", "calls", "new Logger().info(): the class just made"),
        ("src/ops.ts#viaNew", "src/stream.ts#Subscriber.next", "calls", "(new Subscriber()).next()"),
        ("src/ops.ts#viaNamedFactoriesAndOptionalClients", "src/stream.ts#Observable.subscribe", "calls",
         "singleton(name, initializeStream): what that function of the same file returns"),
        ("src/ops.ts#viaNamedFactoriesAndOptionalClients", "src/stream.ts#Logger.info", "calls",
         "c ? new Logger() : undefined: an optional client"),
        ("src/ops.ts#viaNamedFactoriesAndOptionalClients", "src/stream.ts#Subscriber.next", "calls",
         "made\\n  .next(): a member chain over two lines"),
        ("src/ops.ts#viaAliasesAndLookalikes", "src/stream.ts#Logger.info", "calls",
         "jobs.info() on `export const jobs = jobsClient`, jobsClient = new Logger()"),
        ("src/ops.ts#viaAliasesAndLookalikes", "src/registry.ts#superviseAll", "calls",
         "superviseAll(): a name starting with `super` is a plain call"),
        ("src/screens.ts#reportFailure", "src/stream.ts#Logger.info", "calls",
         "log.info() on an imported `export default new Logger()`"),
        ("src/screens.ts#closeDialogs", "src/stores.ts#DialogsStore.closeAll", "calls",
         "const { dialogs } = useStores(); dialogs.closeAll(): the field's declared type in the return type"),
        ("src/stores.ts#Policy.refresh", "src/stores.ts#DialogsStore.closeAll", "calls",
         "this.root.dialogs.closeAll(): a chain of declared field types"),
        ("src/screens.ts#closeFromPolicy", "src/stores.ts#DialogsStore.closeAll", "calls",
         "policy.root.dialogs.closeAll(): a typed parameter, then declared field types"),
        ("src/screens.ts#closeFromDestructured", "src/stores.ts#DialogsStore.closeAll", "calls",
         "const { dialogs } = policy.root; dialogs.closeAll()"),
        ("src/owners.ts#closeFromOwner", "src/stores.ts#DialogsStore.closeAll", "calls",
         "const { dialogs } = owner.root, owner no call's head in its file"),
        ("src/owners.ts#closeAllOf", "src/stores.ts#DialogsStore.closeAll", "calls",
         "const { closeAll } = owner.root.dialogs; closeAll(): the chain's first name typed"),
        ("src/owners.ts#closeThroughHelper", "src/stores.ts#DialogsStore.closeAll", "calls",
         "stores() { return useStores() } declares no return type: what the call it returns returns"),
        ("src/owners.ts#closeThroughMaybe", "src/stores.ts#DialogsStore.closeAll", "calls",
         "storesIf = (flag) => (flag ? useStores() : undefined): the call of a ternary's other branch"),
        ("src/owners.ts#openBook", "src/owners.ts#Book.open", "calls",
         "const { shelf } = useShelves(); const book = shelf.find(id); book?.open()"),
        ("src/screens.ts#closeThroughAlias", "src/stores.ts#DialogsStore.closeAll", "calls",
         "app.root.dialogs.closeAll(), app typed by an object type alias"),
        ("src/screens.ts#closeThroughLookup", "src/stores.ts#DialogsStore.closeAll", "calls",
         "app.dialogs.closeAll(), the alias's field typed RootStore[\"dialogs\"]"),
        ("src/screens.ts#closeThroughInterface", "src/stores.ts#DialogsStore.closeAll", "calls",
         "like.props.dialogs.closeAll(): an interface's field, then the alias's"),
        ("src/screens.ts#actionClose", "src/stores.ts#DialogsStore.closeAll", "calls",
         "register({ perform: (elements, app) => app.root.dialogs.closeAll() }): Action's `perform: Perform`"),
        ("src/screens.ts#actionPeek", "src/stores.ts#DialogsStore.closeAll", "calls",
         "register({ predicate: (like) => ... }): a function-typed property of the constraint `T extends Action`"),
        ("src/screens.ts#actionEscape", "src/stores.ts#DialogsStore.closeAll", "calls",
         "register({ keyTest(event, root) { ... } }): a method signature, written as a method"),
        ("src/screens.ts#DialogButton", "src/stores.ts#DialogsStore.closeAll", "calls",
         "({ store }: { store: DialogsStore }) => store.closeAll(): props typed inline"),
        ("src/screens.ts#RootButton", "src/stores.ts#DialogsStore.closeAll", "calls",
         "({ props: given }: AppLike) => given.dialogs.closeAll(): props typed by a named type, renamed"),
        ("src/screens.ts#Shell.close", "src/stores.ts#DialogsStore.closeAll", "calls",
         "this.dialogs.closeAll(), the field typed RootStore[\"dialogs\"]"),
        ("src/screens.ts#closeReadonly", "src/stores.ts#DialogsStore.closeAll", "calls",
         "root: Readonly<RootStore>; root.dialogs.closeAll(): a utility type keeps the members"),
        ("src/screens.ts#closePartial", "src/stores.ts#DialogsStore.closeAll", "calls",
         "props: Partial<Pick<AppProps, 'dialogs'>>; props.dialogs?.closeAll()"),
        ("src/screens.ts#rules", "src/cancan.ts#CanCan.allow", "calls",
         "allow() imported from `export const { allow } = cancan`, cancan = new CanCan()"),
        ("src/screens.ts#rules", "src/cancan.ts#CanCan.can", "calls", "the same under another name: { can: check }"),
        ("src/screens.ts#callServer", "src/support.ts#TestServer.post", "calls",
         "const server = getTestServer(); server.post(): a return type inferred from `return server`"),
        ("src/screens.ts#upload", "src/support.ts#BaseStorage.store", "calls",
         "FileStorage.store() on `const storage: BaseStorage = ...; export default storage`"),
        ("src/stream.ts#Subscriber.constructor", "src/stream.ts#Subscription", "calls", "super(...) calls the extends target"),
        ("src/child.ts#Loud.constructor", "src/stream.ts#Subscriber", "calls", "super(...) across files"),
        ("src/stream.ts#Subscriber.unsubscribe", "src/stream.ts#Subscription.unsubscribe", "calls", "super.m()"),
        ("src/child.ts#Loud.next", "src/stream.ts#Subscriber.next", "calls", "super.m() across files"),
        ("src/services.ts#viaInjection", "src/stream.ts#Logger.info", "calls",
         "getService<T>(service: T): InstanceType<T> called with a class: its instance"),
        ("src/services.ts#viaInjection", "src/stream.ts#Subscriber.next", "calls",
         "inject<T>(token: Constructor<T> | string): T, the result called at once"),
        ("src/services.ts#viaInjection", "src/stream.ts#Observable.subscribe", "calls",
         "construct<T>(made: abstract new () => T): T"),
        ("src/services.ts#viaInjection", "src/stream.ts#Db.pagedQuery", "calls", "container.get(Db): a method of a container"),
        ("src/routes.ts", "src/routes.ts#auth", "calls",
         "auth() beside a handler that destructures its own `auth`: the handler's name holds inside it only"),
        ("src/routes.ts", "src/stream.ts#Db.pagedQuery", "calls", "const { pagedQuery } = prisma inside the handler"),
        ("src/services.ts#viaAlias", "src/stream.ts#Db.pagedQuery", "calls",
         "a parameter typed by `type Database = Db`, another name for the class"),
        ("src/services.ts#viaAwait", "src/stream.ts#Db.pagedQuery", "calls",
         "const db = await connect() with connect(): Promise<Db>; (await connect()).m()"),
        ("src/shadows.ts#lazily", "src/support.ts#getTestServer", "calls",
         "const [{ getTestServer }, …] = await Promise.all([import('./support'), …])"),
        ("src/shadows.ts#lazily", "src/shadows.ts#flush", "calls", "the second module's export, renamed in the pattern"),
        ("src/events.ts#Handler.go", "src/events.ts#Backend.put", "calls",
         "this.store.backend.put(): a field declared by a constructor parameter of another class"),
        ("src/events.ts#draw", "src/events.ts#Renderer.render", "calls", "setLimits(): this, then .render()"),
        ("src/events.ts#Job.batchSend", "src/events.ts#Job.eventName", "calls",
         "const eventClass = this as typeof Job; eventClass.eventName()"),
        ("src/metadata.ts#loopOverParameter", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "for (const column of columns), columns: ColumnMetadata[]"),
        ("src/metadata.ts#loopOverField", "src/columns.ts#ColumnMetadata.createValueMap", "calls",
         "for (const column of metadata.primaryColumns), a field of another file declared ColumnMetadata[]"),
        ("src/metadata.ts#forEachListener", "src/columns.ts#EntityListener.isAllowed", "calls",
         "metadata.listeners.forEach((listener) => listener.m()), listeners: readonly EntityListener[]"),
        ("src/metadata.ts#forEachListener", "src/columns.ts#EntityListener.execute", "calls", "the same callback"),
        ("src/metadata.ts#reduceColumns", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "reduce((map, column) => column.m()): the element is the second parameter"),
        ("src/metadata.ts#indexed", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "const first = metadata.primaryColumns[0]; first.m()"),
        ("src/metadata.ts#indexed", "src/columns.ts#ColumnMetadata.createValueMap", "calls", "columns[columns.length - 1]!.m()"),
        ("src/metadata.ts#throughElementField", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "metadata.relations![0].referencedColumn!.m(), relations: Array<ColumnMetadata> | undefined"),
        ("src/metadata.ts#notElements", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         'metadata.byName["id"].m(), byName: Record<string, ColumnMetadata>'),
        ("src/metadata.ts#TreeMetadata.inherited", "src/columns.ts#EntityListener.execute", "calls",
         "this.listeners.map((listener) => …): a base class's array field"),
        ("src/columns.ts#EntityMetadata.firstValue", "src/columns.ts#ColumnMetadata.createValueMap", "calls",
         "this.primaryColumns[0].m() in the class declaring the field"),
        ("src/columns.ts#EntityMetadata.viaGetter", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "this.mainColumn.m(), get mainColumn(): ColumnMetadata"),
        ("src/metadata.ts#throughGetter", "src/columns.ts#EntityMetadata.firstValue", "calls",
         "alias.metadata.m(), Alias's getter declared in another file"),
        ("src/tables.ts#QueryRunner.addIndex", "src/tables.ts#Table.clone", "calls",
         "const table = isTable(x) ? x : await this.getCachedTable(x): a type guard's tested value or a Promise<Table>"),
        ("src/tables.ts#QueryRunner.addIndex", "src/tables.ts#Table.addIndex", "calls", "const cloned = table.clone()"),
        ("src/tables.ts#QueryRunner.fromFields", "src/columns.ts#EntityMetadata.firstValue", "calls",
         "const metadata = subject.metadata: a field of another file's class"),
        ("src/tables.ts#QueryRunner.fromFields", "src/tables.ts#Table.clone", "calls", "const current = this.current!"),
        ("src/tables.ts#QueryRunner.found", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "const column = table.columns.find(…): an element"),
        ("src/tables.ts#QueryRunner.inCallback", "src/columns.ts#EntityMetadata.viaGetter", "calls",
         "const metadata = subject.metadata inside subjects.forEach((subject) => …)"),
        ("src/builders.ts#Repository.ordered", "src/builders.ts#QueryBuilder.getQuery", "calls",
         "five calls deep through methods returning `this`"),
        ("src/builders.ts#Repository.updated", "src/builders.ts#UpdateQueryBuilder.execute", "calls",
         "update().set().where().execute(): `where(): this` declared in the base class is the subclass's there"),
        ("src/builders.ts#Repository.nested", "src/builders.ts#QueryBuilder.subQuery", "calls",
         "where((qb) => qb.subQuery()): the one function type of `string | Brackets | ((qb: this) => string)`"),
        ("src/tables.ts#parametersStayInTheirCallback", "src/tables.ts#Table.clone", "calls",
         "tables.forEach((table: Table) => table.clone())"),
        ("src/tables.ts#usesHelper", "src/tables.ts#QueryRunner.addIndex", "calls",
         "const { runner } = createRunner(), the helper returning { runner, … } with const runner = new QueryRunner()"),
        ("src/tables.ts#usesHarness", "src/tables.ts#QueryRunner.fromFields", "calls",
         "const { runner } = await h.init(), a method returning { runner: this.runner }"),
        ("src/qr.ts#qr.Code.draw", "src/qr.ts#qr.Code.fill", "calls",
         "this.fill() in a class a namespace of the same name is merged into"),
        ("src/qr.ts#qr.Code.draw", "src/qr.ts#qr.check", "calls", "the namespace's own function, from inside its class"),
        ("src/qr.ts#drawQr", "src/qr.ts#qr.Code.draw", "calls", "make(): Code, a type named inside the namespace"),
        ("src/builders.ts#convertValue", "src/builders.ts#JsonType.convert", "calls",
         "prop.customType instanceof JsonType && prop.customType.convert(): the override, where the test holds"),
        ("src/builders.ts#convertValue", "src/builders.ts#Type.convert", "calls", "prop.customType!.convert() after it"),
        ("src/builders.ts#convertIfReady", "src/builders.ts#JsonType.convert", "calls",
         "if (prop.customType instanceof JsonType && ready) { prop.customType.convert() }"),
        ("src/builders.ts#convertGuarded", "src/builders.ts#JsonType.convert", "calls",
         "if (Types.isJson(input)) input.convert(): an `any` narrowed by a static type guard's predicate"),
        ("src/builders.ts#convertGuarded", "src/builders.ts#Type.convert", "calls",
         "if (Types.isSet(prop.customType)) prop.customType.convert(): no predicate, the declared type stays"),
        ("src/builders.ts#convertAny", "src/builders.ts#JsonType.convert", "calls",
         "if (is(candidate, JsonType)) candidate.convert(): `value is InstanceType<T>`, the class handed over"),
        ("src/builders.ts#build", "src/builders.ts#Type.convert", "calls",
         "qb.convert() on `Type | ((prop) => Type)`: a function has no such member"),
        ("src/metadata.ts#nestedLoops", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "an inner for-of over a field of the outer loop's element"),
        ("src/metadata.ts#Tracker.flush", "src/columns.ts#ColumnMetadata.getEntityValue", "calls",
         "for (const c of this.#updates), the field made new Set<ColumnMetadata>()"),
        ("src/metadata.ts#Tracker.flush", "src/columns.ts#ColumnMetadata.createValueMap", "calls",
         "extra.forEach((c) => c.m()) over a ReadonlySet<ColumnMetadata>"),
        ("src/metadata.ts#makeMerged", "src/columns.ts#Merged", "calls",
         "new Merged() where an interface Merged is declared after the class"),
        ("src/drivers.ts#viaInterface", "src/drivers.ts#Platform.usesPivotTable", "calls",
         "d.getPlatform().m(): an interface method's declared return (the member has no node)"),
        ("src/drivers.ts#viaInterface", "src/drivers.ts#Connection.isConnected", "calls",
         "d.reconnect().getConnection().m(): an interface's `: this`, then a return"),
        ("src/drivers.ts#viaInterface", "src/drivers.ts#SqlPlatform.quote", "calls",
         "s.getPlatform().quote(): the extending interface's own declaration of the method"),
        ("src/drivers.ts#Manager.uses", "src/drivers.ts#Platform.quote", "calls",
         "this.getPlatform().m() returning ReturnType<D['getPlatform']>, D's constraint inside the class"),
        ("src/drivers.ts#Manager.uses", "src/drivers.ts#Connection.isConnected", "calls",
         "this.driver.m() with `driver: D`, and ReturnType<Driver['getConnection']> of a plain interface"),
        ("src/drivers.ts#outside", "src/drivers.ts#Connection.isConnected", "calls",
         "plain.connection().m(): ReturnType of a plain interface, read anywhere"),
        ("src/drivers.ts#withServer", "src/drivers.ts#Platform.usesPivotTable", "calls",
         "server: ReturnType<typeof makeDriver>, the factory's declared return"),
        ("src/drivers.ts#withServer", "src/drivers.ts#Connection.isConnected", "calls",
         "let again: ReturnType<typeof makeDriver> | undefined"),
        ("src/handlers.ts#notFound", "src/handlers.ts#Context.text", "calls",
         "const notFound: Handler = (c) => c.text(): the parameter types of the function type named"),
        ("src/handlers.ts#onError", "src/handlers.ts#Context.json", "calls", "the second parameter of another alias"),
        ("src/handlers.ts#middleware", "src/handlers.ts#Context.text", "calls",
         "(): Handler => async function (c, next): the function an arrow returns"),
        ("src/handlers.ts#factory", "src/handlers.ts#Context.json", "calls",
         "function factory(): Handler { return (c) => … }"),
        ("src/handlers.ts#routed", "src/handlers.ts#Context.text", "calls",
         "use((c) => c.text()) where use's parameter is declared `handler: Handler`"),
        ("src/handlers.ts#readyMiddleware", "src/handlers.ts#Context.text", "calls",
         "if (isReady(c)) c.text(): a boolean helper's test keeps the type the factory's return gave c"),
        ("src/router.ts#routes", "src/handlers.ts#Context.text", "calls",
         "app.get('/', (c) => c.text()): `get` a field of an interface of call signatures, the handler a union alias"),
        ("src/router.ts#routes", "src/handlers.ts#Context.json", "calls",
         "a handler in a rest tuple, and an inline function type's parameter (app.onError((err, c) => c.json()))"),
        ("src/router.ts#routes", "src/router.ts#App.fetch", "calls",
         "app.get(…).get(…).fetch(): what the call signatures return"),
        ("src/caches.ts#EntryCache.resetAll", "src/caches.ts#Entry.reset", "calls",
         "this.getAll().forEach((entry) => entry.reset()), getAll(): Array<Entry>"),
        ("src/caches.ts#EntryCache.findAll", "src/caches.ts#Entry.isStale", "calls",
         "this.getAll().filter((e) => e.isStale())"),
        ("src/caches.ts#EntryCache.refreshFresh", "src/caches.ts#Entry.refresh", "calls",
         "this.findAll(true).filter(…).map((e) => e.refresh()): filter keeps the elements, findAll(): Entry[]"),
        ("src/caches.ts#EntryCache.notify", "src/caches.ts#Entry.refresh", "calls",
         "this.listeners.slice().forEach((l) => l.refresh()), a copy of a field declared Array<Entry>"),
        ("src/caches.ts#Client.resetStale", "src/caches.ts#Entry.reset", "calls",
         "const matched = this.#cache.findAll(true); matched.forEach((entry) => entry.reset())"),
        ("src/caches.ts#Client.resetStale", "src/caches.ts#Entry.refresh", "calls",
         "const cache = this.#cache; cache.getAll().forEach(…)"),
        ("src/caches.ts#Client.pending", "src/caches.ts#Entry.refresh", "calls",
         "const stale = this.#cache.getAll().filter(…); stale.map((entry) => entry.refresh())"),
        ("src/caches.ts#Driver.run", "src/caches.ts#Builder.select", "calls",
         "this.create<T>('x').withSchema().select(): the inner call's type arguments are its own"),
        ("src/jobs.ts#Job.create", "src/jobs.ts#Job", "calls", "new this(name) in a static method: the class itself"),
        ("src/jobs.ts#Job.create", "src/jobs.ts#Job.validate", "calls", "const job = new this(name); job.validate()"),
        ("src/jobs.ts#Queue.add", "src/jobs.ts#Scheduler.upsert", "calls",
         "(await this.scheduler).upsert(), a getter declared Promise<Scheduler>"),
        ("src/jobs.ts#Queue.add", "src/jobs.ts#Scheduler.isScheduler", "calls",
         "const scheduler = await this.scheduler; scheduler.isScheduler()"),
        ("src/nodes.ts#setSlot", "src/nodes.ts#BaseNode.getWritable", "calls",
         "host.getWritable() with host: T of <T extends ElementNode>, a method ElementNode inherits"),
        ("src/nodes.ts#setSlot", "src/nodes.ts#ElementNode.append", "calls", "host.append(): the constraint's own method"),
        ("src/nodes.ts#removeAll", "src/nodes.ts#BaseNode.remove", "calls", "for (const node of nodes) with nodes: N[]"),
        ("src/nodes.ts#shadowed", "src/nodes.ts#BaseNode.remove", "calls",
         "item: Item where the type parameter Item hides the class Item"),
        ("src/nodes.ts#Holder.drop", "src/nodes.ts#BaseNode.remove", "calls", "a method's parameter typed by its class's T"),
        ("src/nodes.ts#byKey", "src/nodes.ts#TextNode.getText", "calls",
         "getNodeByKey<TextNode>(key)?.getText(): the type argument names the returned T"),
        ("src/nodes.ts#byKey", "src/nodes.ts#TextNode.remove", "calls",
         "const node = getNodeByKey<TextNode>(key); node?.remove(): TextNode's override"),
        ("src/nodes.ts#byKey", "src/nodes.ts#BaseNode.getWritable", "calls",
         "getNodeByKey(key) without a type argument: T is its constraint"),
        ("src/guards.ts#orGuard", "src/guards.ts#ElementNode.isEmpty", "calls",
         "!isElement(node) || node.isEmpty(): the right of `||` after a negated guard"),
        ("src/guards.ts#orGuard", "src/guards.ts#ElementNode.append", "calls",
         "if (!isElement(node) || …) { return } node.append(): the rest of the block"),
        ("src/guards.ts#loopContinue", "src/guards.ts#TextNode.getText", "calls",
         "if (!isText(node)) continue; node.getText()"),
        ("src/guards.ts#elseBranch", "src/guards.ts#TextNode.getText", "calls", "the else of a negated guard"),
        ("src/guards.ts#thrown", "src/guards.ts#TextNode.remove", "calls",
         "if (!(node instanceof TextNode)) { throw … } node.remove(): TextNode's override"),
        ("src/guards.ts#reassigned", "src/guards.ts#ElementNode.append", "calls",
         "narrowed until the name is assigned again"),
        ("src/guards.ts#reassigned", "src/guards.ts#BaseNode.remove", "calls",
         "node = node.getParent(); node?.remove(): the assigned type, not the guard's"),
        ("src/guards.ts#rightOfAnd", "src/guards.ts#TextNode.getText", "calls",
         "node !== null && isText(node): a guard right of `&&`"),
        ("src/guards.ts#inSwitch", "src/guards.ts#TextNode.remove", "calls",
         "if (!isText(node)) break; node.remove() in a switch case"),
        ("src/guards.ts#noExit", "src/guards.ts#BaseNode.remove", "calls",
         "if (!isText(node)) { log } node.remove(): no exit, the declared type"),
        ("src/guards.ts#inSwitch", "src/guards.ts#BaseNode.remove", "calls",
         "the switch's default: the declared type"),
        ("src/guards.ts#asserted", "src/guards.ts#TextNode.getText", "calls",
         "invariant(isText(node), …); node.getText(): an assertion function's guard"),
        ("src/guards.ts#assertedInstance", "src/guards.ts#ElementNode.isEmpty", "calls",
         "invariant(node instanceof ElementNode && node.isEmpty(), …)"),
        ("src/guards.ts#assertedInstance", "src/guards.ts#ElementNode.append", "calls",
         "… node.append() after it"),
        ("src/checks.ts#checked", "src/guards.ts#BaseNode.remove", "calls",
         "a local invariant() without `asserts` narrows nothing"),
        ("src/configs.ts#renderWithLimits", "src/configs.ts#Renderer.render", "calls",
         "renderer.setLimits(10).render(): setLimits has no declared return and returns this"),
        ("src/configs.ts#fail", "src/configs.ts#AppError.withMetadata", "calls",
         "ERRORS.denied('no').withMetadata(): an exported literal's arrow returning new AppError"),
        ("src/configs.ts#suite", "src/configs.ts#AppError.withMetadata", "calls",
         "const made = createError(); made.withMetadata(): a function declared in the block"),
        ("src/configs.ts#awaitsLater", "src/configs.ts#AppError.withMetadata", "calls",
         "await later() of a local async function returning new AppError"),
        ("src/configs.ts#SubscriptionsStore.remove", "src/configs.ts#Subscription.delete", "calls",
         "this.getById(id)?.delete() where getById is a field holding an arrow declared Subscription"),
        ("src/points.ts#parentOf", "src/points.ts#BaseNode.getParent", "calls",
         "selection.anchor.getNode().getParent(): a union's members return TextNode | ElementNode, both inherit it"),
        ("src/guards.ts#guardedByArgument", "src/guards.ts#TextNode.getText", "calls",
         "assertNodeType(node, isText).getText(): T is what the guard handed over proves"),
        ("src/guards.ts#guardedByArgument", "src/guards.ts#ElementNode.append", "calls",
         "const element = assertNodeType(node, isElement); element.append()"),
        ("src/carets.ts#ChildCaret.appendTo", "src/nodes.ts#ElementNode.append", "calls",
         "this.origin.append() where the base declares origin: T and ChildCaret<T extends ElementNode> hands T over"),
        ("src/carets.ts#FixedCaret.grow", "src/nodes.ts#ElementNode.append", "calls",
         "extends AbstractCaret<ElementNode, 'fixed'>: the type named there"),
        ("src/carets.ts#LastCaret.appendLast", "src/nodes.ts#ElementNode.append", "calls", "two classes down"),
        ("src/carets.ts#AbstractCaret.detach", "src/nodes.ts#BaseNode.remove", "calls",
         "this.origin.remove() in the declaring class: the constraint"),
        ("src/carets.ts#SerializedText.update", "src/carets.ts#SerializedText.setText", "calls",
         "super.update(json).setText(): super's method returns this, the subclass's object"),
        ("src/guards.ts#firstText", "src/guards.ts#TextNode.getText", "calls",
         "isText(children[0]) && children[0].getText(): an element read at a literal index, narrowed"),
        ("src/guards.ts#firstText", "src/guards.ts#TextNode.remove", "calls", "… and in the if's consequence"),
        ("src/guards.ts#firstText", "src/guards.ts#BaseNode.remove", "calls", "children[1]: the element type"),
        ("src/caches.ts#removeStale", "src/caches.ts#Entry.refresh", "calls",
         "const stale = cache.getAll().filter(…); stale[0].refresh(): an element of a call's array"),
        ("src/caches.ts#resetTyped", "src/caches.ts#Entry.reset", "calls",
         "const some = cache.getAll().filter<Entry>(…); some[0].reset(): the copy's type argument is no member"),
        ("src/checks.ts#ensured", "src/guards.ts#TextNode.getText", "calls",
         "ensure(isText(node)); node.getText(): an imported function declared `asserts cond`"),
        ("src/checks.ts#logged", "src/guards.ts#BaseNode.remove", "calls",
         "log(isText(node)); node.remove(): log asserts nothing, the declared type"),
        ("src/checks.ts#ensuredElement", "src/guards.ts#TextNode.remove", "calls",
         "ensure(isText(children[0])); children[0].remove()"),
        ("src/caches.ts#refreshEach", "src/caches.ts#Entry.refresh", "calls",
         "for (const entry of cache.getAll()) entry.refresh(): iterating what a call returns"),
        ("src/points.ts#insertInto", "src/points.ts#Slot.insert", "calls",
         "slotFor(element).insert(): a conditional type's branches agree on insert"),
        ("src/points.ts#readyParent", "src/points.ts#BaseNode.getParent", "calls",
         "if (isReady(node)) node.getParent(): a plain predicate leaves the union as it was"),
        ("src/points.ts#detachAny", "src/points.ts#BaseNode.getParent", "calls",
         "node: TextNode | ElementNode | null; node?.getParent(): a declared union whose members agree"),
        ("src/configs.ts#DEFAULT_CONFIG", "src/configs.ts#DocNode.exportDOM", "calls",
         "const c: DomConfig = { exportDOM: (node, editor) => node.exportDOM() }: the member's parameter 0"),
        ("src/configs.ts#DEFAULT_CONFIG", "src/configs.ts#Editor.render", "calls", "… and its parameter 1"),
        ("src/configs.ts#decorating", "src/configs.ts#DocNode.exportDOM", "calls",
         "decorate: (node) => node.exportDOM() where decorate is <N extends DocNode>(node: N) => void"),
        ("src/configs.ts#satisfied", "src/configs.ts#Editor.render", "calls", "{ … } satisfies DomConfig"),
        ("src/configs.ts#handlers", "src/configs.ts#DocNode.exportDOM", "calls",
         "a function expression in a literal typed by a type alias of an object type"),
        ("src/nodes.ts#passes", "src/nodes.ts#TextNode.remove", "calls",
         "identity(text).remove() with identity<T>(value: T): T: what the argument is"),
        ("src/App.tsx#LoadingPanel", "src/App.tsx#Header", "renders", "<Header/> of the same file"),
        ("src/App.tsx#LoadingPanel", "src/Panel.tsx#Panel", "renders", "<Panel>...</Panel> imported"),
        ("src/App.tsx#LoadingPanel", "src/Panel.tsx#Empty", "renders", "an arrow-function component"),
        ("src/App.tsx#LoadingPanel", "src/parts.tsx#Spinner", "renders", "<Parts.Spinner/> through a namespace import"),
    ],
)
def test_inferred_edges_are_certain(edges, src, dst, kind, rule):
    assert (src, dst, kind, "certain") in edges, rule


def test_what_cannot_be_inferred_stays_maybe(edges):
    assert ("src/ops.ts#untyped", "unresolved:thing.next", "calls", "maybe") in edges


def test_a_negated_guard_narrows_only_where_the_test_is_false(edges):
    """No narrowing after an ``if`` that does not leave or after a reassignment (there the
    checker reads the declared type), and none to the declared type where the guard holds."""
    for src, wrong in (("guards.ts#noExit", "TextNode.remove"), ("guards.ts#reassigned", "ElementNode.remove"),
                       ("guards.ts#thrown", "BaseNode.remove"), ("checks.ts#checked", "TextNode.remove"),
                       ("checks.ts#logged", "TextNode.remove"), ("checks.ts#ensuredElement", "BaseNode.remove")):
        certain = {d for s, d, k, c in edges if s == f"src/{src}" and c == "certain"}
        assert f"src/guards.ts#{wrong}" not in certain, src


def test_a_union_links_only_a_member_every_type_has_from_one_declaration(edges):
    """``getText`` is ``TextNode``'s own for one member of the union and ``BaseNode``'s for the
    other: neither is certain. A class merged with an interface that redeclares ``getParent``
    does not reach the base class's."""
    parent_of = {d for s, d, k, c in edges if s == "src/points.ts#parentOf" and c == "certain"}
    assert not parent_of & {"src/points.ts#TextNode.getText", "src/points.ts#BaseNode.getText"}
    assert ("src/points.ts#mergedParent", "src/points.ts#BaseNode.getParent", "calls", "certain") not in edges


def test_a_type_parameter_never_stands_for_the_class_of_its_name(edges):
    assert ("src/nodes.ts#shadowed", "src/nodes.ts#Item.remove", "calls", "certain") not in edges


def test_a_returned_type_parameter_is_never_read_as_its_constraint_where_it_is_another(edges):
    """``getNodeByKey<TextNode>()`` returns a TextNode (whose ``remove`` overrides the base's), and
    ``identity(text)`` returns what its argument is: neither is the constraint's member."""
    assert ("src/nodes.ts#byKey", "src/nodes.ts#BaseNode.remove", "calls", "certain") not in edges
    assert ("src/nodes.ts#passes", "src/nodes.ts#BaseNode.remove", "calls", "certain") not in edges


def test_new_this_in_a_method_that_declares_this_is_not_the_class(edges):
    """``static send(this: Made<T>)``: ``new this()`` constructs what ``Made<T>`` says (a subclass,
    supabase storage's events), not ``Event`` itself."""
    assert ("src/jobs.ts#Event.send", "src/jobs.ts#Event", "calls", "certain") not in edges


def test_a_collection_of_the_repo_with_its_own_map_gives_no_elements(edges):
    """``this.keys().map((key) => key.trim())``: ``keys()`` returns a class of the repo, not an
    array, so its ``map``'s callback parameter is what that ``map`` declares (a string), and no
    edge of the element kind is made."""
    made = {(s, t) for s, t, kind, _ in edges if s == "src/caches.ts#EntryCache.keyed" and kind == "calls"}
    assert ("src/caches.ts#EntryCache.keyed", "src/caches.ts#Collection.map") in made
    assert not {t for _, t in made if t.startswith("src/caches.ts#Entry.")}
    assert ("src/ops.ts#untyped", "unresolved:other.unsubscribe", "calls", "maybe") in edges
    # an external component is kept, as a maybe to its package's placeholder
    assert ("src/App.tsx#LoadingPanel", "external:some-ui-kit:Tooltip", "renders", "maybe") in edges
    # a callback's binding holds inside the callback only: an untyped parameter of the same name
    # in another function nested in the same symbol is not given its type
    assert ("src/ops.ts#twoCallbacks", "unresolved:source.unsubscribe", "calls", "maybe") in edges
    # the handlers' `service` bindings are not one symbol-wide type: no Subscriber.info, no Logger.next
    assert not any(s == "src/ops.ts#jobHandlers" and d in ("src/stream.ts#Logger.next", "src/stream.ts#Subscriber.info")
                   for s, d, _, _ in edges)
    # a key an object spread after it may replace is not taken as the function it first named
    assert not any(s == "src/queries.ts#overridden" and c == "certain" for s, _, _, c in edges)
    # `new Blob()` with a local `type Blob`: a type alias makes no value, the constructor is the global
    assert ("src/ops.ts#viaAliasesAndLookalikes", "unresolved:new Blob", "calls", "maybe") in edges
    assert not any(d == "src/ops.ts#Blob" and k == "calls" for _, d, k, _ in edges)
    # a constant handed to an injector is no class: its result stays unknown, shown without the hint
    assert ("src/services.ts#notAClass", "unresolved:<inject()>.reload", "calls", "maybe") in edges
    # what is no element of a known array stays unknown: the callback of a collection's own `map`
    # (its parameter is a string), the keys of `for … in`, a method called on the array itself
    assert ("src/metadata.ts#notElements", "src/columns.ts#Names.map", "calls", "certain") in edges
    assert ("src/metadata.ts#notElements", "unresolved:key.createValueMap", "calls", "maybe") in edges
    assert not any(s == "src/metadata.ts#notElements" and k == "calls" and c == "certain" and d != "src/columns.ts#Names.map"
                   and d != "src/columns.ts#ColumnMetadata.getEntityValue" for s, d, k, c in edges)
    assert not any(s == "src/metadata.ts#loopOverField" and d.endswith("Names.map") for s, d, _, _ in edges)
    # a conditional's value is typed only where its other branch is null or the value tested
    assert ("src/tables.ts#QueryRunner.untested", "unresolved:table.addIndex", "calls", "maybe") in edges
    # `where(): this` is the receiver's type: not the base class's execute that the subclass overrides
    assert ("src/builders.ts#Repository.updated", "src/builders.ts#QueryBuilder.execute", "calls", "certain") not in edges
    # a callback's typed parameter holds in its callback, not in a loop of the same name beside it
    assert ("src/tables.ts#parametersStayInTheirCallback", "unresolved:table.addIndex", "calls", "maybe") in edges
    # a type guard narrows where it holds: the ternary's branch and the `&&` after it (to JsonType,
    # the override), never to the declared Type.convert there
    guarded = {(d, c) for s, d, _, c in edges if s == "src/builders.ts#convertGuarded"}
    assert ("src/builders.ts#JsonType.convert", "certain") in guarded
    assert not any(d == "src/builders.ts#Types.isJson" and c != "certain" for d, c in guarded)
    # a type parameter is read through its constraint inside its class only: where it is
    # instantiated (a subclass of Manager<SqlDriver>, a variable of that type) it may be a
    # subtype whose override the constraint hides (SqlPlatform.quote)
    for src in ("src/drivers.ts#SqlManager.quoted", "src/drivers.ts#outside"):
        assert not any(s == src and d.endswith("Platform.quote") and c == "certain" for s, d, _, c in edges)
    # host elements are not components
    assert not any(k == "renders" and "section" in d for _, d, k, _ in edges)


@pytest.mark.parametrize(
    ("src", "local"),
    [
        ("src/shadows.ts#duplicate", "format"),  # a nested const, declared after the closure calling it
        ("src/shadows.ts#withParameter", "flush"),  # a parameter
        ("src/shadows.ts#withNestedDeclaration", "flush"),  # a function declared in the body
        ("src/shadows.ts#withLoopAndDestructuring", "flush"),  # for (const flush of …)
    ],
)
def test_a_local_name_hides_the_module_binding_of_the_same_name(edges, src, local):
    """The call goes to the local (a checker finds no symbol for it): a maybe placeholder named
    like any other local's, never a certain edge to the module's symbol of that name."""
    assert (src, "unresolved:" + local, "calls", "maybe") in edges
    assert (src, f"src/shadows.ts#{local}", "calls", "certain") not in edges


def test_a_local_binding_holds_in_its_own_block_and_function_only(edges):
    # `logger` the parameter has a method of its own; the imported `logger` is Logger's instance
    assert ("src/shadows.ts#withParameter", "unresolved:logger.info", "calls", "maybe") in edges
    assert ("src/shadows.ts#withParameter", "src/stream.ts#Logger.info", "calls", "certain") not in edges
    # `const { format } = options` reads the parameter's member, not the module's function
    assert ("src/shadows.ts#withLoopAndDestructuring", "unresolved:options.format", "calls", "maybe") in edges
    # outside the `if` block that declares its own `flush`, the module's functions are called
    for dst in ("src/shadows.ts#flush", "src/shadows.ts#format", "src/stream.ts#Logger.info"):
        assert ("src/shadows.ts#outsideTheBlock", dst, "calls", "certain") in edges
    assert ("src/shadows.ts#outsideTheBlock", "unresolved:flush", "calls", "maybe") in edges


def test_a_block_of_its_own_require_leaves_the_module_binding_to_the_rest(edges):
    assert ("src/shadows.ts#afterOwnRequire", "src/stream.ts#Logger.info", "calls", "certain") in edges
    assert ("src/shadows.ts#withOwnRequire", "unresolved:<require()>.anything", "calls", "maybe") in edges


def test_modules_loaded_together_bind_each_pattern_element():
    """``const [{ a }, { b: c }] = await Promise.all([import("./x"), import("./y")])`` (formbricks'
    lazily loaded CSV import): each element binds its own module's exports."""
    source = (b'export async function f() {\n'
              b'  const [{ a }, { b: c }, whole] = await Promise.all([import("./x"), import("./y"), import("./z")]);\n'
              b'}\n')
    records = {r.specifier: r.bindings for r in extract_file("src/f.ts", source).imports}
    assert records == {"./x": {"a": "a"}, "./y": {"c": "b"}, "./z": {"whole": "*"}}


def test_a_component_is_a_value_not_a_type_or_a_local_of_its_name(edges):
    # the import's component, not the interface merged with it
    assert ("src/gallery.tsx#Gallery", "src/Panel.tsx#Panel", "renders", "certain") in edges
    # the decorator's parameter, not the file's `type Story`
    assert ("src/gallery.tsx#decorators", "unresolved:Story", "renders", "maybe") in edges
    assert not any(k == "renders" and d in ("src/gallery.tsx#Story", "src/gallery.tsx#Frame") for _, d, k, _ in edges)


def test_a_static_and_an_instance_method_of_one_name_each_call_from_their_own_body():
    """supabase storage's queue ``Event``: ``static send()`` and, four members later, ``send()``.
    The second body's calls belong to the method, not to the class (nor to the members between)."""
    source = (b"export class Job {\n  static send(): void { a(); }\n  static other(): void { b(); }\n"
              b"  send(): void { c(); }\n}\nfunction a() {}\nfunction b() {}\nfunction c() {}\n")
    extraction = extract_file("src/job.ts", source)
    callers = {(call.caller, call.callee) for call in extraction.calls}
    assert callers == {("Job.send", "a"), ("Job.other", "b"), ("Job.send", "c")}
    # the second body is told apart, for readers of the extraction that place a byte in a symbol
    assert [(source[start:end].split(b"(")[0], q) for start, end, q in extraction.apart] == [(b"send", "Job.send")]
    assert next(s for s in extraction.symbols if s.qualified_name == "Job.send").end_line == 2


def test_jsx_is_read_in_tsx_only_and_lower_case_tags_are_hosts():
    source = b"export function A() { return <div><B /><x.y /><C.D></C.D></div>; }\n"
    assert sorted(r[1] for r in extract_file("a.tsx", source).renders) == ["B", "C.D", "x.y"]
    assert extract_file("a.ts", b"export const f = (a: number) => <number>a;\n").renders == []


def test_super_and_typed_callbacks_in_the_extraction():
    source = (b"class A extends B { constructor() { super(1); } m() { super.m(); } }\n"
              b"export function f() { g((x, y) => { x.run(); y.stop(); }); }\n")
    calls = {(c.caller, c.callee) for c in extract_file("a.ts", source).calls}
    assert ("A.constructor", "super") in calls and ("A.m", "super.m") in calls
    assert ("f", "<g(0)(0)>.run") in calls and ("f", "<g(0)(1)>.stop") in calls


def test_renders_edges_are_stored_and_replaced(conn, tmp_path: Path):
    repo = tmp_path / "inferred"
    shutil.copytree(INFERRED, repo)
    graph_index.index_static_graph(conn, repo, repo="inferred-store")

    def renders() -> set[str]:
        rows = conn.execute(
            "SELECT n.qualified_name FROM code_relationships r JOIN ast_nodes n ON n.id = r.dst_id"
            " WHERE r.repo = %s AND r.kind = 'renders' AND r.confidence = 'certain'", ("inferred-store",)).fetchall()
        return {r["qualified_name"] for r in rows}

    assert renders() == {"Header", "Panel", "Empty", "Spinner"}
    app = repo / "src" / "App.tsx"
    app.write_text(app.read_text().replace("<Empty />", "null"))
    graph_index.index_static_graph(conn, repo, repo="inferred-store")
    assert renders() == {"Header", "Panel", "Spinner"}


def test_await_of_a_call_with_type_arguments_is_a_call():
    """tree-sitter-typescript reads ``await f<T>(x)`` as ``(await f)<T>(x)``: still a call of ``f``."""
    source = b"async function f() { const { q } = db; await q<X>(1); await db.run<Y>(); }\n"
    for path in ("a.ts", "a.tsx"):
        calls = {(c.caller, c.callee) for c in extract_file(path, source).calls}
        assert ("f", "db.q") in calls and ("f", "db.run") in calls, path


def test_a_returned_object_names_only_what_the_function_does_not_bind_itself():
    source = (b"export function touch() {}\n"
              b"export const useA = () => { const touch = 1; return { touch }; };\n"
              b"export function useB(touch) { return { touch }; }\n"
              b"export function useC() { const f = () => { return { touch }; }; return f; }\n"
              b"export function useD() { return { touch }; }\n")
    exports = extract_file("a.ts", source).exports
    assert exports["useD().touch"] == "touch"
    assert not any(k.startswith(("useA()", "useB()", "useC()")) for k in exports)


@pytest.mark.parametrize("source", [
    b"function f(node: A) { if (!isText(node) || ) { return } node.m() }",
    b"function f(node: A) { if (!isText(node)) node.m() else }",
    b"function f(node: A) { x = !isText(node) || ; node.m(); invariant(isText(node), ; node.m()",
    b"function f(node: A) { if (!(node instanceof B) return; node.m() }",
    b"function f(node: A) { isText(node) && ; node.m(); ! isText(node) ? : node.m() }",
])
def test_guards_in_a_tree_recovered_from_errors_leave_the_extraction_standing(source):
    """Narrowing reads operators and operands that a tree recovered from a syntax error may lack:
    the file's calls are still extracted (its error is the parse's, not a failed extraction)."""
    extraction = extract_file("broken.ts", source)
    assert not (extraction.error or "").startswith("extraction failed")
    assert any(call.callee.endswith(".m") for call in extraction.calls)


def test_union_aliases_that_name_each_other_end(tmp_path):
    """``type A = B | C`` with ``type B = A | D``, or ``type E = E | C``, do not compile, and a
    repository may hold them anyway: linking ends (no recursion without bound) and links no
    member through them."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text(
        "export type A = B | C\nexport type B = A | D\nexport type E = E | C\n"
        "export class C { m(): void {} }\nexport class D { m(): void {} }\n"
        "export function f(x: A, y: B, e: E): void {\n  x.m()\n  y.m()\n  e.m()\n}\n")
    static, _ = analyze(tmp_path, repo="cyclic")
    g = static.graph
    certain = [(s, t) for s, t, d in g.edges(data=True) if d["kind"] == "calls" and d["confidence"] == "certain"]
    assert not [t for _, t in certain if g.nodes[t].get("qualified_name", "").endswith(".m")]


@pytest.mark.parametrize(("condition", "then", "after", "callee"), [
    (" && ".join(["isText(node)"] * 20_000), "node.getText()", "", "<isText(is0)?BaseNode>.getText"),
    (" || ".join(["!isText(node)"] * 20_000), "return", "node.getText()", "<isText(is0)?BaseNode>.getText"),
    (" || ".join(["!(node instanceof TextNode)"] * 20_000), "return", "node.getText()", "TextNode.getText"),
])
def test_guards_in_a_chain_of_thousands_stay_linear(condition, then, after, callee):
    """Generated code may chain thousands of guards in one condition. tree-sitter's
    ``Node.parent`` walks down from the root, and a query pattern naming a binary operator keeps
    a state alive through every left operand, so climbing from each guard was quadratic (a
    20,000-term chain took 13 s); the conditions' parents are now read once from the query
    (``ts_narrowing._ChainParents``), and the guards nearest the ``if`` still narrow it."""
    import time

    source = f"export function f(node: BaseNode): void {{\n  if ({condition}) {{ {then} }}\n  {after}\n}}\n"
    started = time.perf_counter()
    extraction = extract_file("long.ts", source.encode())
    assert time.perf_counter() - started < 6.0
    assert callee in [call.callee for call in extraction.calls]


def _typed_chain(lines: int) -> str:
    """A function whose variables are each typed by a call on the one before (a generated
    script's shape): ``const a1 = a0.m(); const a2 = a1.m(); …``."""
    body = "\n".join(f"  const a{i + 1} = a{i}.m();" for i in range(lines))
    return f"export class B {{ m(): B {{ return this }} }}\nexport function h(): void {{\n  const a0 = new B();\n{body}\n}}\n"


@pytest.mark.timeout(60)
def test_variables_typed_through_each_other_stay_linear(tmp_path):
    """Each such line nested the reference of the line before (``<<<B.m()>.m()>.m()>.m``): past
    the depth the linker resolves, 24 lines took minutes to link and 800 lines made references of
    4.8 kB each. References nest at most ``MAX_NESTING`` deep; the calls nearest the start still
    resolve."""
    import time

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text(_typed_chain(5_000))
    started = time.perf_counter()
    static, _ = analyze(tmp_path, repo="chain")
    assert time.perf_counter() - started < 20.0
    extraction = extract_file("src/a.ts", _typed_chain(5_000).encode())
    assert max(len(call.callee) for call in extraction.calls) < 200
    g = static.graph
    certain = {g.nodes[t].get("qualified_name") for s, t, d in g.edges(data=True)
               if d["kind"] == "calls" and d["confidence"] == "certain"}
    assert "B.m" in certain


@pytest.mark.timeout(60)
def test_a_deeply_nested_reference_is_resolved_once_per_level(tmp_path, monkeypatch):
    """A reference nested past the linker's depth (written here with the extractor's bound
    lifted) made each level resolve the one inside it along two ways, again and again: 24
    levels did not finish in minutes. Each resolution is now worked out once per linker
    (``linking_members.resolved_once``)."""
    from cogo_pipelines.indexing import ts_types

    monkeypatch.setattr(ts_types, "_TOO_DEEP", "<" * 1_000)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text(_typed_chain(40))
    assert max(len(c.callee) for c in extract_file("src/a.ts", _typed_chain(40).encode()).calls) > 200
    static, _ = analyze(tmp_path, repo="nested")
    assert any(d["kind"] == "calls" for _, _, d in static.graph.edges(data=True))


@pytest.mark.timeout(120)
def test_callbacks_nested_thousands_deep_stay_linear():
    """The query's cost grows with the nesting times the size: callbacks nested 5,000 deep took
    tens of seconds (minutes at 16,000). Patterns start at most ``MAX_QUERY_DEPTH`` tree levels
    down (no real file has a capture below 150); the calls above that depth are still read."""
    import time

    depth = 5_000
    source = ("declare function each(cb: (x: Item) => void): void\nexport class Item { m(): void {} }\n"
              "export function walk(): void {\n" + "each((x) => { x.m(); " * depth + "})" * depth + "\n}\n")
    started = time.perf_counter()
    extraction = extract_file("deep.ts", source.encode())
    assert time.perf_counter() - started < 10.0
    assert "<each(0)(0)>.m" in [call.callee for call in extraction.calls]


def test_an_undeclared_return_of_one_call_is_that_calls_and_a_generators_is_not():
    """``make() { return build() }`` returns what ``build`` returns (``<build()>``, read by the
    linker in ``make``'s scope); a generator returns its iterator, and a body with another
    ``return`` may return something else: neither is typed so."""
    source = (b"export function make() { return build() }\n"
              b"export function* gen() { return build() }\n"
              b"export class K { *items() { return build() } plain() { return build() } }\n"
              b"export function either(a: boolean) { if (a) { return other() } return build() }\n"
              b"export const pick = (a: boolean) => (a ? build() : null)\n"
              b"declare function build(): Thing\ndeclare function other(): Other\n")
    types = extract_file("a.ts", source).types
    assert types["make()"] == types["K.plain()"] == types["pick()"] == "<build()>"
    assert "gen()" not in types and "K.items()" not in types and "either()" not in types


@pytest.mark.timeout(120)
def test_thousands_of_callbacks_and_guards_binding_one_name_stay_linear():
    """A minified bundle binds ``e`` in thousands of callbacks and guards. Each pass over the
    file (callbacks, guards) adds the ranges that bind it and looks it up in between, from the
    top of the file again: the whole order of ranges was rebuilt at every lookup after an
    addition (3,000 such functions, 400 kB: 32 s; 2.3 s now, the same extraction). Callbacks
    and guards are still typed."""
    import time

    source = "".join(f"export function f{i}(t: Item[], u: unknown) {{ t.forEach(e=>e.a()); if(isA(u))u.b(); "
                     "return t.map(e=>e.c()).filter(e=>isB(e)&&e.d()) }" for i in range(2_000))
    source += "declare function isA(x: unknown): x is A; declare function isB(x: unknown): x is B;"
    started = time.process_time()
    extraction = extract_file("bundle.ts", source.encode())
    assert time.process_time() - started < 6.0
    last = {call.callee for call in extraction.calls if call.caller == "f1999"}
    assert {"Item.a", "<isA(is0)>.b", "Item.c", "<isB(is0)?<<t.map()>.filter(0)(0)>>.d"} <= last
