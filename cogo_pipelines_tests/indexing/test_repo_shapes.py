"""Repository shapes met on real repos nobody here wrote (a pnpm/turbo monorepo, a Vue app):
each test builds the smallest tree that showed the problem and runs the real extractor."""

from __future__ import annotations

import json
from pathlib import Path

from cogo_pipelines.indexing.graph import StaticGraph
from cogo_pipelines.indexing.static_graph import analyze
from cogo_pipelines.pipeline.policy import policy_for


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _graph(root: Path) -> tuple[StaticGraph, set[tuple[str, str]]]:
    """The graph of ``root`` under its own policy, and its module edges as (from, to) pairs."""
    static, _ = analyze(root, policy=policy_for(root, None))
    return static, {(e.src, e.dst) for e in static.module_edges}


def _pairs(root: Path) -> set[tuple[str, str]]:
    return _graph(root)[1]


def _turbo_monorepo(root: Path) -> None:
    """create-t3-turbo's shape: no root tsconfig, each app with its own ``~/*`` paths, workspace
    packages whose ``exports`` put an unbuilt ``types`` declaration before the source."""
    db_exports = {".": {"types": "./dist/index.d.ts", "default": "./src/index.ts"},
                  "./schema": {"types": "./dist/schema.d.ts", "default": "./src/schema.ts"}}
    _write(root, {
        "package.json": json.dumps({"name": "monorepo", "private": True}),
        "packages/db/package.json": json.dumps({"name": "@acme/db", "exports": db_exports}),
        "packages/db/src/index.ts": "export const db = {};\n",
        "packages/db/src/schema.ts": "export const Post = {};\n",
        "packages/db/tsconfig.json": '{"extends": "@acme/tsconfig/base.json", "include": ["src"]}',
        "packages/legacy/package.json": json.dumps({"name": "@acme/legacy", "types": "./dist/index.d.ts",
                                                    "main": "./src/index.ts"}),
        "packages/legacy/src/index.ts": "export const old = 1;\n",
        "apps/web/package.json": json.dumps({"name": "@acme/web"}),
        "apps/web/tsconfig.json": '{"compilerOptions": {"paths": {"~/*": ["./src/*"]}}}',
        "apps/web/src/env.ts": "export const env = {};\n",
        "apps/web/src/app/page.tsx": ("import { db } from '@acme/db';\nimport { Post } from '@acme/db/schema';\n"
                                      "import { old } from '@acme/legacy';\nimport { env } from '~/env';\n"),
        "apps/admin/tsconfig.json": '{"compilerOptions": {"paths": {"~/*": ["./lib/*"]}}}',
        "apps/admin/lib/env.ts": "export const env = {};\n",
        "apps/admin/src/main.ts": "import { env } from '~/env';\n",
    })


def test_workspace_exports_fall_back_from_an_unbuilt_types_condition(tmp_path: Path):
    _turbo_monorepo(tmp_path)
    pairs = _pairs(tmp_path)
    assert ("apps/web/src/app/page.tsx", "packages/db/src/index.ts") in pairs
    assert ("apps/web/src/app/page.tsx", "packages/db/src/schema.ts") in pairs
    assert ("apps/web/src/app/page.tsx", "packages/legacy/src/index.ts") in pairs  # "main" after a missing "types"


def test_built_declarations_lose_to_the_source_they_declare(tmp_path: Path):
    _turbo_monorepo(tmp_path)
    _write(tmp_path, {"packages/db/dist/index.d.ts": "export declare const db: {};\n"})
    static, _ = analyze(tmp_path, policy=policy_for(tmp_path, None))
    targets = {e.dst for e in static.module_edges if e.src == "apps/web/src/app/page.tsx"}
    assert "packages/db/src/index.ts" in targets and "packages/db/dist/index.d.ts" not in targets


def test_each_package_resolves_paths_with_its_nearest_tsconfig(tmp_path: Path):
    _turbo_monorepo(tmp_path)
    pairs = _pairs(tmp_path)
    assert ("apps/web/src/app/page.tsx", "apps/web/src/env.ts") in pairs
    assert ("apps/admin/src/main.ts", "apps/admin/lib/env.ts") in pairs  # same alias, another package
    static, _ = analyze(tmp_path, policy=policy_for(tmp_path, None))
    assert not static.unresolved


def _component_app(root: Path) -> None:
    """A Vue + Svelte app: components import TypeScript modules and other components, and a
    TypeScript module imports a component (``main.ts`` mounts ``App.vue``)."""
    _write(root, {
        "tsconfig.json": '{"compilerOptions": {"paths": {"~/*": ["src/*"]}}}',
        "src/main.ts": "import App from './App.vue';\nimport Card from '~/components/Card.svelte';\nexport { App, Card };\n",
        "src/App.vue": ("<template>\n  <Greeting :name=\"user\" />\n  <p>import x from './nowhere'</p>\n</template>\n\n"
                        "<script setup lang=\"ts\">\nimport Greeting from './components/Greeting.vue';\n"
                        "import { loadUser } from '~/lib/user';\n\nfunction refresh(): void {\n  loadUser();\n}\n"
                        "</script>\n\n<style scoped>\np { color: red; }\n</style>\n"),
        "src/components/Greeting.vue": ("<script lang=\"ts\">\nimport { format } from '../lib/format';\n"
                                        "export default { props: ['name'], methods: { format } };\n</script>\n"
                                        "<template><b>{{ format(name) }}</b></template>\n"),
        "src/components/Card.svelte": ("<script context=\"module\" lang=\"ts\">\nexport const prerender = true;\n</script>\n"
                                       "<script lang=\"ts\">\nimport { format } from '../lib/format';\n"
                                       "export let title: string;\n</script>\n<h1>{format(title)}</h1>\n"),
        "src/lib/user.ts": "export function loadUser() { return { name: 'a' }; }\n",
        "src/lib/format.ts": "export function format(s: string) { return s.trim(); }\n",
    })


