"""What a package folder says about its files: ``package.json`` (and ``deno.json``) ``exports``,
``imports``, ``main``/``types``, and where a package's build comes from.

A checkout is usually unbuilt (or its build is gitignored), so every target is tried in condition
order and a source wins over a declaration; a build target under the package tsconfig's
``outDir`` maps back to ``rootDir``, as tsc's project references redirect, and a bundled package
with no ``outDir`` to read falls back to the ``src/`` twin of its ``dist/`` entry.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cogo_pipelines.indexing.tsconfig import TsConfig
from cogo_pipelines.indexing.tsconfig import load as load_config

CONDITIONS = ("types", "typescript", "source", "import", "module", "node", "require", "default")

# not jsconfig.json: tsc gives that file noEmit (it describes no build), and a project reference
# to a folder opens its tsconfig.json
BUILD_CONFIGS = ("tsconfig.json", "tsconfig.build.json", "tsconfig.lib.json", "tsconfig.src.json")


BUILD_FOLDERS = ("dist", "lib", "build", "out", "esm", "cjs")


# a build's per-module-format folders (tshy writes dist/esm and dist/commonjs)
FORMAT_FOLDERS = frozenset({"esm", "commonjs", "cjs", "mjs"})


def source_twin(folder: str, target: str) -> str | None:
    """``<pkg>/dist/x/index.mjs`` -> ``<pkg>/src/x/index`` when the package has a ``src/``;
    ``dist/esm/x/index.js`` -> ``src/x/index`` too, unless ``src/esm/`` exists."""
    rel = os.path.relpath(target, folder).split(os.sep)
    if len(rel) < 2 or rel[0] not in BUILD_FOLDERS or not os.path.isdir(os.path.join(folder, "src")):
        return None
    if len(rel) > 2 and rel[1] in FORMAT_FOLDERS and not os.path.isdir(os.path.join(folder, "src", rel[1])):
        rel = rel[1:]
    return os.path.join(folder, "src", build_stem(os.path.join(*rel[1:])))


def build_stem(path: str) -> str:
    """A build file's path without its build extension (``x/index.d.ts``, ``x/index.mjs`` ->
    ``x/index``), for the source to be probed under it."""
    return _BUILD_EXTENSION.sub("", DECLARATION.sub("", path))


def build_configs(folder: str) -> list[TsConfig]:
    """A package's usual tsconfigs that set an ``outDir`` (with their ``extends``), in
    ``BUILD_CONFIGS`` order. All of them, not the first: astro's ``tsconfig.json`` inherits an
    editor cache ``outDir`` from its base while ``tsconfig.build.json`` builds ``dist/``, and its
    939 test imports of ``../dist/…js`` went unresolved."""
    found = []
    for name in BUILD_CONFIGS:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            config = load_config(Path(path))
            if config.out_dir is not None:
                found.append(config)
    return found


DECLARATION = re.compile(r"\.d\.[cm]?ts$")
_BUILD_EXTENSION = re.compile(r"\.[cm]?jsx?$")


def manifest_entries(data: dict) -> list[str]:
    """A package folder's entry files, in the order tsc tries them (``types`` first), with the
    ``exports`` targets for ``"."`` after (one of them may be the source when the rest is a build)."""
    entries = [data[key] for key in ("types", "typings", "main", "module") if isinstance(data.get(key), str)]
    return entries + [t for t in export_targets(data.get("exports"), ".") if t not in entries]


# conditions nest a few levels in real manifests; a manifest nested hundreds deep (it still
# loads as JSON) ran the walk below out of Python's stack
MAX_CONDITION_DEPTH = 32


def pick_conditions(value: object, star: str | None = None, custom: tuple[str, ...] = (), depth: int = 0) -> list[str]:
    """Every target of a conditional export, in condition order (``types`` before ``default``);
    ``custom``: the importer's tsconfig ``customConditions``, matched as the built-in ones are.
    A level with none of them gives the targets of the conditions it has."""
    if isinstance(value, str):
        return [value.replace("*", star) if star is not None else value]
    picked: list[str] = []
    if depth >= MAX_CONDITION_DEPTH:
        return picked
    if isinstance(value, list):
        for item in value:
            picked.extend(pick_conditions(item, star, custom, depth + 1))
    elif isinstance(value, dict):
        others = []
        for condition, inner in value.items():
            if condition in CONDITIONS or condition in custom:
                picked.extend(pick_conditions(inner, star, custom, depth + 1))
            else:
                others.append(inner)
        if not picked:  # only a framework's own conditions (astro's "astro", "svelte", "worker"): the
            # file is still the package's, and a module edge to it beats none
            for inner in others:
                picked.extend(pick_conditions(inner, star, custom, depth + 1))
    return list(dict.fromkeys(picked))


def export_targets(exports: object, subpath: str, custom: tuple[str, ...] = ()) -> list[str]:
    """The files a package's ``exports`` (or ``imports``) map gives ``subpath``, every condition
    in order: the caller takes the first that exists, as a checkout often lacks the ``types`` build.
    ``custom``: the importer's ``customConditions`` (trigger.dev's ``"@triggerdotdev/source":
    "./src/v3/index.ts"`` inside ``import``, before the ``dist/`` a checkout has not built)."""
    if exports is None:
        return []
    if isinstance(exports, (str, list)) or (
        isinstance(exports, dict) and exports and not next(iter(exports)).startswith((".", "#"))
    ):
        return pick_conditions(exports, None, custom) if subpath == "." else []
    if not isinstance(exports, dict):
        return []
    if subpath in exports:
        return pick_conditions(exports[subpath], None, custom)
    best = None
    for pattern, value in exports.items():
        prefix, star, suffix = pattern.partition("*")
        matches = star and subpath.startswith(prefix) and subpath.endswith(suffix)
        if matches and (best is None or len(prefix) > len(best[0])):
            best = (prefix, suffix, value)
    if best:
        prefix, suffix, value = best
        return pick_conditions(value, subpath[len(prefix): len(subpath) - len(suffix) if suffix else None], custom)
    return []
