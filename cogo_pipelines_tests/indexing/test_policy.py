"""The index policy (issue 19) and faulty files (issue 18 item 8), on small repos written here:
which files are indexed, from which layer, what was left out and why; built-in-named folders
under ``baseUrl``, ``@/`` aliases naming no file, ``import()`` with a webpack comment, ``.js``
files under ``allowJs``; symlink loops, dangling symlinks and a tsconfig with a syntax error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cogo_pipelines.indexing import policy, sources, tsconfig
from cogo_pipelines.indexing.graph import UNRESOLVED
from cogo_pipelines.indexing.resolve import Resolver
from cogo_pipelines.indexing.static_graph import analyze

WEBAPP = Path(__file__).parent / "fixtures" / "webapp"
COGO = [sys.executable, "-c", "from cogo_pipelines.cli import main; main()"]


def cogo(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    return subprocess.run([*COGO, *args], check=False, capture_output=True, text=True, timeout=120, env=environment)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


# --- module graph: tsc's order, aliases, comments -----------------------------------------------

@pytest.fixture(scope="module")
def webapp_resolver() -> Resolver:
    return Resolver(WEBAPP, tsconfig.find(WEBAPP))


def test_builtin_named_folder_under_baseurl_is_the_repo_file(webapp_resolver: Resolver):
    hit = webapp_resolver.resolve("constants/eventType", "src/index.tsx")
    assert (hit.status, hit.path) == ("internal", "src/constants/eventType.ts")
    # a real built-in still is one when baseUrl has no such file
    assert webapp_resolver.resolve("fs", "src/index.tsx").status == "builtin"
    assert webapp_resolver.resolve("constants", "src/index.tsx").status == "builtin"
    assert webapp_resolver.resolve("node:constants", "src/index.tsx").status == "builtin"


def test_alias_naming_no_file_is_unresolved_not_a_package(webapp_resolver: Resolver):
    assert webapp_resolver.resolve("@/lib/util", "src/index.tsx").path == "src/lib/util.ts"
    missing = webapp_resolver.resolve("@/nothere", "src/index.tsx")
    assert missing.status == "unresolved" and "@/*" in missing.reason
    assert webapp_resolver.resolve("react", "src/index.tsx").status == "external"


def test_webapp_graph_comments_in_import_calls_and_allow_js():
    chosen = policy.resolve(WEBAPP)
    assert "src/**/*.js" in chosen.include and chosen.origins["include"] == "default + allowJs"
    static, _ = analyze(WEBAPP, policy=chosen.sources_policy())
    edges = {(e.src, e.dst, e.kind) for e in static.module_edges}
    assert ("src/index.tsx", "src/constants/eventType.ts", "import") in edges
    # import(/* webpackChunkName */ `./locales/${l}`): the candidates, not <unresolved>
    assert {("src/index.tsx", f"src/locales/{x}.ts", "maybe") for x in ("en", "fr")} <= edges
    assert not any(e.dst == UNRESOLVED for e in static.module_edges)
    # a literal after the comment is a plain dynamic edge
    assert ("src/index.tsx", "src/lib/chart.ts", "dynamic") in edges
    # the .js file (with JSX) is read and linked both ways
    assert ("src/index.tsx", "src/legacy/old.js", "import") in edges
    assert ("src/legacy/old.js", "src/lib/util.ts", "import") in edges
    assert [spec for _, spec, _ in static.unresolved] == ["@/nothere"]
    assert set(static.external) == {"node:fs"}  # "@/nothere" is not counted as a package


def test_without_allow_js_the_js_files_are_left_out_with_a_hint(tmp_path: Path):
    shutil.copytree(WEBAPP, tmp_path / "app")
    config = tmp_path / "app" / "tsconfig.json"
    config.write_text(config.read_text().replace('"allowJs": true,', ""))
    prepared = policy.prepare(tmp_path / "app")
    assert "src/legacy/old.js" not in {f.path for f in prepared.discovery.files}
    assert prepared.discovery.indexable_left_out["src/**/*.js"] == 1
    assert any("'src/**/*.js' (1)" in m for m in prepared.messages)


# --- policy layers ----------------------------------------------------------------------------

def test_flags_over_cogo_toml_over_env_over_defaults(tmp_path: Path):
    root = write(tmp_path / "repo", {"src/a.ts": "export const a = 1;\n", "lib/b.ts": "export const b = 1;\n",
                                     "docs/x.md": "# x\n"})
    env = policy.Layer.of("env", "from-env", ["lib/**/*.ts"], ["lib/skip/"], ["lib/b.ts"])
    assert policy.resolve(root, env=env).include == ("lib/**/*.ts",)
    assert policy.resolve(root).include == sources.DEFAULT_INCLUDE  # a src/ folder: the seed's layout

    (root / "cogo.toml").write_text('[index]\nname = "from-file"\ninclude = ["src/**/*.ts", "docs/**/*.md"]\n')
    chosen = policy.resolve(root, env=env)
    assert (chosen.name, chosen.include) == ("from-file", ("src/**/*.ts", "docs/**/*.md"))
    # the file says nothing of these; an exclude list of one's own keeps node_modules/ and .git/ out
    assert chosen.exclude == ("lib/skip/", "node_modules/", ".git/") and chosen.entries == ("lib/b.ts",)
    assert chosen.origins == {"name": "cogo.toml", "include": "cogo.toml", "exclude": "env", "entries": "env"}

    flags = policy.Layer.of("flags", "from-flag", ["**/*.ts"], None, ["src/*.ts"])
    chosen = policy.resolve(root, flags, env)
    assert (chosen.name, chosen.include, chosen.entries) == ("from-flag", ("**/*.ts",), ("src/*.ts",))
    assert {f.path for f in chosen.scan().files} == {"src/a.ts", "lib/b.ts"}


def test_bad_cogo_toml_is_one_clear_error(tmp_path: Path):
    root = write(tmp_path / "repo", {"src/a.ts": "export const a = 1;\n", "cogo.toml": "[index]\ninclude = 3\n"})
    with pytest.raises(policy.PolicyError, match="include must be a string or a list"):
        policy.resolve(root)
    (root / "cogo.toml").write_text('[index]\nname = ""\n')  # was taken as no name: the folder's
    with pytest.raises(policy.PolicyError, match="name must be a non-empty string"):
        policy.resolve(root)
    (root / "cogo.toml").write_text("[index\n")
    with pytest.raises(policy.PolicyError, match="cogo.toml"):
        policy.resolve(root)
    done = cogo("graph", str(root), "--no-store")
    assert done.returncode == 2 and "cogo.toml" in done.stderr and "Traceback" not in done.stderr


def test_name_from_git_remote_else_folder(tmp_path: Path):
    root = write(tmp_path / "package", {"index.ts": "export {};\n"})
    assert policy.resolve(root).name == "package"
    write(root, {".git/config": '[core]\n\tbare = false\n[remote "origin"]\n\turl = git@github.com:ReactiveX/rxjs.git\n'})
    assert policy.resolve(root).name == "rxjs"
    (root / ".git" / "config").write_text('[remote "origin"]\n\turl = https://github.com/trpc/trpc/\n')
    assert policy.resolve(root).name == "trpc"
    assert policy.resolve(root, policy.Layer.of("flags", "mine")).name == "mine"
    with pytest.raises(policy.PolicyError, match="repo name"):
        policy.resolve(root, policy.Layer.of("flags", "bad name; rm -rf"))


def test_entries_take_globs_and_unmatched_ones_are_warned(tmp_path: Path):
    root = write(tmp_path / "app", {"src/app/page.tsx": "export default 1;\n", "src/app/blog/page.tsx": "export default 2;\n",
                                    "src/app/util.ts": "export {};\n"})
    flags = policy.Layer.of("flags", entries=["src/app/**/page.tsx", "src/missing.ts"])
    prepared = policy.prepare(root, flags)
    assert sorted(prepared.entries) == ["src/app/blog/page.tsx", "src/app/page.tsx"]
    assert prepared.unmatched_entries == ["src/missing.ts"]
    assert any("'src/missing.ts'" in m and "matches no indexed file" in m for m in prepared.messages)
    # the seed's entries are taken where they exist: no warning for those
    assert policy.prepare(root).unmatched_entries == []


def test_gitignore_and_the_skipped_summary(tmp_path: Path):
    root = write(tmp_path / "repo", {
        ".gitignore": "dist/\n*.gen.ts\n",
        "src/a.ts": "export const a = 1;\n",
        "src/a.gen.ts": "export const gen = 1;\n",
        "src/sub/.gitignore": "local.ts\n",
        "src/sub/local.ts": "export {};\n",
        "src/sub/kept.ts": "export {};\n",
        "dist/a.js": "exports.a = 1;\n",
        "node_modules/x/index.ts": "export {};\n",
        "docs/guide/intro.md": "# hi\n",
        "db/001.sql": "select 1;\n",
        "logo.png": "png",
        "out/bundle.js": "var a = 1;\n",
    })
    found = sources.scan(root, policy.resolve(root).sources_policy())
    assert sorted(f.path for f in found.files) == ["src/a.ts", "src/sub/kept.ts"]
    assert found.skipped == {"gitignored": 2, "outside the include policy": 3, "unsupported kind": 1}
    assert found.pruned_dirs == 2  # dist/ (gitignored) and node_modules/ (excluded) are never entered
    assert dict(found.indexable_left_out) == {"docs/**/*.md": 1, "db/**/*.sql": 1, "out/**/*.js": 1}
    skipped, hint = policy.skipped_summary(found)
    assert skipped.startswith("skipped: ") and "2 gitignored" in skipped and "2 folders not entered" in skipped
    assert "'db/**/*.sql' (1), 'docs/**/*.md' (1);" in hint and "out/" not in hint  # build output: no hint


def test_no_file_is_an_error_with_the_glob_that_would_take_them(tmp_path: Path):
    root = write(tmp_path / "docs-only", {"src/README.md": "# x\n", "src/notes/a.md": "# a\n"})
    done = cogo("graph", str(root), "--no-store")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no file of" in done.stderr and "--include 'src/**/*.md'" in done.stderr
    taken = cogo("graph", str(root), "--no-store", "--include", "src/**/*.ts", "--include", "src/**/*.md")
    assert taken.returncode == 0, taken.stderr


# --- faulty files (issue 18 item 8) -------------------------------------------------------------

def test_symlink_loop_and_dangling_symlink_are_per_file_errors(tmp_path: Path):
    root = write(tmp_path / "repo", {"src/a.ts": "import { b } from './b';\n", "src/b.ts": "export const b = 1;\n"})
    os.symlink("loop.ts", root / "src" / "loop.ts")
    os.symlink("gone.ts", root / "src" / "dangling.ts")
    os.symlink("../src", root / "src" / "self")  # a folder link back up: not followed
    found = sources.scan(root)
    assert [f.path for f in found.files] == ["src/a.ts", "src/b.ts"]
    assert sorted(p for p, _ in found.errors) == ["src/dangling.ts", "src/loop.ts"]
    assert all(problem.startswith("cannot read") for _, problem in found.errors)

    done = cogo("graph", str(root), "--no-store", "--format", "json")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    out = json.loads(done.stdout)
    assert [(e["from"], e["to"]) for e in out["edges"]] == [("src/a.ts", "src/b.ts")]
    assert sorted(e["path"] for e in out["errors"]) == ["src/dangling.ts", "src/loop.ts"]
    assert "src/loop.ts: cannot read" in done.stderr


@pytest.mark.timeout(60)
def test_pipes_and_dumps_under_a_source_name_are_per_file_errors(tmp_path: Path, database_url: str):
    """A FIFO named like a source or a config blocked the run forever on its read, and a dump
    named ``.sql`` was read whole into memory: both are looked at before they are read and left
    out with a problem (a sparse 40 MB file stands for the dump)."""
    root = write(tmp_path / "repo", {"src/a.ts": "import { b } from './b';\n", "src/b.ts": "export const b = 1;\n"})
    os.mkfifo(root / "src" / "pipe.ts")
    os.mkfifo(root / "tsconfig.json")
    os.mkfifo(root / ".gitignore")
    with open(root / "src" / "dump.sql", "wb") as dump:
        dump.truncate(40 * 1024 * 1024)
    found = sources.scan(root, sources.Policy(include=["src/**/*.ts", "src/**/*.sql"]))
    assert [f.path for f in found.files] == ["src/a.ts", "src/b.ts"]
    problems = dict(found.errors)
    assert problems["src/pipe.ts"].startswith("not a regular file")
    assert problems["src/dump.sql"].startswith("too large (41,943,040 bytes")

    # the stored path (a fresh database): it also reads the resolution configs for the graph's shape
    done = cogo("graph", str(root), "--format", "json", "--include", "src/**/*.ts", "--include", "src/**/*.sql")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    out = json.loads(done.stdout)
    assert [(e["from"], e["to"]) for e in out["edges"]] == [("src/a.ts", "src/b.ts")]
    assert "src/pipe.ts: not a regular file" in done.stderr and "src/dump.sql: too large" in done.stderr


@pytest.mark.timeout(60)
def test_tsconfig_extends_chains_are_bounded(tmp_path: Path):
    """A chain of a thousand ``extends`` ended in a RecursionError (a traceback out of ``cogo
    graph``), and bases that each extend two others were read 2^depth times: the chain is read
    32 deep and 128 configs at most, the rest is a problem of the config, and the graph is made."""
    chain = {f"cfg/t{i}.json": json.dumps({"extends": f"./t{i + 1}.json"}) for i in range(1_000)}
    root = write(tmp_path / "chain", {**chain, "tsconfig.json": '{"extends": "./cfg/t0.json"}',
                                      "src/a.ts": "import { b } from './b';\n", "src/b.ts": "export const b = 1;\n"})
    config = tsconfig.find(root)
    assert len(config.chain) == 32 and config.errors == ["extends deeper than 32: t31.json and its bases not read"]
    done = cogo("graph", str(root), "--no-store", "--format", "json")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert [(e["from"], e["to"]) for e in json.loads(done.stdout)["edges"]] == [("src/a.ts", "src/b.ts")]

    diamonds = {f"cfg/d{i}.json": json.dumps({"extends": [f"./e{i + 1}.json", f"./d{i + 1}.json"]}) for i in range(40)}
    diamonds |= {f"cfg/e{i}.json": json.dumps({"extends": f"./d{i}.json"}) for i in range(1, 41)}
    root = write(tmp_path / "diamonds", {**diamonds, "cfg/d40.json": '{"compilerOptions": {"baseUrl": "."}}',
                                         "tsconfig.json": '{"extends": "./cfg/d0.json"}'})
    config = tsconfig.find(root)
    assert len(config.chain) == 128 and any(e.startswith("extends ") for e in config.errors)


def test_manifests_nested_past_the_stack_are_problems_not_tracebacks(tmp_path: Path):
    """JSON nested thousands deep (a tsconfig, a package.json) ran the decoder out of stack: a
    RecursionError and a traceback; nested hundreds deep it loads, and the walk of a package's
    export conditions ran out instead. Such a config is a problem, such an export gives no file."""
    nested = "./src/index.ts"
    for _ in range(900):
        nested = {"import": nested}
    root = write(tmp_path / "repo", {
        "tsconfig.json": '{"compilerOptions": {"x": ' + "[" * 5_000 + "]" * 5_000 + "}}",
        "package.json": '{"name": "root", "workspaces": ["packages/*"], "x": ' + "[" * 5_000 + "]" * 5_000 + "}",
        "packages/lib/package.json": json.dumps({"name": "lib", "exports": {".": nested}}),
        "packages/lib/src/index.ts": "export const x = 1;\n",
        "src/a.ts": "import { x } from 'lib';\nimport { b } from './b';\n", "src/b.ts": "export const b = 1;\n",
    })
    done = cogo("graph", str(root), "--no-store", "--format", "json")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "tsconfig.json: not JSON/JSONC: nesting too deep" in done.stderr
    assert "tsconfig.json: tsconfig.json" not in done.stderr
    out = json.loads(done.stdout)
    assert [(e["from"], e["to"]) for e in out["edges"]] == [("src/a.ts", "src/b.ts")]


def test_file_names_that_are_not_utf8_are_per_file_problems(tmp_path: Path, database_url: str):
    """A Latin-1 byte name (a file, a folder, a trace) reached the store as a Python surrogate and
    failed the whole write with a UnicodeEncodeError (a traceback out of ``cogo index``); such a
    file is now a problem shown with U+FFFD, a trace's name likewise, and the rest is indexed."""
    root = write(tmp_path / "repo", {"src/a.ts": "import { b } from './b';\n", "src/b.ts": "export const b = 1;\n",
                                     "src/tab\there.ts": "export const t = 1;\n"})
    (root / "src" / os.fsdecode(b"caf\xe9.ts")).write_text("export const c = 1;\n")
    (root / "src" / os.fsdecode(b"d\xe9")).mkdir()
    (root / "src" / os.fsdecode(b"d\xe9") / "x.ts").write_text("export const x = 1;\n")
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / os.fsdecode(b"t\xff.jsonl")).write_text('{"caller": "elsewhere.ts:f", "callee": "elsewhere.ts:g"}\n')
    found = sources.scan(root)
    assert [f.path for f in found.files] == ["src/a.ts", "src/b.ts", "src/tab\there.ts"]
    assert sorted(found.errors) == [("src/caf\ufffd.ts", "file name is not UTF-8; not indexed"),
                                    ("src/d\ufffd/x.ts", "file name is not UTF-8; not indexed")]

    done = cogo("index", str(root), "--no-embed", "--json", "--traces", str(traces))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["files"] == 3 and {e["path"] for e in summary["errors"]} == {"src/caf\ufffd.ts", "src/d\ufffd/x.ts"}
    assert summary["trace_files"] == 1
    assert [w.split(": ")[0] for w in summary["trace_warnings"]] == ["t\ufffd.jsonl"]  # stored in the run's summary