def test_vue_and_svelte_components_are_modules_of_the_graph(tmp_path: Path):
    _component_app(tmp_path)
    static, pairs = _graph(tmp_path)
    assert {("src/main.ts", "src/App.vue"), ("src/main.ts", "src/components/Card.svelte"),
            ("src/App.vue", "src/components/Greeting.vue"), ("src/App.vue", "src/lib/user.ts"),
            ("src/components/Greeting.vue", "src/lib/format.ts"),
            ("src/components/Card.svelte", "src/lib/format.ts")} <= pairs
    assert not static.unresolved  # the template's "import x from './nowhere'" is text, not code
    refresh_id, refresh = next((i, n) for i, n in static.nodes.items() if n["name"] == "refresh")
    assert (refresh["path"], refresh["start_line"]) == ("src/App.vue", 10)  # lines of the real file
    callees = {static.nodes[dst]["name"] for src, dst, key in static.edges if src == refresh_id and key[0] == "calls"}
    assert "loadUser" in callees


def test_a_template_renders_the_components_its_script_binds(tmp_path: Path):
    """sveltejs/realworld: 17 component tags in templates, 0 renders edges before (JSX had
    them). A tag renders what the script imports or declares; a `<script setup>` component is its
    file's default export; HTML elements, web components and globals (bound nowhere) are not
    edges, nor a tag inside an HTML comment."""
    _write(tmp_path, {
        "tsconfig.json": "{}",
        "src/App.vue": ("<script setup lang=\"ts\">\nimport TheFooter from './TheFooter.vue';\n"
                        "import Panel from './Panel.svelte';\n</script>\n<template>\n  <!-- <Panel/> was here -->\n"
                        "  <div>\n    <the-footer />\n    <RouterView />\n    <my-widget></my-widget>\n  </div>\n</template>\n"),
        "src/TheFooter.vue": "<script setup lang=\"ts\">\nconst year = 2026;\n</script>\n<template>{{ year }}</template>\n",
        "src/Panel.svelte": ("<script lang=\"ts\">\nimport Card from './Card.svelte';\nimport { ui } from './ui';\n</script>\n"
                             "<Card title=\"a\" />\n<ui.Badge />\n<Card></Card>\n<svelte:self />\n"),
        "src/Card.svelte": "<script lang=\"ts\">\nexport let title: string;\n</script>\n<h1>{title}</h1>\n",
        "src/ui.ts": "export const ui = { Badge: {} };\n",
    })
    static, _ = _graph(tmp_path)

    def label(node: str) -> str:
        d = static.nodes.get(node, {})
        return d.get("path", node) if d.get("kind", "file") == "file" else f"{d['path']}#{d['qualified_name']}"

    renders = {(label(s), label(t), d["confidence"], static.nodes.get(s, {}).get("start_line"))
               for (s, t, _), d in static.edges.items() if d["kind"] == "renders"}
    assert {(s, t, c) for s, t, c, _ in renders} == {
        ("src/App.vue", "src/TheFooter.vue", "certain"),  # <the-footer> is TheFooter in Vue
        ("src/Panel.svelte", "src/Card.svelte", "certain"),  # once, though used twice
        ("src/Panel.svelte", "unresolved:ui.Badge", "maybe"),  # an object's member, as in JSX
    }


def test_vue_global_components_render_through_components_d_ts(tmp_path: Path):
    """antfu-collective/vitesse: every component is auto-imported (unplugin-vue-components), so
    no script names them; the generated components.d.ts declares each in `GlobalComponents`.
    Before, 0 of its 9 template uses were edges; now 9 (3 of its own components, 6 of
    vue-router's, as `maybe` placeholders like a package's JSX component)."""
    _write(tmp_path, {
        "tsconfig.json": "{}",
        "src/components.d.ts": ("export {}\ndeclare module 'vue' {\n  export interface GlobalComponents {\n"
                                "    RouterView: typeof import('vue-router')['RouterView']\n"
                                "    TheFooter: typeof import('./components/TheFooter.vue')['default']\n"
                                "    TheCounter: typeof import('./components/TheCounter.vue').default\n  }\n}\n"),
        "src/types.d.ts": "export interface Registry {\n  Other: typeof import('./components/TheCounter.vue')['default']\n}\n",
        "src/layouts/default.vue": ("<template>\n  <main>\n    <RouterView />\n    <the-footer />\n    <TheCounter />\n"
                                    "    <Other />\n    <my-widget />\n  </main>\n</template>\n"),
        "src/components/TheFooter.vue": "<template><footer>hi</footer></template>\n",
        "src/components/TheCounter.vue": "<script setup lang=\"ts\">\nconst n = 1;\n</script>\n<template>{{ n }}</template>\n",
    })
    static, _ = _graph(tmp_path)
    path = {i: (n["path"] if n.get("kind") == "file" else i) for i, n in static.nodes.items()}
    renders = {(path.get(s, s), path.get(t, t), d["confidence"]) for (s, t, _), d in static.edges.items()
               if d["kind"] == "renders"}
    assert renders == {
        ("src/layouts/default.vue", "src/components/TheFooter.vue", "certain"),  # <the-footer>
        ("src/layouts/default.vue", "src/components/TheCounter.vue", "certain"),
        ("src/layouts/default.vue", "external:vue-router:RouterView", "maybe"),
    }  # <Other/> is declared in another interface, <my-widget> nowhere: no edge


