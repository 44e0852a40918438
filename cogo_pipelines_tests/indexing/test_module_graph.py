"""tsconfig reading, specifier resolution and module edges on the fixture repos (no store)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.graph import UNRESOLVED, entry_weights
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.static_graph import analyze

FIXTURES = Path(__file__).parent / "fixtures"
FORMS = FIXTURES / "forms"


@pytest.fixture(scope="module")
def forms_graph():
    static, _ = analyze(FORMS)
    return static


def _edges(static) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in static.module_edges:
        if e.src == "src/main.ts":
            out.setdefault(e.dst, set()).add(e.kind)
    return out


def test_tsconfig_jsonc_extends_chain_with_package_config():
    config = tsconfig.load(FORMS / "tsconfig.json")
    assert config.errors == []
    assert [p.name for p in config.chain] == ["tsconfig.json", "tsconfig.base.json", "tsconfig.json"]
    assert "node_modules" in str(config.chain[2])  # extends "@cfg/base/tsconfig.json"
    assert config.base_url == (FORMS / "src").resolve()  # derived baseUrl overrides the package's "."
    assert config.paths["@multi/*"] == ["missing/*", "lib/*"]
    assert [d.name for d in config.root_dirs] == ["src", "generated"]


@pytest.mark.parametrize(
    ("target", "kind", "rule"),
    [
        ("src/lib/default.ts", "import", "default import"),
        ("src/lib/named.ts", "import", "named import with alias"),
        ("src/lib/ns.ts", "import", "namespace import"),
        ("src/lib/side.ts", "import", "side-effect import"),
        ("src/lib/types.ts", "type", "import type"),
        ("src/lib/types2.ts", "type", "every specifier type-only"),
        ("src/lib/mixed.ts", "import", "type and value specifiers"),
        ("src/lib/reexp.ts", "reexport", "export {..} from"),
        ("src/lib/star.ts", "reexport", "export * from"),
        ("src/lib/starns.ts", "reexport", "export * as ns from"),
        ("src/lib/cjs.ts", "require", "import x = require()"),
        ("src/lib/req.ts", "require", "require()"),
        ("src/lib/lazy.ts", "dynamic", "import() with a literal"),
        ("src/lib/jsmapped.ts", "import", ".js specifier mapped to .ts"),
        ("src/lib/esm.mts", "import", ".mjs specifier mapped to .mts"),
        ("src/lib/tsext.ts", "import", ".ts extension in the specifier"),
        ("src/lib/folder/index.ts", "import", "folder index"),
        ("src/ui/comp.tsx", "import", ".tsx probing"),
        ("src/lib/ambient.d.ts", "import", ".d.ts probing"),
        ("src/lib/plainjs.js", "import", ".js probed last"),
        ("src/app/thing.ts", "import", "paths wildcard"),
        ("src/lib/fallback.ts", "import", "paths: second target when the first is missing"),
        ("src/lib/exact.ts", "import", "paths exact pattern"),
        ("src/lib/self.ts", "import", "self-import through paths"),
        ("src/lib/baseurl.ts", "import", "baseUrl"),
        ("generated/generated-view.ts", "import", "rootDirs"),
        ("packages/ws-pkg/src/index.ts", "import", "workspace package exports (types condition)"),
        ("packages/ws-pkg/src/sub.ts", "import", "workspace package exports subpath"),
        ("src/types/globals.d.ts", "reference", "/// <reference path>"),
        ("src/internal/hashed.ts", "import", "package.json imports (#subpath)"),
        ("src/plugins/a.ts", "maybe", "template literal prefix/suffix"),
        ("src/plugins/b.ts", "maybe", "template literal prefix/suffix"),
        (UNRESOLVED, "maybe", "non-literal require(x)"),
    ],
)
def test_import_forms_and_resolution_rules(forms_graph, target, kind, rule):
    edges = _edges(forms_graph)
    assert kind in edges.get(target, set()), f"{rule}: expected {target} ({kind}), got {edges.get(target)}"


def test_comments_strings_and_bare_imports_make_no_internal_edges(forms_graph):
    targets = set(_edges(forms_graph))
    for never in ("src/lib/jsdoc-only.ts", "src/lib/comment-only.ts", "src/lib/string-only.ts"):
        assert never not in targets
    assert not any("node_modules" in t for t in targets)
    assert forms_graph.external["lodash"] == 1
    assert forms_graph.external["node:fs"] == 1 and forms_graph.external["node:path"] == 1


def test_missing_file_is_an_unresolved_import_with_a_reason(forms_graph):
    assert forms_graph.unresolved == [("src/main.ts", "./lib/does-not-exist", "no file for './lib/does-not-exist'")]
    assert 0.9 < forms_graph.resolved_ratio < 1.0


def test_circular_extends_and_non_json_config_are_recorded(tmp_path: Path):
    (tmp_path / "tsconfig.json").write_text('{"extends": "./a.json", "compilerOptions": {"baseUrl": "."}}')
    (tmp_path / "a.json").write_text('{"extends": "./tsconfig.json"}')
    config = tsconfig.load(tmp_path / "tsconfig.json")
    assert any("circular extends" in e for e in config.errors)
    assert config.base_url == tmp_path.resolve()  # what could be read still applies

    (tmp_path / "tsconfig.json").write_text("this is { not json")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("import { b } from './b';\n")
    (tmp_path / "src" / "b.ts").write_text("export const b = 1;\n")
    static, _ = analyze(tmp_path)
    assert [(e.src, e.dst) for e in static.module_edges] == [("src/a.ts", "src/b.ts")]
    assert static.errors and "not JSON" in static.errors[0][1]

    (tmp_path / "tsconfig.json").write_text('{"extends": "@missing/pkg/tsconfig.json"}')
    assert "not found" in tsconfig.load(tmp_path / "tsconfig.json").errors[0]


def test_paths_without_baseurl_are_relative_to_their_config(tmp_path: Path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "base.json").write_text('{"compilerOptions": {"paths": {"~/*": ["../src/*"]}}}')
    (tmp_path / "tsconfig.json").write_text('{"extends": "./cfg/base.json"}')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.ts").write_text("export const x = 1;")
    resolver = Resolver(tmp_path, tsconfig.find(tmp_path))
    assert resolver.resolve("~/x", "src/y.ts").path == "src/x.ts"
    assert resolver.resolve("~/nope", "src/y.ts").status == "unresolved"  # an alias naming no file (issue 19), not a package


def test_bad_files_are_errors_and_the_run_goes_on(tmp_path: Path):
    shutil.copytree(FIXTURES / "calls", tmp_path / "repo")
    src = tmp_path / "repo" / "src"
    (src / "binary.ts").write_bytes(b"\x00\x01\x02\x03")
    (src / "latin1.ts").write_bytes("export const s = 'é';".encode("latin-1"))
    (src / "broken.ts").write_text("import { util } from './util';\nfunction (((( {\n")
    static, _ = analyze(tmp_path / "repo")
    problems = dict(static.errors)
    assert "binary" in problems["src/binary.ts"]
    assert "UTF-8" in problems["src/latin1.ts"]
    assert "syntax error" in problems["src/broken.ts"]
    assert ("src/broken.ts", "src/util.ts") in {(e.src, e.dst) for e in static.module_edges}
    assert ("src/index.ts", "src/barrel.ts") in {(e.src, e.dst) for e in static.module_edges}


def test_entry_weights_condense_cycles_and_zero_unreachable():
    static, _ = analyze(FIXTURES / "calls", entries=["src/index.ts", "src/not-there.ts"])
    weights = entry_weights(sorted({e.src for e in static.module_edges} | {"src/orphan.ts"}),
                            static.module_edges, static.entries)
    assert static.entries == ["src/index.ts"]
    assert weights["src/index.ts"] == 1.0
    assert weights["src/barrel.ts"] == 0.5 and weights["src/util.ts"] == 0.5
    assert weights["src/cycle-a.ts"] == weights["src/cycle-b.ts"] == 0.5  # one SCC, one distance
    assert weights["src/service.ts"] == pytest.approx(1 / 3)
    assert weights["src/base.ts"] == 0.25
    assert weights["src/orphan.ts"] == 0.0


def test_repo_without_src_takes_typescript_from_anywhere(tmp_path: Path):
    from cogo_pipelines.pipeline.policy import policy_for

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.ts").write_text("export * from './b.js';\n")
    (tmp_path / "lib" / "b.ts").write_text("export const b = 1;\n")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "index.ts").write_text("import './y';\n")
    static, _ = analyze(tmp_path, policy=policy_for(tmp_path, None))
    assert [(e.src, e.dst, e.kind) for e in static.module_edges] == [("lib/a.ts", "lib/b.ts", "reexport")]
    only_lib = policy_for(tmp_path, ["lib/b.ts"])
    assert only_lib.admits("lib/b.ts") and not only_lib.admits("lib/a.ts")


@pytest.mark.parametrize("threads", [False, True])
def test_parallel_extraction_matches_sequential(monkeypatch, threads):
    import threading

    from cogo_pipelines.indexing import sources, static_graph

    found = sources.discover(FIXTURES / "calls")
    sequential = static_graph.extract_many(FIXTURES / "calls", found)
    monkeypatch.setattr(static_graph, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("COGO_GRAPH_WORKERS", "2")
    if static_graph.workers() < 2:
        pytest.skip("one core")
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait) if threads else None  # forces the forkserver path
    if helper:
        helper.start()
    try:
        seen = []
        parallel = static_graph.extract_many(FIXTURES / "calls", found, progress=lambda *a: seen.append(a))
    finally:
        stop.set()
    assert parallel.keys() == sequential.keys()
    assert all(parallel[p].to_json() == sequential[p].to_json() for p in parallel)
    assert seen[-1] == ("parse", len(parallel), len(parallel))


def test_jsconfig_is_the_folders_config_when_there_is_no_tsconfig(tmp_path: Path):
    """A JavaScript app's ``jsconfig.json`` is its project config, with the defaults tsc gives
    that file name (``allowJs`` on unless it says otherwise); a ``tsconfig.json`` beside it wins."""
    (tmp_path / "jsconfig.json").write_text('{"compilerOptions": {"baseUrl": "src", "paths": {"@/*": ["./*"]}}}')
    config = tsconfig.find(tmp_path)
    assert config.name == "jsconfig.json" and config.allow_js and tsconfig.js_setting(config) is True
    assert config.base_url == (tmp_path / "src").resolve() and config.paths == {"@/*": ["./*"]}

    (tmp_path / "jsconfig.json").write_text('{"compilerOptions": {"allowJs": false, "baseUrl": "."}}')
    assert tsconfig.js_setting(tsconfig.find(tmp_path)) is False  # its own word over the default

    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"baseUrl": "lib"}}')
    config = tsconfig.find(tmp_path)
    assert config.name == "tsconfig.json" and config.base_url == (tmp_path / "lib").resolve()
    assert tsconfig.js_setting(config) is None  # a tsconfig has no allowJs default
    assert tsconfig.config_name({"jsconfig.json", "tsconfig.json"}) == "tsconfig.json"
    assert tsconfig.config_name(["jsconfig.json"]) == "jsconfig.json" and tsconfig.config_name([]) is None


def test_a_jsconfig_default_is_that_files_own_option_in_an_extends_chain(tmp_path: Path):
    """tsc parses each file of a chain with the defaults of its own name: a jsconfig that extends
    a base with ``allowJs: false`` still allows JavaScript, and a tsconfig extending a jsconfig
    inherits ``allowJs`` from it."""
    (tmp_path / "base.json").write_text('{"compilerOptions": {"allowJs": false}}')
    (tmp_path / "jsconfig.json").write_text('{"extends": "./base.json"}')
    assert tsconfig.load(tmp_path / "jsconfig.json").allow_js is True
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "tsconfig.json").write_text('{"extends": "../jsconfig.json"}')
    assert tsconfig.js_setting(tsconfig.load(tmp_path / "app" / "tsconfig.json")) is True
    (tmp_path / "app" / "tsconfig.json").write_text('{"extends": "../jsconfig.json", "compilerOptions": {"allowJs": false}}')
    assert tsconfig.js_setting(tsconfig.load(tmp_path / "app" / "tsconfig.json")) is False


def test_a_template_import_matching_thousands_of_files_is_one_unresolved_edge(tmp_path):
    """``import(`./plugins/${name}`)`` stores a `maybe` edge to every file it can name; at the top
    of a large folder that was one row per file per import. Past ``MAX_MAYBE_TARGETS`` (1,000)
    it is one unresolved `maybe` edge, as when nothing matches; a narrower template keeps its
    candidates, found by bisection in the sorted files."""
    from cogo_pipelines.indexing.graph import MAX_MAYBE_TARGETS

    src = tmp_path / "src"
    (src / "plugins").mkdir(parents=True)
    (src / "locales").mkdir()
    for i in range(MAX_MAYBE_TARGETS + 1):
        (src / "plugins" / f"p{i:04}.ts").write_text("export const x = 1;\n")
    for name in ("de", "en", "fr"):
        (src / "locales" / f"{name}.ts").write_text("export default {};\n")
    (src / "load.ts").write_text("export const plugin = (n: string) => import(`./plugins/${n}`);\n"
                                 "export const locale = (l: string) => import(`./locales/${l}.ts`);\n")
    static, _ = analyze(tmp_path)
    maybe = sorted(e.dst for e in static.module_edges if e.src == "src/load.ts" and e.kind == "maybe")
    assert maybe == [UNRESOLVED, "src/locales/de.ts", "src/locales/en.ts", "src/locales/fr.ts"]


def test_jsonc_configs_are_read_without_json5_and_once_while_unchanged(tmp_path, monkeypatch):
    """json5 (pure Python) read every tsconfig with a comment: 62 ms per 5 kB base config, read
    again for each of the hundreds of package configs extending it (20 of payload's 29 s). The
    lenient reader takes JSONC in one pass; json5 is left for what only it reads (unquoted keys)."""
    import os

    from cogo_pipelines.indexing import config_files

    calls = []
    real = config_files.json5.loads
    monkeypatch.setattr(config_files.json5, "loads", lambda text: calls.append(text) or real(text))
    base = tmp_path / "tsconfig.base.json"
    base.write_text('{\n  // shared\n  "compilerOptions": {"strict": true, "paths": {"@/*": ["src/*"],},},\n}\n')
    assert config_files.read_jsonc(base) == {"compilerOptions": {"strict": True, "paths": {"@/*": ["src/*"]}}}
    assert calls == []
    read = config_files._parse
    monkeypatch.setattr(config_files, "_parse", lambda path: (_ for _ in ()).throw(AssertionError("read again")))
    first = config_files.read_jsonc(base)
    first["compilerOptions"]["strict"] = False  # a caller's change never reaches the next reader
    assert config_files.read_jsonc(base)["compilerOptions"]["strict"] is True
    monkeypatch.setattr(config_files, "_parse", read)
    base.write_text('{"compilerOptions": {"strict": false, "target": 0x10}}')  # a hex number: json5's to read
    os.utime(base, ns=(base.stat().st_atime_ns, base.stat().st_mtime_ns + 1_000_000_000))
    assert config_files.read_jsonc(base) == {"compilerOptions": {"strict": False, "target": 16}} and len(calls) == 1


def test_ambient_module_blocks_give_the_edges_tsc_resolves(tmp_path: Path):
    """tsc resolves a module augmentation (``declare module "./foo"`` in a file with an import
    or export) like an import, and the non-relative imports inside a script's ``declare module
    "x" { … }``; a relative import there (TS2439), a relative ambient name (TS2436) and a
    wildcard augmentation name no module has are not resolved. Each edge it resolves is a
    ``type`` edge (an ambient block emits nothing); ``tsc --traceResolution`` on this fixture
    resolves exactly lib/b, ./foo and ./b (dependency-cruiser reads none of them)."""
    (tmp_path / "tsconfig.json").write_text('{"compilerOptions": {"baseUrl": "src"}, "include": ["src"]}')
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    for name in ("a", "b", "foo", "lib/b", "lib/c", "lib/d"):
        (src / f"{name}.ts").write_text("export interface T { t: number }\n")
    (src / "shims.d.ts").write_text(
        'declare module "virtual:stuff" {\n  import { A } from "./a";\n  import type { T as B } from "lib/b";\n'
        '  export * from "lib/c";\n  module "lib/d" { interface T { more: 1 } }\n'
        '  export const x: A;\n  export type Y = B;\n}\n'
        'declare module "./foo" { const z: 1 }\n'
        'declare module "*.svg" { const url: string; export default url }\n')
    (src / "aug.ts").write_text('export const q = 1;\ndeclare module "./b" {\n  interface T { more: string }\n}\n'
                                'declare module "*.svg" {}\n')
    (src / "both.ts").write_text('import { T } from "./foo";\ndeclare module "./foo" { interface T { n: 2 } }\n')
    static, _ = analyze(tmp_path)
    assert sorted((e.src, e.dst, e.kind) for e in static.module_edges) == [
        ("src/aug.ts", "src/b.ts", "type"),
        ("src/both.ts", "src/foo.ts", "import"),  # the import's own edge, not a second one
        ("src/shims.d.ts", "src/lib/b.ts", "type"),
        ("src/shims.d.ts", "src/lib/c.ts", "type"),
        ("src/shims.d.ts", "src/lib/d.ts", "type"),
    ]
    assert static.unresolved == []


def test_a_file_resolves_under_the_config_whose_project_includes_it(tmp_path: Path):
    """The TypeScript server opens a file in the nearest config whose project includes it, else
    in a project that config refers to, else in one further up (TS 5.7); the resolver took the
    nearest config by folder only. Vite's template keeps ``paths`` in the ``tsconfig.app.json``
    its solution-style root refers to (``@/…`` came out a package), and a package config that
    includes ``src`` only left ``scripts/`` without the root's ``paths``. What tsserver resolves
    on this fixture (its ``getDefaultProjectForFile``) is what is asserted."""
    (tmp_path / "tsconfig.json").write_text(
        '{"files": [], "references": [{"path": "./tsconfig.app.json"}, {"path": "./tsconfig.node.json"}]}')
    (tmp_path / "tsconfig.app.json").write_text(
        '{"compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["./src/*"]}}, "include": ["src", "app"]}')
    (tmp_path / "tsconfig.node.json").write_text('{"include": ["vite.config.ts"]}')
    app = tmp_path / "app"
    for folder in ("src/components", "app/src", "app/scripts"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "src" / "components" / "button.ts").write_text("export const b = 1;\n")
    (tmp_path / "src" / "main.ts").write_text('import { b } from "@/components/button";\n')
    (app / "tsconfig.json").write_text(
        '{"compilerOptions": {"paths": {"~/*": ["./src/*"]}}, "include": ["src"], "exclude": ["**/*.skip.ts"]}')
    (app / "src" / "y.ts").write_text("export const y = 1;\n")
    (app / "src" / "main.ts").write_text('import { y } from "~/y";\n')
    (app / "src" / "main.skip.ts").write_text('import { b } from "@/components/button";\n')
    (app / "scripts" / "seed.ts").write_text('import { b } from "@/components/button";\n')
    static, _ = analyze(tmp_path, policy=sources.Policy.from_patterns(["**/*.ts"]))
    assert sorted((e.src, e.dst) for e in static.module_edges) == [
        ("app/scripts/seed.ts", "src/components/button.ts"),  # outside app/'s include: the app project's
        ("app/src/main.skip.ts", "src/components/button.ts"),  # app/ excludes it
        ("app/src/main.ts", "app/src/y.ts"),
        ("src/main.ts", "src/components/button.ts"),  # the referenced tsconfig.app.json's paths
    ]
    assert static.external == {}


@pytest.mark.parametrize(
    ("config", "path", "held"),
    [
        ({}, "src/a.ts", True),  # neither include nor files: everything below
        ({}, "dist/a.ts", False),  # ... but outDir
        ({"include": ["src"]}, "src/deep/a.tsx", True),  # a folder: everything below it
        ({"include": ["src"]}, "srcx/a.ts", False),
        ({"include": ["src"]}, "src/.hidden/a.ts", False),  # `**` skips dot folders
        ({"include": ["src/*.ts"]}, "src/deep/a.ts", False),  # `*` stays within a name
        ({"include": ["src/**/*.ts"]}, "src/a.ts", True),
        ({"include": ["src/**/*.ts"]}, "src/.a.ts", False),  # a leading `*` skips dot files
        ({"include": ["src/**/*"], "exclude": ["src/gen"]}, "src/gen/x/a.ts", False),  # what lies below
        ({"include": ["src/**/*"], "exclude": ["**/*.spec.ts"]}, "src/a.spec.ts", False),
        ({"files": ["src/a.ts"]}, "src/b.ts", False),  # files alone: only those
        ({"files": ["src/a.ts"], "exclude": ["src"]}, "src/a.ts", True),  # files are in whatever exclude says
        ({"include": ["${configDir}/lib"]}, "lib/a.ts", True),
    ],
)
def test_which_files_a_config_project_holds(tmp_path: Path, config, path, held):
    import json

    from cogo_pipelines.indexing.tsconfig_files import includes

    (tmp_path / "tsconfig.json").write_text(json.dumps({**config, "compilerOptions": {"outDir": "dist"}}))
    holds = includes(tsconfig.load(tmp_path / "tsconfig.json"))
    assert holds(str(tmp_path.resolve() / path)) is held


def test_a_base_that_cannot_be_found_is_named_once_per_config_and_its_own_paths_apply(tmp_path: Path):
    """SvelteKit's ``"extends": "./.svelte-kit/tsconfig.json"`` before ``svelte-kit sync``, an
    alias-like ``$app/tsconfig``: the config's own ``paths`` still resolve, and each config
    names its missing base once; a second package missing the same base was not named at all
    (its problem read as the first one's). A base shared by two packages has its own problem once."""
    (tmp_path / "tsconfig.json").write_text(
        '{\n  // before svelte-kit sync\n  "extends": "./.svelte-kit/tsconfig.json",\n'
        '  "compilerOptions": {"paths": {"@/*": ["./src/*"]}}\n}\n')
    (tmp_path / "tsconfig.base.json").write_text('{"extends": "@missing/config"}')
    for name in ("a", "b", "c", "d"):
        package = tmp_path / "packages" / name
        (package / "src").mkdir(parents=True)
        base = '"$app/tsconfig"' if name in "ab" else '"../../tsconfig.base.json"'
        (package / "tsconfig.json").write_text(
            f'{{"extends": {base}, "compilerOptions": {{"paths": {{"~{name}/*": ["./src/*"]}}}}}}')
        (package / "src" / "y.ts").write_text("export const y = 1;\n")
        (package / "src" / "main.ts").write_text(f'import {{ y }} from "~{name}/y";\n')
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "lib" / "x.ts").write_text("export const x = 1;\n")
    (tmp_path / "src" / "main.ts").write_text('import { x } from "@/lib/x";\n')
    static, _ = analyze(tmp_path, policy=sources.Policy.from_patterns(["**/*.ts"]))
    assert sorted((e.src, e.dst) for e in static.module_edges) == [
        *((f"packages/{name}/src/main.ts", f"packages/{name}/src/y.ts") for name in "abcd"),
        ("src/main.ts", "src/lib/x.ts"),
    ]
    assert sorted(static.errors) == [
        ("packages/a/tsconfig.json", "extends '$app/tsconfig' not found"),
        ("packages/b/tsconfig.json", "extends '$app/tsconfig' not found"),
        ("packages/c/tsconfig.json", "tsconfig.base.json: extends '@missing/config' not found"),
        ("tsconfig.json", "extends './.svelte-kit/tsconfig.json' not found"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"extends": "./a\\u0000b"}', "extends './a\\x00b' not found"),
        ('{"extends": "./' + "x" * 5000 + '"}', "extends './" + "x" * 98 + "…' not found"),
        ('{"compilerOptions": {"baseUrl": "a\\u0000"}}', "baseUrl 'a\\x00' is no path: embedded null byte"),
        ('{"compilerOptions": {"rootDirs": ["b\\u0000"]}}', "rootDirs 'b\\x00' is no path: embedded null byte"),
        ('{"references": [{"path": "r\\u0000"}]}', "references 'r\\x00' is no path: embedded null byte"),
    ],
)
def test_a_config_value_no_file_system_takes_is_a_problem_not_the_end_of_the_run(tmp_path: Path, text, problem):
    """A NUL byte or a name too long in ``extends``, ``baseUrl``, ``rootDirs``, ``references``
    raised out of ``tsconfig.load`` (a traceback for ``cogo graph`` and ``cogo index``)."""
    (tmp_path / "tsconfig.json").write_text(text)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("export const a = 1;\n")
    (tmp_path / "src" / "b.ts").write_text("import { a } from './a';\n")
    assert tsconfig.load(tmp_path / "tsconfig.json").errors == [problem]
    static, _ = analyze(tmp_path)
    assert [(e.src, e.dst) for e in static.module_edges] == [("src/b.ts", "src/a.ts")]