def test_a_config_problem_names_its_file_once_at_the_root_and_in_a_package(tmp_path: Path):
    """A config's syntax problem came back from the reader with the file's name and was named
    again by each report (``tsconfig.json: tsconfig.json: not JSON/JSONC``, and
    ``apps/web/tsconfig.json: tsconfig.json: …`` for a package's own config); a base's problem
    still says which base."""
    root = write(tmp_path / "repo", {
        "tsconfig.json": '{"compilerOptions": {"baseUrl": "." "strict": true}}',
        "apps/web/tsconfig.json": '{"extends": "./base.json", "compilerOptions": {"baseUrl": "." @}}',
        "apps/web/base.json": '{"compilerOptions": {"strict": true,, }}',
        "apps/web/src/a.ts": "import { b } from './b';\n", "apps/web/src/b.ts": "export const b = 1;\n",
    })
    done = cogo("graph", str(root), "--no-store", "--include", "apps/**/*.ts")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    problems = [line for line in done.stderr.splitlines() if "JSON/JSONC" in line]
    assert problems and all(line.count("tsconfig.json") == 1 for line in problems), problems
    assert any(line.startswith("cogo graph: tsconfig.json: not JSON/JSONC") for line in problems), problems
    assert any(line.startswith("cogo graph: apps/web/tsconfig.json: not JSON/JSONC") for line in problems), problems
    assert any("base.json: not JSON/JSONC" in line for line in problems), problems


