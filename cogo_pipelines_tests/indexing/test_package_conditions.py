"""trigger.dev's shape (a pnpm monorepo built by tshy): workspace packages export their sources
under a custom condition that the packages' tsconfigs name in ``customConditions`` (TS 5.0), and
their builds go to ``dist/esm`` and ``dist/commonjs``. On trigger.dev 1,176 imports of its own
packages were unresolved, 6 are now (generated or vendored files that are not checked in)."""

from __future__ import annotations

import json
from pathlib import Path

from cogo_pipelines.indexing import packages
from cogo_pipelines.indexing.static_graph import analyze
from cogo_pipelines.pipeline.policy import policy_for
from cogo_pipelines_tests.indexing.test_repo_shapes import _pairs, _write


def _export(source: str, dist: str) -> dict:
    # the custom condition first inside `import`, as tshy writes it with `sourceDialects`
    return {"import": {"@acme/source": source, "types": f"{dist}.d.ts", "default": f"{dist}.js"},
            "require": {"types": f"{dist.replace('/esm/', '/commonjs/')}.d.ts",
                        "default": f"{dist.replace('/esm/', '/commonjs/')}.js"}}


def _tshy_monorepo(root: Path) -> None:
    core_exports = {".": _export("./src/v3/index.ts", "./dist/esm/index"),
                    "./v3": _export("./src/v3/index.ts", "./dist/esm/v3/index"),
                    "./v3/*": _export("./src/v3/*.ts", "./dist/esm/v3/*")}
    uses = "import { run } from '@acme/core';\nimport { retry } from '@acme/core/v3/retry';\n"
    _write(root, {
        "package.json": json.dumps({"name": "acme", "private": True}),
        ".configs/tsconfig.base.json": json.dumps({"compilerOptions": {"strict": True,
                                                                       "customConditions": ["@acme/source"]}}),
        "packages/core/package.json": json.dumps({"name": "@acme/core", "exports": core_exports}),
        # src/index.ts is what dist/esm/index.js was built from in another layout: a resolver that
        # ignores the condition would pick it through the build's source twin
        "packages/core/src/index.ts": "export const legacy = 1;\n",
        "packages/core/src/v3/index.ts": "export const run = () => 1;\n",
        "packages/core/src/v3/retry.ts": "export const retry = () => 1;\n",
        # a package config that maps no names but extends the base with the condition
        "packages/sdk/tsconfig.json": json.dumps({"extends": "../../.configs/tsconfig.base.json"}),
        "packages/sdk/src/index.ts": uses,
        # solution style: the condition is in the referenced source project
        "packages/cli/tsconfig.json": json.dumps({"files": [], "references": [{"path": "./tsconfig.src.json"}]}),
        "packages/cli/tsconfig.src.json": json.dumps({"extends": "../../.configs/tsconfig.base.json",
                                                      "include": ["./src/**/*.ts"]}),
        "packages/cli/src/main.ts": uses,
        # no condition: the unbuilt dist/esm build is mapped back to its source (tshy's layout)
        "packages/plain/tsconfig.json": json.dumps({"compilerOptions": {"strict": True}}),
        "packages/plain/src/index.ts": "import { run } from '@acme/core/v3';\n",
    })


def test_custom_conditions_pick_the_sources_a_workspace_package_exports(tmp_path: Path):
    _tshy_monorepo(tmp_path)
    pairs = _pairs(tmp_path)
    for importer in ("packages/sdk/src/index.ts", "packages/cli/src/main.ts"):
        assert (importer, "packages/core/src/v3/index.ts") in pairs
        assert (importer, "packages/core/src/v3/retry.ts") in pairs
        assert (importer, "packages/core/src/index.ts") not in pairs
    static, _ = analyze(tmp_path, policy=policy_for(tmp_path, None))
    assert not static.unresolved


def test_without_the_condition_a_format_folder_build_maps_back_to_its_source(tmp_path: Path):
    _tshy_monorepo(tmp_path)
    assert ("packages/plain/src/index.ts", "packages/core/src/v3/index.ts") in _pairs(tmp_path)
    root = str(tmp_path / "packages/core")
    assert packages.source_twin(root, f"{root}/dist/esm/v3/index.js") == f"{root}/src/v3/index"
    assert packages.source_twin(root, f"{root}/dist/commonjs/x.js") == f"{root}/src/x"
    (tmp_path / "packages/core/src/esm").mkdir()  # a package that really has src/esm keeps it
    assert packages.source_twin(root, f"{root}/dist/esm/x.js") == f"{root}/src/esm/x"