def test_components_are_chunked_with_their_template(tmp_path: Path):
    from cogo_pipelines.indexing import sources, typescript
    from cogo_pipelines.indexing.chunking import chunk_file

    _component_app(tmp_path)
    file = next(f for f in sources.scan(tmp_path, policy_for(tmp_path, None)).files if f.path == "src/App.vue")
    data = (tmp_path / file.path).read_bytes()
    extraction, tree = typescript.extract_tree(file.path, data)
    chunks = chunk_file(file, data, extraction, tree).chunks
    refresh = next(c for c in chunks if c.symbol and c.symbol.endswith("refresh"))
    assert "loadUser();" in refresh.content and refresh.start_line == 10
    assert any("<Greeting" in c.content for c in chunks)  # the template stays searchable


def test_deno_workspace_members_and_import_maps(tmp_path: Path):
    """fresh's shape: a Deno workspace whose root import map aliases a member published on JSR,
    members named by their own ``deno.json``, ``.ts`` extensions written out, URL imports."""
    _write(tmp_path, {
        "deno.json": json.dumps({"workspace": ["./packages/*", "./www"],
                                 "imports": {"fresh": "jsr:@fresh/core@^2.0.0", "@std/path": "jsr:@std/path@1",
                                             "$utils/": "./www/utils/"}}),
        "packages/core/deno.json": json.dumps({"name": "@fresh/core", "version": "2.0.0",
                                               "exports": {".": "./src/mod.ts", "./runtime": "./src/runtime.ts"},
                                               "imports": {"preact": "npm:preact@^10"}}),
        "packages/core/src/mod.ts": "export { h } from 'preact';\nexport * from './runtime.ts';\n",
        "packages/core/src/runtime.ts": "export const IS_BROWSER = false;\n",
        "packages/vite/deno.jsonc": '// a member with comments\n{"name": "@fresh/plugin-vite", "exports": "./mod.ts"}\n',
        "packages/vite/mod.ts": "import { IS_BROWSER } from 'jsr:@fresh/core@^2/runtime';\nexport const x = IS_BROWSER;\n",
        "www/utils/slug.ts": "export const slug = (s: string) => s;\n",
        "www/main.ts": ("import { App } from 'fresh';\nimport { IS_BROWSER } from 'fresh/runtime';\n"
                        "import { join } from '@std/path';\nimport { x } from '@fresh/plugin-vite';\n"
                        "import { slug } from '$utils/slug.ts';\nimport { serve } from 'https://deno.land/std/http/server.ts';\n"),
    })
    static, pairs = _graph(tmp_path)
    assert {("www/main.ts", "packages/core/src/mod.ts"), ("www/main.ts", "packages/core/src/runtime.ts"),
            ("www/main.ts", "packages/vite/mod.ts"), ("www/main.ts", "www/utils/slug.ts"),
            ("packages/vite/mod.ts", "packages/core/src/runtime.ts"),
            ("packages/core/src/mod.ts", "packages/core/src/runtime.ts")} <= pairs
    assert not static.unresolved
    assert {"@std/path", "preact"} <= set(static.external) and not {"fresh", "@fresh/core"} & set(static.external)


def test_sveltekit_lib_alias_without_the_generated_tsconfig(tmp_path: Path):
    _write(tmp_path, {
        "apps/site/svelte.config.js": "export default { kit: {} };\n",
        "apps/site/tsconfig.json": '{"extends": "./.svelte-kit/tsconfig.json"}',
        "apps/site/src/lib/api.ts": "export const get = () => 1;\n",
        "apps/site/src/lib/List.svelte": "<script lang=\"ts\">\nimport { get } from '$lib/api';\n</script>\n",
        "apps/site/src/routes/+page.svelte": ("<script>\nimport List from '$lib/List.svelte';\n"
                                             "import { goto } from '$app/navigation';\nimport { nope } from '$lib/nope';\n</script>\n"),
    })
    static, pairs = _graph(tmp_path)
    assert {("apps/site/src/routes/+page.svelte", "apps/site/src/lib/List.svelte"),
            ("apps/site/src/lib/List.svelte", "apps/site/src/lib/api.ts")} <= pairs
    assert [(p, s) for p, s, _ in static.unresolved] == [("apps/site/src/routes/+page.svelte", "$lib/nope")]