def test_tsconfig_with_a_syntax_error_keeps_what_parses(tmp_path: Path):
    root = write(tmp_path / "repo", {
        # a missing comma after baseUrl and a stray token: tsc still reads baseUrl and paths
        "tsconfig.json": '{\n "compilerOptions": {\n  "baseUrl": "."\n  "paths": {"~/*": ["src/*"]}, @@,\n'
                         '  "strict": true\n }\n}\n',
        "src/a.ts": "import { b } from '~/b';\n",
        "src/b.ts": "export const b = 1;\n",
    })
    config = tsconfig.find(root)
    assert config.paths == {"~/*": ["src/*"]} and config.base_url == root.resolve()
    assert config.errors and all("line" in e for e in config.errors)
    static, _ = analyze(root)
    assert [(e.src, e.dst) for e in static.module_edges] == [("src/a.ts", "src/b.ts")]
    assert any(path == "tsconfig.json" and "',' expected at line 4" in problem for path, problem in static.errors)


@pytest.mark.parametrize("text", [
    "{" * 100_000,
    '{"a": ' + '"x", ' * 50_000,
    "/*" + "x" * 200_000,
    '{"a": "' + "\\" * 100_000,
])
def test_lenient_reader_is_linear_on_hostile_configs(tmp_path: Path, text: str):
    import time

    (tmp_path / "tsconfig.json").write_text(text)
    started = time.perf_counter()
    config = tsconfig.find(tmp_path)
    assert time.perf_counter() - started < 2.0
    assert config.errors and len(config.errors) <= 6