def test_export_targets_match_custom_conditions_in_key_order():
    exports = {".": _export("./src/index.ts", "./dist/esm/index")}
    assert packages.export_targets(exports, ".")[0] == "./dist/esm/index.d.ts"
    assert packages.export_targets(exports, ".", ("@acme/source",))[0] == "./src/index.ts"
    assert packages.export_targets(exports, ".", ("@other/source",))[0] == "./dist/esm/index.d.ts"


def test_framework_conditions_and_packages_without_an_entry_still_resolve(tmp_path: Path):
    """astro's fixtures: an export only under the framework's own condition (``"astro"``) and a
    workspace package with no main, exports or types (Node and tsc take its index.*) were both
    "workspace package … has no file"."""
    assert packages.pick_conditions({"astro": "./Component.astro"}) == ["./Component.astro"]
    assert packages.pick_conditions({"astro": "./a.astro", "default": "./a.js"}) == ["./a.js"]  # known first
    _write(tmp_path, {
        "tsconfig.json": "{}",
        "src/main.ts": "import { a } from '@t/plain';\nimport C from '@t/ui';\nexport const x = [a, C];\n",
        "packages/plain/package.json": json.dumps({"name": "@t/plain", "version": "0.0.0"}),
        "packages/plain/index.ts": "export const a = 1;\n",
        "packages/ui/package.json": json.dumps({"name": "@t/ui", "exports": {".": {"astro": "./ui.ts"}}}),
        "packages/ui/ui.ts": "export default 1;\n",
    })
    assert {("src/main.ts", "packages/plain/index.ts"), ("src/main.ts", "packages/ui/ui.ts")} <= _pairs(tmp_path)


def test_only_folders_the_workspace_declares_are_its_packages(tmp_path: Path):
    """SvelteKit keeps a test fixture whose package.json is named ``typescript``: outside the
    workspace's globs, it made every ``import ts from 'typescript'`` an unresolved "workspace
    package typescript has no file" instead of the external package it is."""
    _write(tmp_path, {
        "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n  - '!packages/legacy'\n",
        "packages/kit/package.json": json.dumps({"name": "@acme/kit", "exports": {".": "./src/index.ts"}}),
        "packages/kit/tsconfig.json": "{}",
        "packages/kit/src/index.ts": "import ts from 'typescript';\nimport { u } from '@acme/util';\nexport const k = [ts, u];\n",
        "packages/kit/test/fixtures/esnext/package.json": json.dumps({"name": "typescript"}),
        "packages/util/package.json": json.dumps({"name": "@acme/util", "exports": {".": "./index.ts"}}),
        "packages/util/index.ts": "export const u = 1;\n",
        "packages/legacy/package.json": json.dumps({"name": "@acme/legacy"}),
    })
    static, _ = analyze(tmp_path, policy=policy_for(tmp_path, None))
    pairs = {(e.src, e.dst) for e in static.module_edges}
    assert ("packages/kit/src/index.ts", "packages/util/index.ts") in pairs
    assert static.external["typescript"] == 1
    assert not [u for u in static.unresolved if "typescript" in str(u)]


def test_a_build_target_maps_to_its_source_through_any_of_the_packages_build_configs(tmp_path: Path):
    """astro's tsconfig.json inherits an editor cache outDir from its base; tsconfig.build.json
    builds dist/. Only the first config with an outDir was read: 939 test imports of
    ``../dist/…js`` were unresolved."""
    _write(tmp_path, {
        "tsconfig.base.json": json.dumps({"compilerOptions": {"outDir": "${configDir}/node_modules/.cache/out"}}),
        "packages/astro/tsconfig.json": json.dumps({"extends": "../../tsconfig.base.json"}),
        "packages/astro/tsconfig.build.json": json.dumps({"extends": "../../tsconfig.base.json",
                                                          "compilerOptions": {"outDir": "./dist", "rootDir": "./src"}}),
        "packages/astro/src/core/route.ts": "export const route = 1;\n",
        "packages/astro/test/route.test.ts": "import { route } from '../dist/core/route.js';\nexport const t = route;\n",
    })
    assert ("packages/astro/test/route.test.ts", "packages/astro/src/core/route.ts") in _pairs(tmp_path)