def test_a_package_tsconfig_without_paths_keeps_the_root_paths(tmp_path: Path):
    """effect's shape: the root maps ``@org/*``, each package has a solution-style tsconfig."""
    _write(tmp_path, {
        "tsconfig.json": '{"compilerOptions": {"paths": {"@org/core/*": ["./packages/core/src/*"]}}}',
        "packages/core/src/a.ts": "export const a = 1;\n",
        "packages/app/tsconfig.json": '{"files": [], "references": [{"path": "tsconfig.src.json"}]}',
        "packages/app/src/main.ts": "import { a } from '@org/core/a';\n",
    })
    assert ("packages/app/src/main.ts", "packages/core/src/a.ts") in _pairs(tmp_path)


def test_project_references_map_a_package_build_back_to_its_sources(tmp_path: Path):
    """A tsc-built monorepo (``references``, ``composite``): packages publish ``dist/`` (absent in a
    checkout, or built and gitignored) and tsc redirects imports of them to their sources."""
    lib_manifest = {"name": "@acme/lib", "main": "./dist/index.js", "types": "./dist/index.d.ts",
                    "exports": {".": {"types": "./dist/index.d.ts", "import": "./dist/index.js"},
                                "./utils": "./dist/utils/index.js"},
                    "imports": {"#internal/*": "./dist/internal/*.js"}}
    _write(tmp_path, {
        "tsconfig.json": '{"files": [], "references": [{"path": "packages/lib"}, {"path": "packages/app"}]}',
        "tsconfig.base.json": '{"compilerOptions": {"composite": true, "outDir": "${configDir}/dist", "rootDir": "${configDir}/src"}}',
        "packages/lib/package.json": json.dumps(lib_manifest),
        "packages/lib/tsconfig.json": '{"extends": "../../tsconfig.base.json"}',
        "packages/lib/src/index.ts": "export * from '#internal/core';\n",
        "packages/lib/src/internal/core.ts": "export const core = 1;\n",
        "packages/lib/src/utils/index.ts": "export const util = 1;\n",
        "packages/legacy/package.json": json.dumps({"name": "@acme/legacy", "main": "lib/index.js"}),
        "packages/legacy/tsconfig.build.json": '{"compilerOptions": {"outDir": "lib", "rootDir": "source"}}',
        "packages/legacy/source/index.ts": "export const legacy = 1;\n",
        "packages/app/package.json": json.dumps({"name": "@acme/app"}),
        "packages/app/tsconfig.json": '{"extends": "../../tsconfig.base.json", "references": [{"path": "../lib"}]}',
        "packages/app/src/main.ts": ("import { core } from '@acme/lib';\nimport { util } from '@acme/lib/utils';\n"
                                     "import { legacy } from '@acme/legacy';\nimport { b } from '@acme/bundled';\n"),
        "packages/lib/test/core.test.ts": "import { core } from '../dist/internal/core.js';\n",  # tests import the build
        "packages/bundled/package.json": json.dumps({"name": "@acme/bundled", "exports": {".": "./dist/index.mjs"}}),
        "packages/bundled/src/index.ts": "export const b = 1;\n",  # a bundler's package: no outDir to read
    })
    pairs = _pairs(tmp_path)
    assert {("packages/lib/test/core.test.ts", "packages/lib/src/internal/core.ts"),
            ("packages/app/src/main.ts", "packages/bundled/src/index.ts"),
            ("packages/app/src/main.ts", "packages/lib/src/index.ts"),
            ("packages/app/src/main.ts", "packages/lib/src/utils/index.ts"),
            ("packages/app/src/main.ts", "packages/legacy/source/index.ts"),
            ("packages/lib/src/index.ts", "packages/lib/src/internal/core.ts")} <= pairs
    _write(tmp_path, {"packages/lib/dist/index.d.ts": "export declare const core: 1;\n",
                      "packages/lib/dist/index.js": "export const core = 1;\n"})
    assert ("packages/app/src/main.ts", "packages/lib/src/index.ts") in _pairs(tmp_path)  # built: still the source


def test_a_nul_written_into_a_string_is_source_not_binary():
    """pnpm's verifyLockfileResolutionsCache.ts keys a Set with a literal NUL in a template."""
    from cogo_pipelines.indexing.typescript import extract_file

    source = b"const key = `${a}\x00${b}`;\nexport function after(): number { return 1; }\n"
    extraction = extract_file("src/cache.ts", source)
    assert extraction.error is None and [s.name for s in extraction.symbols] == ["after"]
    assert extract_file("src/blob.ts", b"\x00\x01\x02\x03" * 64).error == "binary file (NUL bytes)"


def test_astro_frontmatter_and_scripts_are_code(tmp_path: Path):
    _write(tmp_path, {
        "src/pages/index.astro": ("---\nimport Layout from '../layouts/Layout.astro';\nimport { site } from '../lib/site';\n"
                                  "const title = site.name;\n---\n<Layout title={title}>\n  <h1>Welcome to the docs</h1>\n"
                                  "</Layout>\n<script>\nimport { track } from '../lib/analytics';\ntrack();\n</script>\n"),
        "src/layouts/Layout.astro": "---\nconst { title } = Astro.props;\n---\n<html><title>{title}</title><slot /></html>\n",
        "src/lib/site.ts": "export const site = { name: 'x' };\n",
        "src/lib/analytics.ts": "export function track() {}\n",
    })
    assert {("src/pages/index.astro", "src/layouts/Layout.astro"), ("src/pages/index.astro", "src/lib/site.ts"),
            ("src/pages/index.astro", "src/lib/analytics.ts")} <= _pairs(tmp_path)