def test_a_fault_in_one_files_extraction_is_that_files_error(tmp_path: Path, monkeypatch):
    """An extractor fault (a bug, a recursion limit) on one file leaves the others' graph and
    names the file, instead of ending the whole run with a traceback."""
    from cogo_pipelines.indexing import typescript

    root = write(tmp_path / "repo", {"src/a.ts": "import { b } from './b';\nimport { c } from './c';\n",
                                     "src/b.ts": "export const b = 1;\n", "src/c.ts": "export const c = 2;\n"})
    real = typescript._extract

    def faulty(path, source, tree, tsx):
        if path == "src/c.ts":
            raise RecursionError("maximum recursion depth exceeded\nwhile walking")
        return real(path, source, tree, tsx)

    monkeypatch.setattr(typescript, "_extract", faulty)  # workers fork and inherit the fault
    static, _ = analyze(root)
    assert {(e.src, e.dst) for e in static.module_edges} >= {("src/a.ts", "src/b.ts"), ("src/a.ts", "src/c.ts")}
    assert ("src/c.ts", "extraction failed: RecursionError: maximum recursion depth exceeded") in [
        (p, problem) for p, problem in static.errors]


# --- hostile trees (session 20's audit) ---------------------------------------------------------

def test_links_to_files_outside_the_repository_are_never_read(tmp_path: Path):
    """A link in a repo may point at ``/proc/self/environ`` or a key file: it was followed,
    read, chunked and served by search. It is now reported and left out; a link to a file
    inside the repo is still read."""
    outside = write(tmp_path / "outside", {"secret.ts": "export const SECRET = 'hunter2';\n"})
    root = write(tmp_path / "repo", {"src/a.ts": "export const a = 1;\n"})
    os.symlink(outside / "secret.ts", root / "src" / "env.ts")
    os.symlink("../../outside/secret.ts", root / "src" / "relative.ts")
    os.symlink("a.ts", root / "src" / "alias.ts")
    found = sources.scan(root)
    assert [f.path for f in found.files] == ["src/a.ts", "src/alias.ts"]
    assert sorted(found.errors) == [("src/env.ts", "a link to a file outside the repository; not indexed"),
                                    ("src/relative.ts", "a link to a file outside the repository; not indexed")]
    done = cogo("graph", str(root), "--no-store", "--symbols", "--format", "json")
    assert done.returncode == 0 and "SECRET" not in done.stdout and "src/env.ts: a link" in done.stderr


