"""Resolve import specifiers to repository files, like TypeScript's ``node``/``bundler``
module resolution: relative paths, ``paths``/``baseUrl``, ``rootDirs``, extension probing
(.ts, .tsx, .d.ts, then .js), ``.js``/``.mjs`` specifiers mapped to their TypeScript
sources, folder ``index`` files and workspace packages (``exports``/``types``).

The resolver's own part is the order of those rules and the scopes (the tsconfig that governs a
file, its SvelteKit app and Deno import maps); probing files is ``resolve_files``, which files a
config's project holds ``tsconfig_files``, packages of
the workspace ``resolve_packages``, Deno and SvelteKit maps ``resolve_aliases`` (mixins of
``Resolver``, so that each lookup stays one method call), specifier strings ``specifiers``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from cogo_pipelines.indexing.resolve_aliases import Aliases
from cogo_pipelines.indexing.resolve_files import RepoFiles
from cogo_pipelines.indexing.resolve_packages import PackageLookup
from cogo_pipelines.indexing.specifiers import (
    NODE_BUILTINS,
    Resolution,
    could_be_package,
    is_relative,
    package_name,
    star_of,
)
from cogo_pipelines.indexing.tsconfig import TsConfig, config_name
from cogo_pipelines.indexing.tsconfig import load as load_config
from cogo_pipelines.indexing.tsconfig_files import includes

# the configs one folder's search reads through ``references`` at most (a solution file refers to
# a few; a cycle or a generated web of references ends here)
MAX_REFERENCED_CONFIGS = 64


class Resolver(RepoFiles, PackageLookup, Aliases):
    def __init__(self, root: Path, config: TsConfig | None = None) -> None:
        self.root = str(root.resolve())
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self._places: dict[str, tuple[str, Resolver]] = {}
        self.config = config or TsConfig()
        self._listings: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._cache: dict[tuple[str, str], Resolution] = {}
        self._patterns = self.config.path_patterns
        self._workspace: dict[str, str] | None = None
        self._outside_workspace: set[str] = set()  # package names declared only outside the workspace globs
        # a monorepo's packages each have a tsconfig of their own (``~/*`` in apps/web means
        # apps/web/src/*): a file resolves under the nearest one, as the editor's tsserver does
        self._scopes: dict[str, Resolver] = {}  # folder -> the resolver of its nearest tsconfig
        self._deno_maps: dict[str, list[tuple[str, dict]]] = {}  # folder -> import maps above it
        self._svelte_apps: dict[str, str | None] = {}  # folder -> the SvelteKit app it is in (svelte.config's folder)
        self._kit_aliases: dict[str, list[tuple[str, str | None, list[str], str]]] = {}  # app -> its kit.alias patterns
        self._contexts: dict[str, object] = {}  # folder -> what a bare specifier's meaning there depends on
        self._build_configs: dict[str, list[TsConfig]] = {}  # package folder -> its configs with an outDir
        self._by_config: dict[str, Resolver | None] = {}
        self._by_options: dict[tuple, Resolver] = {}  # what a config maps names with (``_options``) -> its scope
        self._configs: dict[str, TsConfig] = {}  # config path -> what it reads (for scopes and for projects)
        self._candidates: dict[str, tuple] = {}  # folder -> the configs that may govern its files (``_governing``)
        self._above: dict[str, tuple] = {}  # folder -> the configs at and above it, with their references
        self._matchers: dict[str, Callable[[str], bool]] = {}  # config path -> whether its project holds a file
        self._by_conditions: dict[str, tuple[str, ...]] = {}  # config -> its customConditions, where it maps no names
        self._conditioned: dict[tuple[int, tuple[str, ...]], Resolver] = {}  # (scope, conditions) -> that scope so
        # (config, problem) of the package tsconfigs read on the way: shared with every scope,
        # reported with the graph's errors as the root config's are
        self.config_problems: list[tuple[str, str]] = []

    # --- specifiers --------------------------------------------------------------------
    def resolve(self, spec: str, from_path: str) -> Resolution:
        """Resolve ``spec`` imported by the repo-relative file ``from_path``."""
        place = self._places.get(from_path)  # a file's folder, scope and context, once per file, not per import
        if place is None:
            from_dir = os.path.dirname(from_path)
            place = self._places[from_path] = (from_dir, self._governing(from_path, from_dir), self._context(from_dir))
        from_dir, scope, context = place
        key = (from_dir if is_relative(spec) or spec.startswith("#") else context, spec)
        hit = scope._cache.get(key)
        if hit is None:
            hit = scope._cache[key] = scope._resolve(spec, from_dir)
        return hit

    def _scope(self, from_dir: str) -> Resolver:
        """The resolver of the nearest project config (``tsconfig.json``, else ``jsconfig.json``)
        at or above ``from_dir`` (this one at the root, or when there is none below it)."""
        scope = self._scopes.get(from_dir)
        if scope is None:
            if not from_dir:
                scope = self
            else:
                scope = None
                name = config_name(self._listing(os.path.join(self.root, from_dir))[0])  # tsconfig, else jsconfig
                config_path = os.path.join(self.root, from_dir, name) if name is not None else None
                if config_path is not None:
                    scope = self._nested(config_path)
                if scope is None:
                    scope = self._scope(os.path.dirname(from_dir))
                    if config_path is not None:  # a config that maps no names may still set conditions
                        scope = scope._with_conditions(self._by_conditions.get(config_path, ()))
            self._scopes[from_dir] = scope
        return scope

    def _governing(self, from_path: str, from_dir: str) -> Resolver:
        """The scope of the config that governs the file ``from_path``, as the TypeScript server
        finds it (``findDefaultConfiguredProject``, TS 5.7's search of ancestor configs): on the
        way up from the file, the first config whose project includes it (``tsconfig_files``),
        else a project that config refers to which does (a solution-style root's
        ``tsconfig.app.json``, the one that holds ``paths`` in Vite's template). A file no project
        includes keeps the nearest config's scope (tsc would give it none). Where every
        candidate comes to that same scope, as in a repo with one config, nothing is matched."""
        candidates = self._candidates.get(from_dir)
        if candidates is None:
            candidates = self._candidates[from_dir] = self._governing_candidates(from_dir)
        if candidates:
            path = self._root_prefix + from_path
            for holds, scope in candidates:
                if holds(path):
                    return scope
        return self._scope(from_dir)

    def _governing_candidates(self, from_dir: str) -> tuple[tuple[Callable[[str], bool], Resolver], ...]:
        """The configs that may govern the files of ``from_dir``, nearest first, each with its
        scope; those after the last whose scope differs from the nearest config's are left out
        (they would decide nothing)."""
        found = [(holds, scope) for _, holds, scope in self._configs_above(from_dir)]
        nearest = self._scope(from_dir)
        while found and found[-1][1] is nearest:
            found.pop()
        return tuple(found)

    def _configs_above(self, folder: str) -> tuple[tuple[str, Callable[[str], bool], Resolver], ...]:
        """``(config path, holds, scope)`` of the configs at and above ``folder``, nearest first,
        a config's references after it (a config once, where it comes first)."""
        known = self._above.get(folder)
        if known is not None:
            return known
        own: list[tuple[str, Callable[[str], bool], Resolver]] = []
        config, config_path = self._config_at(folder)
        if config is not None:
            outer = self._scope(folder)
            own.append((config_path, self._holds(config_path, config), outer))
            seen, todo = {config_path}, list(config.references)
            while todo and len(seen) < MAX_REFERENCED_CONFIGS:
                reference = str(todo.pop(0))
                if reference in seen or not os.path.isfile(reference):
                    continue
                seen.add(reference)
                referenced = self._loaded(reference)
                own.append((reference, self._holds(reference, referenced), self._nested(reference) or outer))
                todo.extend(referenced.references)
        above = self._configs_above(os.path.dirname(folder)) if folder else ()
        mine = {path for path, _, _ in own}
        known = self._above[folder] = (*own, *(entry for entry in above if entry[0] not in mine))
        return known

    def _config_at(self, folder: str) -> tuple[TsConfig | None, str]:
        """The project config of ``folder`` (the root's is this resolver's), with its path."""
        if not folder:
            return (self.config, str(self.config.path)) if self.config.path is not None else (None, "")
        name = config_name(self._listing(os.path.join(self.root, folder))[0])
        if name is None:
            return None, ""
        config_path = os.path.join(self.root, folder, name)
        return self._loaded(config_path), config_path

    def _loaded(self, config_path: str) -> TsConfig:
        config = self._configs.get(config_path)
        if config is None:
            config = self._configs[config_path] = load_config(Path(config_path))
        return config

    def _holds(self, config_path: str, config: TsConfig) -> Callable[[str], bool]:
        holds = self._matchers.get(config_path)
        if holds is None:
            holds = self._matchers[config_path] = includes(config)
        return holds

    def _context(self, from_dir: str) -> object:
        """What a bare specifier's meaning depends on besides the scope: the SvelteKit app (its
        ``kit.alias``) and the Deno import maps around ``from_dir``; "" when neither (the
        common case: one cache entry per specifier and scope, as before)."""
        context = self._contexts.get(from_dir)
        if context is None:
            app = self._svelte_app(from_dir)
            maps = self._import_maps(from_dir)
            context = "" if app is None and not maps else (app, tuple(folder for folder, _ in maps))
            self._contexts[from_dir] = context
        return context

    def _nested(self, config_path: str) -> Resolver | None:
        """The resolver of a package's own tsconfig, or None when that config (with its
        ``extends``) maps no module names: a solution-style ``{"files": [], "references": …}`` or
        a config for the build only keeps the outer scope's ``paths``, as before scopes."""
        if config_path in self._by_config:
            return self._by_config[config_path]
        config = self._loaded(config_path)
        # a shared base's problem once, not per app; each config's own (its missing base) with its name
        seen = {problem for _, problem in self.config_problems}
        self.config_problems.extend((self._relative(config_path) or config_path, problem)
                                    for problem in dict.fromkeys(config.errors)
                                    if problem not in seen or problem not in config.base_errors)
        if not (config.paths or config.base_url or config.root_dirs):
            self._by_config[config_path] = None
            self._by_conditions[config_path] = _conditions(config)
            return None
        if self._workspace is None:
            self._workspace = self._scan_workspace()
        # configs of one folder that map names alike (an Nx project's tsconfig.json, .app.json and
        # .spec.json, all from one base) are one scope: one cache, and nothing for ``_governing``
        # to tell apart file by file
        key = _options(config)
        nested = self._by_options.get(key)
        if nested is None:
            nested = self._by_options[key] = self if key == _options(self.config) else self._with_config(config)
        self._by_config[config_path] = nested
        return nested

    def _with_config(self, config: TsConfig) -> Resolver:
        """A scope reading ``config``: one root, one cache of listings and of packages, its own
        cache of resolutions."""
        scope = Resolver.__new__(Resolver)
        scope.__dict__.update(self.__dict__)
        scope.config = config
        scope._patterns = config.path_patterns
        scope._cache = {}
        return scope

    def _with_conditions(self, conditions: tuple[str, ...]) -> Resolver:
        """This scope with the ``customConditions`` of a package's config that maps no module
        names (``extends`` a shared base that sets them): its own ``exports`` lookups, the
        outer scope's ``paths``. This scope itself when they are the same."""
        if conditions == self.config.custom_conditions:
            return self
        key = (id(self), conditions)
        variant = self._conditioned.get(key)
        if variant is None:
            variant = self._conditioned[key] = self._with_config(dataclasses.replace(self.config, custom_conditions=conditions))
        return variant

    def _resolve(self, spec: str, from_dir: str) -> Resolution:
        if not spec:
            return Resolution("unresolved", reason="empty specifier")
        clean = spec.split("?", 1)[0].split("#", 1)[0] if not spec.startswith("#") else spec
        if is_relative(clean):
            base = os.path.normpath(os.path.join(self.root, from_dir, clean))
            found = self._found(self._probe(base))
            if found:
                return found
            for alt in self._root_dir_alternatives(base):
                found = self._found(self._probe(alt))
                if found:
                    return found
            found = self._found(self._probe(self._build_source_above(base) or base))
            if found:  # a test importing its package's build (../lib/x.js): tsc reads the source
                return found
            return Resolution("unresolved", reason=f"no file for {spec!r}")
        if clean.startswith("node:"):
            return Resolution("builtin")
        if clean.startswith("#"):
            return self._via_imports_field(clean, from_dir)
        via_deno = self._via_deno(clean, from_dir)
        if via_deno:
            return via_deno
        app = self._svelte_app(from_dir)
        if app is not None:
            via_kit = self._via_kit_alias(clean, app)
            if via_kit:
                return via_kit
        elif clean.split("/", 1)[0] == "$lib" and not any(p[0].startswith("$lib") for p in self._patterns):
            return Resolution("unresolved", reason=f"no svelte.config for {spec!r}")
        # ``paths`` and ``baseUrl`` come before the built-ins, as in tsc: with baseUrl "src",
        # ``constants/eventType`` is src/constants/eventType.ts, not node's ``constants``
        found = self._via_paths(clean)
        if found and found.status != "unresolved":
            return found
        missed = found  # a ``paths`` alias (``@/*``) that named no file
        if self.config.base_url is not None:
            via_base = self._found(self._probe(os.path.normpath(os.path.join(str(self.config.base_url), clean))))
            if via_base and via_base.internal:
                return via_base
        if package_name(clean) in NODE_BUILTINS:
            return Resolution("builtin")
        via_workspace = self._via_workspace(clean)
        if via_workspace:
            return via_workspace
        return missed or Resolution("external")

    def _root_dir_alternatives(self, base: str) -> list[str]:
        alts = []
        for root_dir in map(str, self.config.root_dirs):
            if base.startswith(root_dir + os.sep):
                rest = base[len(root_dir) + 1:]
                alts.extend(os.path.join(str(other), rest) for other in self.config.root_dirs if str(other) != root_dir)
        return alts

    def _via_paths(self, spec: str) -> Resolution | None:
        base = str(self.config.paths_base or self.root)
        for prefix, suffix, targets in self._patterns:
            star = star_of(spec, prefix, suffix)
            if star is None:
                continue
            for target in targets:
                found = self._found(self._probe(os.path.normpath(os.path.join(base, target.replace("*", star)))))
                if found:
                    return found
            # tsc only tries the best-matching pattern. An alias with a prefix of its own
            # (``@/*``, ``~/*``) that names no file is a broken import of the repo, not a package;
            # a catch-all ``*`` falls through to packages
            if prefix and not could_be_package(spec):
                return Resolution("unresolved", reason=f"paths {prefix}{'*' if suffix is not None else ''}"
                                  f"{suffix or ''} names no file for {spec!r}")
            return None
        return None


def _options(config: TsConfig) -> tuple:
    """What a scope reads of its config: the options that map names, and the config's folder
    (``_via_kit_alias`` asks whether the config is the SvelteKit app's own)."""
    return (config.path.parent if config.path is not None else None, tuple((k, tuple(v)) for k, v in config.paths.items()),
            config.paths_base, config.base_url, tuple(config.root_dirs), config.custom_conditions)


def _conditions(config: TsConfig) -> tuple[str, ...]:
    """A config's ``customConditions``; for a solution-style config (``"references"`` only, as
    tshy and project-reference monorepos write) those of the first referenced config that sets
    any: the editor opens a source file in the referenced project that includes it, and a
    package's source and test projects set the same conditions."""
    if config.custom_conditions or not config.references:
        return config.custom_conditions
    for reference in config.references:
        if reference.is_file():
            conditions = load_config(reference).custom_conditions
            if conditions:
                return conditions
    return ()