def _shared_config_workspace(root: Path) -> None:
    """A pnpm workspace checked out without an install: the apps extend a shared config package
    (``@acme/tsconfig``) that only the workspace's globs lead to, and its ``~/*`` names each
    app's own src through ``${configDir}``."""
    _write(root, {
        "package.json": json.dumps({"name": "monorepo", "private": True}),
        "pnpm-workspace.yaml": "packages:\n  - apps/*\n  - tooling/*\n",
        "tooling/typescript/package.json": json.dumps({"name": "@acme/tsconfig"}),
        "tooling/typescript/base.json": '{"compilerOptions": {"allowJs": true, '
                                        '"paths": {"~/*": ["${configDir}/src/*"]}}}',
        "apps/web/package.json": json.dumps({"name": "@acme/web"}),
        "apps/web/tsconfig.json": '{"extends": "@acme/tsconfig/base.json", "include": ["src"]}',
        "apps/web/src/page.ts": "import { env } from '~/env';\nexport const page = env;\n",
        "apps/web/src/env.ts": "export const env = {};\n",
        "apps/api/package.json": json.dumps({"name": "@acme/api"}),
        "apps/api/tsconfig.json": '{"extends": "@acme/nothere/base.json", '
                                  '"compilerOptions": {"paths": {"@api/*": ["./src/*"]}}}',
        "apps/api/src/main.ts": "import { db } from '@api/db';\nexport const main = db;\n",
        "apps/api/src/db.ts": "export const db = {};\n",
    })


def test_a_shared_config_package_is_found_in_the_workspace_without_an_install(tmp_path: Path):
    from cogo_pipelines.indexing import tsconfig

    _shared_config_workspace(tmp_path)
    config = tsconfig.load(tmp_path / "apps/web/tsconfig.json")
    assert config.errors == [] and config.allow_js
    assert tmp_path.resolve() / "tooling/typescript/base.json" in config.chain
    assert config.paths == {"~/*": [f"{(tmp_path / 'apps/web').resolve()}/src/*"]}
    assert ("apps/web/src/page.ts", "apps/web/src/env.ts") in _pairs(tmp_path)


def test_a_package_config_problem_is_reported_with_the_graph(tmp_path: Path):
    _shared_config_workspace(tmp_path)
    static, pairs = _graph(tmp_path)
    assert ("apps/api/src/main.ts", "apps/api/src/db.ts") in pairs
    assert ("apps/api/tsconfig.json", "extends '@acme/nothere/base.json' not found") in static.errors


def test_a_config_problem_is_said_once_and_names_its_file_once(tmp_path: Path):
    """surjithctly/astroship: `extends: "astro/tsconfigs/base"` without an install was printed
    as "tsconfig.json: tsconfig.json: extends ..." by `cogo graph`, twice (as a note before the
    run and as a problem of the graph)."""
    from typer.testing import CliRunner

    from cogo_pipelines.cli import build_app

    _write(tmp_path, {"tsconfig.json": '{"extends": "astro/tsconfigs/base"}',
                      "src/a.ts": "import { b } from './b';\nexport const a = b;\n",
                      "src/b.ts": "export const b = 1;\n"})
    result = CliRunner().invoke(build_app(("graph",)), ["graph", str(tmp_path), "--no-store"])
    assert result.exit_code == 0 and result.stdout == "src/a.ts\tsrc/b.ts\timport\n"
    problem = "cogo graph: tsconfig.json: extends 'astro/tsconfigs/base' not found"
    assert result.stderr.splitlines().count(problem) == 1, result.stderr


def _legacy_js_monorepo(root: Path) -> None:
    """A monorepo where only one package's tsconfig (through the base it extends) allows
    JavaScript: its ``.js`` sources are linked both ways, another package's ``.js`` stays out."""
    _write(root, {
        "package.json": json.dumps({"name": "monorepo", "private": True, "workspaces": ["packages/*"]}),
        "tsconfig.json": '{"files": [], "references": [{"path": "packages/app"}, {"path": "packages/legacy"}]}',
        "tsconfig.js.json": '{"compilerOptions": {"allowJs": true, "checkJs": false}}',
        "packages/core/package.json": json.dumps({"name": "@acme/core", "exports": "./src/index.ts"}),
        "packages/core/src/index.ts": "export const core = 1;\n",
        "packages/legacy/package.json": json.dumps({"name": "@acme/legacy", "main": "./src/index.js"}),
        "packages/legacy/tsconfig.json": '{"extends": "../../tsconfig.js.json", "include": ["src"]}',
        "packages/legacy/src/index.js": "import { helper } from './helper.js';\nexport const old = helper();\n",
        "packages/legacy/src/helper.js": "import { core } from '@acme/core';\nexport function helper() { return core; }\n",
        "packages/app/package.json": json.dumps({"name": "@acme/app"}),
        "packages/app/tsconfig.json": '{"compilerOptions": {"strict": true}}',
        "packages/app/src/main.ts": "import { old } from '@acme/legacy';\nexport const x = old;\n",
        "packages/app/scripts/build.js": "import { x } from '../src/main';\n",
    })