def test_a_tree_nested_a_thousand_folders_deep_is_walked_without_recursion(tmp_path: Path):
    """Python 3.11's ``os.walk`` recurses: ~1,000 nested folders raised RecursionError out of
    ``cogo index``. The walk is a loop now; what lies deeper than ``MAX_FOLDER_DEPTH`` is not
    entered and is reported."""
    from cogo_pipelines.indexing.reading import MAX_FOLDER_DEPTH

    root = write(tmp_path / "repo", {"src/a.ts": "export const a = 1;\n"})
    deep = root / "src"
    for i in range(1100):  # one level at a time: ``mkdir(parents=True)`` recurses too
        deep = deep / "d"
        deep.mkdir()
        if i == 9:
            (deep / "ten.ts").write_text("export const ten = 10;\n")
    (deep / "x.ts").write_text("export const x = 1;\n")
    try:
        found = sources.scan(root)
        assert [f.path for f in found.files] == ["src/a.ts", "src/" + "d/" * 10 + "ten.ts"]
        [(folder, problem)] = found.errors
        assert folder == "src/" + "d/" * (MAX_FOLDER_DEPTH - 1) and "deeper than" in problem  # its folders not entered
    finally:  # bottom up: ``shutil.rmtree`` (pytest's clean-up) recurses as well
        (deep / "x.ts").unlink()
        while deep != root / "src" / "d" / "d" / "d" / "d" / "d" / "d" / "d" / "d" / "d" / "d":
            deep.rmdir()
            deep = deep.parent