def test_a_package_tsconfig_with_allow_js_takes_that_packages_js(tmp_path: Path):
    from cogo_pipelines.indexing import policy

    _legacy_js_monorepo(tmp_path)
    pairs = _pairs(tmp_path)
    assert {("packages/app/src/main.ts", "packages/legacy/src/index.js"),
            ("packages/legacy/src/index.js", "packages/legacy/src/helper.js"),
            ("packages/legacy/src/helper.js", "packages/core/src/index.ts")} <= pairs
    assert not any(src.startswith("packages/app/scripts/") for src, _ in pairs)  # no allowJs in packages/app
    prepared = policy.prepare(tmp_path)
    paths = {f.path for f in prepared.discovery.files}
    assert {"packages/legacy/src/index.js", "packages/legacy/src/helper.js"} <= paths
    assert "packages/app/scripts/build.js" not in paths
    assert prepared.discovery.indexable_left_out == {"packages/**/*.js": 1}  # the left-out one, counted
    assert prepared.policy.origins["include"] == "default + allowJs in packages/legacy/"


def test_a_package_tsconfig_can_turn_the_roots_allow_js_off(tmp_path: Path):
    from cogo_pipelines.indexing import policy

    _write(tmp_path, {
        "tsconfig.json": '{"compilerOptions": {"allowJs": true}}',
        "lib/a.js": "export const a = 1;\n",
        "tools/tsconfig.json": '{"compilerOptions": {"allowJs": false}}',
        "tools/gen.js": "import { a } from '../lib/a.js';\n",
        "tools/deep/tsconfig.json": '{"compilerOptions": {"noEmit": true}}',  # says nothing: tools/ decides
        "tools/deep/more.js": "export const more = 1;\n",
        "web/tsconfig.json": '{"compilerOptions": {"checkJs": false}}',  # checking off, JavaScript still in
        "web/b.js": "export const b = 1;\n",
    })
    prepared = policy.prepare(tmp_path)
    assert {f.path for f in prepared.discovery.files} == {"lib/a.js", "web/b.js"}
    assert prepared.discovery.indexable_left_out == {"tools/**/*.js": 2}
    assert prepared.policy.origins["include"] == "default + allowJs; not in tools/"


def _sveltekit_apps(root: Path) -> None:
    """Two SvelteKit apps whose aliases live in ``svelte.config.js`` (``kit.alias``), as in a
    fresh clone: no ``.svelte-kit/tsconfig.json`` yet. Both say ``$components``, each its own."""
    _write(root, {
        "apps/site/svelte.config.js": (
            "import adapter from '@sveltejs/adapter-auto';\nimport path from 'node:path';\n\n"
            "/** @type {import('@sveltejs/kit').Config} */\nconst config = {\n  kit: {\n    adapter: adapter(),\n"
            "    alias: {\n      $components: 'src/components',\n      '@/*': './src/*',\n"
            "      $utils: 'src/lib/utils/index.ts',\n      $icons: path.resolve('./src/icons'),\n    },\n  },\n};\n\n"
            "export default config;\n"),
        "apps/site/tsconfig.json": '{"extends": "./.svelte-kit/tsconfig.json"}',
        "apps/site/src/components/Card.svelte": "<script lang=\"ts\">\nimport { user } from '@/stores/user';\n</script>\n",
        "apps/site/src/components/index.ts": "export { default as Card } from './Card.svelte';\n",
        "apps/site/src/stores/user.ts": "export const user = {};\n",
        "apps/site/src/lib/utils/index.ts": "export const slug = (s: string) => s;\n",
        "apps/site/src/lib/api.ts": "export const get = () => 1;\n",
        "apps/site/src/routes/+page.svelte": (
            "<script lang=\"ts\">\nimport Card from '$components/Card.svelte';\nimport { Card as C } from '$components';\n"
            "import { slug } from '$utils';\nimport { get } from '$lib/api';\nimport Gone from '$components/Gone.svelte';\n"
            "import Star from '$icons/star.svelte';\nimport { track } from '$lib/track.js';\n</script>\n"),
        # JavaScript in the app: the generated config it extends (absent here) has allowJs on
        "apps/site/src/lib/track.js": "import { get } from '$lib/api';\nexport const track = get;\n",
        "apps/admin/svelte.config.js": "export default { kit: { alias: { $components: 'src/ui' } } };\n",
        "apps/admin/src/ui/Card.svelte": "<p>admin</p>\n",
        "apps/admin/src/routes/+page.svelte": "<script>\nimport Card from '$components/Card.svelte';\n</script>\n",
    })


def test_sveltekit_kit_alias_is_read_from_svelte_config(tmp_path: Path):
    _sveltekit_apps(tmp_path)
    static, pairs = _graph(tmp_path)
    page = "apps/site/src/routes/+page.svelte"
    assert {(page, "apps/site/src/components/Card.svelte"), (page, "apps/site/src/components/index.ts"),
            (page, "apps/site/src/lib/utils/index.ts"), (page, "apps/site/src/lib/api.ts"),
            ("apps/site/src/components/Card.svelte", "apps/site/src/stores/user.ts"),  # the name/* form
            ("apps/admin/src/routes/+page.svelte", "apps/admin/src/ui/Card.svelte"),  # its own alias
            (page, "apps/site/src/lib/track.js"), ("apps/site/src/lib/track.js", "apps/site/src/lib/api.ts")} <= pairs
    assert [(p, s) for p, s, _ in static.unresolved] == [(page, "$components/Gone.svelte")]
    problems = [p for f, p in static.errors if f == "apps/site/svelte.config.js"]
    assert len(problems) == 1 and "'$icons'" in problems[0]  # computed: named once, not guessed