@pytest.mark.parametrize("where", ["flag-include", "flag-exclude", "flag-entry", "env", "cogo.toml"])
def test_a_bad_glob_is_a_one_line_error_naming_it(tmp_path: Path, where: str):
    root = write(tmp_path / "repo", {"src/a.ts": "export const a = 1;\n"})
    args, env = [], {}
    if where.startswith("flag"):
        args = [f"--{where.split('-')[1]}", "[z-a]"]
    elif where == "env":
        env = {"INDEX_EXCLUDE": "src/x,[z-a]"}
    else:
        (root / "cogo.toml").write_text('[index]\nexclude = ["[z-a]"]\n')
    done = cogo("graph", str(root), "--no-store", *args, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "'[z-a]'" in done.stderr and "not a valid glob" in done.stderr


def test_a_gitignore_line_git_cannot_use_is_passed_over(tmp_path: Path):
    """git ignores a pattern it cannot read; such a line in the repo's own ``.gitignore`` made
    every index of the repo fail with a traceback."""
    root = write(tmp_path / "repo", {"src/a.ts": "export const a = 1;\n", "src/gen/b.ts": "export const b = 1;\n",
                                     ".gitignore": "[z-a]\n\\\ngen/\n"})
    found = sources.scan(root)
    assert [f.path for f in found.files] == ["src/a.ts"]


def test_paths_and_names_with_brackets_are_printed_as_they_are(tmp_path: Path, database_url: str):
    """Next.js routes live in ``[slug]`` folders: their problems were printed through rich
    markup (``src/app//page.tsx``), and a folder named ``[`` ended ``cogo index`` with a
    MarkupError after the index was committed; ``--repo '[/]'`` too."""
    root = write(tmp_path / "app", {"src/app/[slug]/page.tsx": "export default function Page( {\n",
                                    "src/[/]x.ts": "export const = ;\n", "src/ok.ts": "export const ok = 1;\n"})
    done = cogo("index", str(root), "--no-embed", env={"DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    assert "src/app/[slug]/page.tsx:" in done.stderr and "src/[/]x.ts:" in done.stderr
    assert "Traceback" not in done.stderr
    for repo in ("[/]", "[bold red]x"):
        found = cogo("search", "ok", "--repo", repo, env={"DATABASE_URL": database_url})
        assert found.returncode == 2 and "Traceback" not in found.stderr
        assert found.stderr.count("\n") == 1 and repr(repo) in found.stderr