def test_sveltekit_generated_tsconfig_still_carries_the_aliases(tmp_path: Path):
    """After ``svelte-kit sync`` the generated config's ``paths`` are the aliases (relative to
    ``.svelte-kit/``): they resolve what the config's computed alias could not say."""
    _sveltekit_apps(tmp_path)
    _write(tmp_path, {
        "apps/site/src/icons/star.svelte": "<svg></svg>\n",
        "apps/site/.svelte-kit/tsconfig.json": json.dumps({"compilerOptions": {"paths": {
            "$components": ["../src/components"], "$components/*": ["../src/components/*"],
            "@/*": ["../src/*"], "$utils": ["../src/lib/utils/index.ts"], "$icons": ["../src/icons"],
            "$icons/*": ["../src/icons/*"], "$lib": ["../src/lib"], "$lib/*": ["../src/lib/*"]}}}),
    })
    static, pairs = _graph(tmp_path)
    page = "apps/site/src/routes/+page.svelte"
    assert {(page, "apps/site/src/components/Card.svelte"), (page, "apps/site/src/icons/star.svelte"),
            (page, "apps/site/src/lib/utils/index.ts"), (page, "apps/site/src/lib/api.ts"),
            ("apps/site/src/components/Card.svelte", "apps/site/src/stores/user.ts")} <= pairs
    assert [(p, s) for p, s, _ in static.unresolved] == [(page, "$components/Gone.svelte")]


def test_a_svelte_config_that_is_not_literal_gives_one_problem_and_no_alias():
    from cogo_pipelines.indexing import sveltekit

    assert sveltekit.parse(b"export default { kit: kitConfig };\n") == (
        {}, None, ["kit is not an object literal, its alias is not read"])
    assert sveltekit.parse(b"export default { kit: { alias: makeAliases() } };\n")[0] == {}
    problems = sveltekit.parse(b"export default { kit: { alias: { ...base, $a: `src/${x}` } } }")[2]
    assert len(problems) == 1 and problems[0].startswith("kit.alias: '...base', '$a' not a string literal")
    for hostile in (b"{" * 50_000, b"kit: { alias: { '", b"\xff\xfe export default {kit: {alias: {$a: 'b'}}}"):
        sveltekit.parse(hostile)  # no exception, no recursion limit


def test_a_monorepo_roots_paths_do_not_override_an_apps_own_lib(tmp_path: Path):
    """greater-components' shape: the root tsconfig maps ``$lib`` to one app's lib (for the
    editor); another app's ``$lib`` is still its own, as Vite resolves it."""
    _write(tmp_path, {
        "tsconfig.json": '{"compilerOptions": {"paths": {"$lib/*": ["./apps/play/src/lib/*", "./apps/docs/src/lib/*"]}}}',
        "apps/play/svelte.config.js": "export default { kit: {} };\n",
        "apps/play/src/lib/Demo.svelte": "<p>play</p>\n",
        "apps/docs/svelte.config.js": "export default { kit: { alias: { $lib: './src/lib' } } };\n",
        "apps/docs/tsconfig.json": '{"extends": "./.svelte-kit/tsconfig.json"}',
        "apps/docs/src/lib/Demo.svelte": "<p>docs</p>\n",
        "apps/docs/src/routes/+page.svelte": "<script>\nimport Demo from '$lib/Demo.svelte';\n</script>\n",
    })
    assert ("apps/docs/src/routes/+page.svelte", "apps/docs/src/lib/Demo.svelte") in _pairs(tmp_path)


def test_a_javascript_app_resolves_through_its_jsconfig(tmp_path: Path):
    """A Create React App / Next.js app written in JavaScript: ``jsconfig.json`` sets ``baseUrl``
    and ``@/*``; it is the project config, and it takes the ``.js``/``.jsx`` files (tsc's
    jsconfig default)."""
    from cogo_pipelines.indexing import policy

    _write(tmp_path, {
        "jsconfig.json": '{"compilerOptions": {"baseUrl": "src", "paths": {"@/*": ["./*"]}}}',
        "package.json": json.dumps({"name": "js-app", "dependencies": {"react": "18"}}),
        "src/index.js": ("import React from 'react';\nimport App from './App';\n"
                         "import { format } from 'utils/format';\nexport default () => <App title={format('x')} />;\n"),
        "src/App.jsx": "import Header from '@/components/Header';\nexport default function App() { return <Header />; }\n",
        "src/components/Header.jsx": "import { format } from '@/utils/format.js';\nexport default () => format('h');\n",
        "src/utils/format.js": "export const format = (s) => s.trim();\n",
    })
    static, pairs = _graph(tmp_path)
    assert pairs == {("src/index.js", "src/App.jsx"), ("src/index.js", "src/utils/format.js"),
                     ("src/App.jsx", "src/components/Header.jsx"), ("src/components/Header.jsx", "src/utils/format.js")}
    assert not static.unresolved and not static.errors
    prepared = policy.prepare(tmp_path)
    assert prepared.policy.origins["include"] == "default + allowJs"
    assert len(prepared.discovery.files) == 4


def test_tsconfig_wins_over_a_jsconfig_in_the_same_folder(tmp_path: Path):
    """Both files in one folder: the TypeScript server and Next.js read ``tsconfig.json``; the
    jsconfig's ``paths`` and its ``allowJs`` default do not apply."""
    _write(tmp_path, {
        "tsconfig.json": '{"compilerOptions": {"paths": {"~/*": ["./src/*"]}}}',
        "jsconfig.json": '{"compilerOptions": {"paths": {"~/*": ["./legacy/*"]}}}',
        "src/env.ts": "export const env = 1;\n",
        "legacy/env.ts": "export const env = 2;\n",
        "src/main.ts": "import { env } from '~/env';\nexport const x = env;\n",
        "src/old.js": "import { env } from '~/env';\n",
    })
    static, pairs = _graph(tmp_path)
    assert pairs == {("src/main.ts", "src/env.ts")}
    assert "src/old.js" not in {n["path"] for n in static.nodes.values()}


def test_a_monorepo_package_with_a_jsconfig_takes_its_javascript(tmp_path: Path):
    """One package of a TypeScript monorepo is a JavaScript app with a ``jsconfig.json``: its
    ``@/*`` resolves under it and its ``.js`` files are sources; the other packages' ``.js``
    stay out, and a package with both files reads its tsconfig."""
    from cogo_pipelines.indexing import policy

    _write(tmp_path, {
        "package.json": json.dumps({"name": "monorepo", "private": True, "workspaces": ["apps/*", "packages/*"]}),
        "apps/site/package.json": json.dumps({"name": "@acme/site"}),
        "apps/site/jsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./src/*"]}}}',
        "apps/site/pages/index.jsx": ("import Nav from '@/components/Nav';\nimport { ui } from '@acme/ui';\n"
                                      "export default () => <Nav ui={ui} />;\n"),
        "apps/site/src/components/Nav.js": "import { fetcher } from '@/lib/fetcher';\nexport default fetcher;\n",
        "apps/site/src/lib/fetcher.mjs": "export const fetcher = () => 1;\n",
        "apps/admin/package.json": json.dumps({"name": "@acme/admin"}),
        "apps/admin/tsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./lib/*"]}}}',
        "apps/admin/lib/env.ts": "export const env = 1;\n",
        "apps/admin/main.ts": "import { env } from '@/env';\nexport const x = env;\n",
        "apps/admin/scripts/seed.js": "import { env } from '@/env';\n",
        "packages/ui/package.json": json.dumps({"name": "@acme/ui", "exports": "./src/index.ts"}),
        "packages/ui/tsconfig.json": '{"compilerOptions": {"paths": {"~ui/*": ["./src/*"]}}}',
        "packages/ui/jsconfig.json": '{"compilerOptions": {"paths": {"~ui/*": ["./js/*"]}}}',
        "packages/ui/src/index.ts": "import { theme } from '~ui/theme';\nexport const ui = theme;\n",
        "packages/ui/src/theme.ts": "export const theme = 1;\n",
        "packages/ui/js/theme.js": "export const theme = 2;\n",
    })
    static, pairs = _graph(tmp_path)
    assert {("apps/site/pages/index.jsx", "apps/site/src/components/Nav.js"),
            ("apps/site/pages/index.jsx", "packages/ui/src/index.ts"),
            ("apps/site/src/components/Nav.js", "apps/site/src/lib/fetcher.mjs"),
            ("apps/admin/main.ts", "apps/admin/lib/env.ts"),
            ("packages/ui/src/index.ts", "packages/ui/src/theme.ts")} == pairs
    assert not static.unresolved
    prepared = policy.prepare(tmp_path)
    paths = {f.path for f in prepared.discovery.files}
    assert "apps/admin/scripts/seed.js" not in paths and "packages/ui/js/theme.js" not in paths
    assert prepared.policy.origins["include"] == "default + allowJs in apps/site/"
    assert "apps/site/jsconfig.json" in prepared.discovery.resolution_configs


def test_a_generic_components_script_tag_with_an_arrow_keeps_its_imports(tmp_path: Path):
    """Svelte 5's `generics="T extends (v: string) => boolean"` and Vue 3.3's `generic="… Map<K, V>"`
    put a ``>`` inside the tag's quoted attribute: the tag ended there, its imports were lost and
    the rest of the tag read as script (a false syntax error)."""
    _write(tmp_path, {
        "src/Arrow.svelte": ('<script lang="ts" generics="T extends (val: string) => boolean">\n'
                             "  import { c } from './c';\n  export let value: T;\n</script>\n<p>{c(value)}</p>\n"),
        "src/Map.vue": ("<script setup lang='ts' generic='K, V extends Map<K, string>'>\n"
                        "import { c } from './c'\ndefineProps<{ m: V }>()\nc('x')\n</script>\n<template><p/></template>\n"),
        "src/c.ts": "export function c(s: string) { return s; }\n",
    })
    static, pairs = _graph(tmp_path)
    assert {("src/Arrow.svelte", "src/c.ts"), ("src/Map.vue", "src/c.ts")} <= pairs
    assert not [e for e in static.errors if "syntax" in e[1]]
