"""Resolve import specifiers to repository files, like TypeScript's ``node``/``bundler``
module resolution: relative paths, ``paths``/``baseUrl``, ``rootDirs``, extension probing
(.ts, .tsx, .d.ts, then .js), ``.js``/``.mjs`` specifiers mapped to their TypeScript
sources, folder ``index`` files and workspace packages (``exports``/``types``).

Directory listings are cached, so probing costs set lookups rather than ``stat`` calls.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cogo_pipelines.indexing import deno, packages, sveltekit
from cogo_pipelines.indexing.config_files import read_manifest
from cogo_pipelines.indexing.tsconfig import TsConfig, config_name
from cogo_pipelines.indexing.tsconfig import load as load_config

PROBE_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mts", ".cts", ".d.mts", ".d.cts", ".mjs", ".cjs")
INDEX_FILES = tuple("index" + e for e in (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mts", ".mjs", ".cjs"))
# a JavaScript specifier names the file the TypeScript source compiles to
JS_TO_TS = {
    ".js": (".ts", ".tsx", ".d.ts"),
    ".jsx": (".ts", ".tsx", ".d.ts"),
    ".mjs": (".mts", ".d.mts"),
    ".cjs": (".cts", ".d.cts"),
}
NODE_BUILTINS = frozenset(["assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib", "test", "sqlite", "sea"])
SKIP_DIRS = frozenset({"node_modules", ".git", ".hg", ".svn"})


@dataclass(frozen=True)
class Resolution:
    status: str  # internal | external | builtin | unresolved
    path: str | None = None  # repo-relative POSIX path when internal
    reason: str | None = None

    @property
    def internal(self) -> bool:
        return self.status == "internal"


def is_relative(spec: str) -> bool:
    return spec.startswith(("./", "../", "/")) or spec in (".", "..")


def package_name(spec: str) -> str:
    """``@scope/pkg`` / ``pkg`` of a bare specifier (Deno's ``npm:pkg@1/x`` included)."""
    if spec.startswith(("npm:", "jsr:")):
        spec = spec[4:]
        parts = spec.split("/")
        name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
        return name[0] + name[1:].split("@")[0]  # without the version, keeping a scope's "@"
    parts = spec.split("/")
    return "/".join(parts[:2]) if spec.startswith("@") and len(parts) > 1 else parts[0]


class Resolver:
    def __init__(self, root: Path, config: TsConfig | None = None) -> None:
        self.root = str(root.resolve())
        self._root_prefix = self.root.rstrip(os.sep) + os.sep
        self._places: dict[str, tuple[str, Resolver]] = {}
        self.config = config or TsConfig()
        self._listings: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._cache: dict[tuple[str, str], Resolution] = {}
        self._patterns = self.config.path_patterns
        self._workspace: dict[str, str] | None = None
        # a monorepo's packages each have a tsconfig of their own (``~/*`` in apps/web means
        # apps/web/src/*): a file resolves under the nearest one, as the editor's tsserver does
        self._scopes: dict[str, Resolver] = {}  # folder -> the resolver of its nearest tsconfig
        self._deno_maps: dict[str, list[tuple[str, dict]]] = {}  # folder -> import maps above it
        self._svelte_apps: dict[str, str | None] = {}  # folder -> the SvelteKit app it is in (svelte.config's folder)
        self._kit_aliases: dict[str, list[tuple[str, str | None, list[str], str]]] = {}  # app -> its kit.alias patterns
        self._contexts: dict[str, object] = {}  # folder -> what a bare specifier's meaning there depends on
        self._build_configs: dict[str, TsConfig | None] = {}  # package folder -> its config with an outDir
        self._by_config: dict[str, Resolver | None] = {}
        # (config, problem) of the package tsconfigs read on the way: shared with every scope,
        # reported with the graph's errors as the root config's are
        self.config_problems: list[tuple[str, str]] = []

    # --- file system -------------------------------------------------------------------
    def _listing(self, folder: str) -> tuple[frozenset[str], frozenset[str]]:
        found = self._listings.get(folder)
        if found is None:
            files, dirs = set(), set()
            try:
                with os.scandir(folder) as it:
                    for entry in it:
                        (dirs if entry.is_dir() else files).add(entry.name)
            except OSError:
                pass
            found = self._listings[folder] = (frozenset(files), frozenset(dirs))
        return found

    def _probe(self, base: str, depth: int = 0) -> str | None:
        """The file ``base`` names, trying what tsc tries, or None."""
        folder, name = os.path.split(base)
        files, dirs = self._listing(folder)
        stem, ext = os.path.splitext(name)
        for ts_ext in JS_TO_TS.get(ext, ()):
            if stem + ts_ext in files:
                return os.path.join(folder, stem + ts_ext)
        if name in files and ext:
            return base
        for probe_ext in PROBE_EXTENSIONS:
            if name + probe_ext in files:
                return base + probe_ext
        if name in dirs and depth < 3:
            inner_files, _ = self._listing(base)
            if "package.json" in inner_files:
                hit = _source_first(self._probe(os.path.normpath(os.path.join(base, target)), depth + 1)
                                    for target in packages.manifest_entries(read_manifest(os.path.join(base, "package.json"))))
                if hit:
                    return hit
            for index in INDEX_FILES:
                if index in inner_files:
                    return os.path.join(base, index)
        return None

    def _relative(self, absolute: str) -> str | None:
        # the probes hand back normalised paths under the root: cutting the prefix is relpath's
        # answer at a tenth of its cost (it ran ~1,800 times per cold graph of effect)
        if absolute.startswith(self._root_prefix) and "/." not in absolute:
            rel = absolute[len(self._root_prefix):]
        else:
            rel = os.path.relpath(absolute, self.root)
        if rel.startswith("..") or "node_modules" in rel.split(os.sep):
            return None
        return rel.replace(os.sep, "/")

    def _found(self, absolute: str | None) -> Resolution | None:
        if absolute is None:
            return None
        rel = self._relative(absolute)
        return Resolution("internal", rel) if rel else Resolution("external", reason="outside the repository")

    # --- specifiers --------------------------------------------------------------------
    def resolve(self, spec: str, from_path: str) -> Resolution:
        """Resolve ``spec`` imported by the repo-relative file ``from_path``."""
        place = self._places.get(from_path)  # a file's folder, scope and context, once per file, not per import
        if place is None:
            from_dir = os.path.dirname(from_path)
            place = self._places[from_path] = (from_dir, self._scope(from_dir), self._context(from_dir))
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
                if name is not None:
                    scope = self._nested(os.path.join(self.root, from_dir, name))
                scope = scope or self._scope(os.path.dirname(from_dir))
            self._scopes[from_dir] = scope
        return scope

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

    def _svelte_app(self, from_dir: str) -> str | None:
        """The folder of the nearest ``svelte.config.*`` at or above ``from_dir``, or None."""
        app = self._svelte_apps.get(from_dir, False)
        if app is False:
            files = self._listing(os.path.join(self.root, from_dir) if from_dir else self.root)[0]
            if any(name.startswith("svelte.config.") for name in files):
                app = from_dir
            else:
                app = self._svelte_app(os.path.dirname(from_dir)) if from_dir else None
            self._svelte_apps[from_dir] = app
        return app

    def _nested(self, config_path: str) -> Resolver | None:
        """The resolver of a package's own tsconfig, or None when that config (with its
        ``extends``) maps no module names: a solution-style ``{"files": [], "references": …}`` or
        a config for the build only keeps the outer scope's ``paths``, as before scopes."""
        if config_path in self._by_config:
            return self._by_config[config_path]
        config = load_config(Path(config_path))
        seen = {problem for _, problem in self.config_problems}  # a shared base's problem once, not per app
        self.config_problems.extend((self._relative(config_path) or config_path, problem)
                                    for problem in dict.fromkeys(config.errors) if problem not in seen)
        if not (config.paths or config.base_url or config.root_dirs):
            self._by_config[config_path] = None
            return None
        if self._workspace is None:
            self._workspace = self._scan_workspace()
        nested = Resolver.__new__(Resolver)
        nested.__dict__.update(self.__dict__)  # one root, one cache of listings and of packages
        nested.config = config
        nested._patterns = nested.config.path_patterns
        nested._cache = {}
        self._by_config[config_path] = nested
        return nested

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
            star = _star(spec, prefix, suffix)
            if star is None:
                continue
            for target in targets:
                found = self._found(self._probe(os.path.normpath(os.path.join(base, target.replace("*", star)))))
                if found:
                    return found
            # tsc only tries the best-matching pattern. An alias with a prefix of its own
            # (``@/*``, ``~/*``) that names no file is a broken import of the repo, not a package;
            # a catch-all ``*`` falls through to packages
            if prefix and not _could_be_package(spec):
                return Resolution("unresolved", reason=f"paths {prefix}{'*' if suffix is not None else ''}"
                                  f"{suffix or ''} names no file for {spec!r}")
            return None
        return None

    def _via_imports_field(self, spec: str, from_dir: str) -> Resolution:
        """``#internal/x`` through the ``imports`` map of the nearest package.json."""
        folder = os.path.join(self.root, from_dir)
        while True:
            manifest = os.path.join(folder, "package.json")
            if os.path.isfile(manifest):
                targets = packages.export_targets(read_manifest(manifest).get("imports") or None, spec)
                found = self._first_source(folder, targets)
                return found or Resolution("unresolved", reason=f"package.json imports has no file for {spec!r}")
            if os.path.normpath(folder) == self.root or os.path.dirname(folder) == folder:
                return Resolution("unresolved", reason=f"no package.json with imports for {spec!r}")
            folder = os.path.dirname(folder)

    def _via_deno(self, spec: str, from_dir: str) -> Resolution | None:
        """A bare specifier through the nearest ``deno.json`` import maps, and ``jsr:``/``npm:``
        specifiers that name a member of the workspace; None when Deno has no say."""
        target = spec
        for folder, imports in self._import_maps(from_dir):
            mapped = deno.map_specifier(imports, spec)
            if mapped is None:
                continue
            if is_relative(mapped):
                found = self._found(self._probe(os.path.normpath(os.path.join(folder, mapped))))
                return found or Resolution("unresolved", reason=f"import map names no file for {spec!r}")
            target = mapped
            break
        if target.startswith(("http:", "https:")):
            return Resolution("external")
        bare = deno.registry_bare(target)
        if bare is None:
            return None
        found = self._via_workspace(bare)
        return found if found and found.internal else Resolution("external")

    def _build_source(self, folder: str, target: str) -> str | None:
        """The source a package's build target comes from: ``dist/utils/index.d.ts`` with
        ``outDir: dist`` and ``rootDir: src`` is ``src/utils/index`` (probed as ``.ts``), as tsc's
        project references redirect to the referenced project's sources."""
        config = self._build_configs.get(folder, False)
        if config is False:
            config = self._build_configs[folder] = packages.build_config(folder)
        if config is None or not target.startswith(str(config.out_dir) + os.sep):
            return None
        root_dir = config.root_dir or os.path.join(folder, "src")
        return os.path.join(str(root_dir), packages.build_stem(target[len(str(config.out_dir)) + 1:]))

    def _build_source_above(self, target: str) -> str | None:
        """``_build_source`` for the nearest package above ``target`` whose outDir holds it."""
        folder = os.path.dirname(target)
        while folder.startswith(self._root_prefix):
            source = self._build_source(folder, target)
            if source:
                return source
            folder = os.path.dirname(folder)
        return None

    def _via_kit_alias(self, spec: str, app: str) -> Resolution | None:
        """A SvelteKit app's aliases (``kit.alias`` of its svelte.config, and ``$lib``), read from
        the config because the generated ``.svelte-kit/tsconfig.json`` that would carry them as
        ``paths`` is absent in a checkout. An alias the app's own tsconfig names in ``paths``
        (that generated config, extended) is left to them; a monorepo root's ``paths`` do not
        override the app's aliases. As Vite does, an alias that names no file is a broken
        import, never a package."""
        patterns = self._kit_aliases.get(app)
        if patterns is None:
            patterns = self._kit_aliases[app] = self._read_kit_aliases(app)
        base = os.path.join(self.root, app) if app else self.root
        own = self.config.paths if self.config.path is not None and str(self.config.path).startswith(
            base.rstrip(os.sep) + os.sep) else {}
        for prefix, suffix, targets, key in patterns:
            star = _star(spec, prefix, suffix)
            if star is None or key in own:
                continue
            for target in targets:
                found = self._found(self._probe(os.path.normpath(os.path.join(base, target.replace("*", star)))))
                if found:
                    return found
            return Resolution("unresolved", reason=f"SvelteKit alias {key} ({targets[0]}) has no file for {spec!r}")
        return None

    def _read_kit_aliases(self, app: str) -> list[tuple[str, str | None, list[str], str]]:
        """``(prefix, suffix, targets, key)`` of the app's aliases, best match first; the
        config's problems (an alias that is not a literal) go with the graph's, once."""
        folder = os.path.join(self.root, app)
        name, kit = sveltekit.read_config(Path(folder), self._listing(folder)[0])
        rel = f"{app}/{name}" if app else name
        self.config_problems.extend((rel, problem) for problem in kit.problems)
        return [(prefix, suffix, targets, prefix + ("*" + suffix if suffix is not None else ""))
                for prefix, suffix, targets in TsConfig(paths=kit.paths).path_patterns]

    def _import_maps(self, from_dir: str) -> list[tuple[str, dict]]:
        """``(folder, imports)`` of each ``deno.json`` from ``from_dir`` up to the root, nearest first."""
        maps = self._deno_maps.get(from_dir)
        if maps is None:
            folder = os.path.join(self.root, from_dir) if from_dir else self.root
            files = self._listing(folder)[0]
            own = []
            if files.intersection(deno.CONFIG_NAMES):
                imports = (deno.read_config(folder) or {}).get("imports")
                if isinstance(imports, dict):
                    own = [(folder, imports)]
            maps = own + (self._import_maps(os.path.dirname(from_dir)) if from_dir else [])
            self._deno_maps[from_dir] = maps
        return maps

    def _via_workspace(self, spec: str) -> Resolution | None:
        if self._workspace is None:
            self._workspace = self._scan_workspace()
        name = package_name(spec)
        folder = self._workspace.get(name)
        if folder is None:
            return None
        subpath = "." + spec[len(name):]
        manifest = read_manifest(os.path.join(folder, "package.json")) or deno.read_config(folder) or {}
        candidates = packages.export_targets(manifest.get("exports"), subpath) if manifest else []
        if not candidates and subpath == ".":
            candidates = packages.manifest_entries(manifest)
        if subpath != ".":
            candidates.append(subpath)
        found = self._first_source(folder, candidates)
        return found or Resolution("unresolved", reason=f"workspace package {name} has no file for {spec!r}")

    def _first_source(self, folder: str, targets: list[str]) -> Resolution | None:
        """The first of a manifest's targets (in condition order) that names a file, a source
        before a declaration: ``{"types": "./dist/index.d.ts", "default": "./src/index.ts"}``
        is ``src/index.ts`` in a checkout, where ``dist/`` is unbuilt (or built and gitignored)."""
        bases = [os.path.normpath(os.path.join(folder, t)) for t in targets]
        bases = [source for base in bases for source in (self._build_source(folder, base), base) if source]
        hit = _source_first(map(self._probe, bases))
        if hit is None:  # unbuilt and no outDir to read: dist/index.mjs of a bundled package is src/index
            hit = _source_first(map(self._probe, filter(None, (packages.source_twin(folder, b) for b in bases))))
        return self._found(hit)

    def _scan_workspace(self) -> dict[str, str]:
        """Package names declared by package.json (or Deno member deno.json) files inside the repo (not node_modules).

        The repo's own root package is left out: a self-import by package name goes to its
        published build (or through ``paths``), as bundlers and dependency-cruiser see it.
        """
        found: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
            if dirpath == self.root:
                continue
            names = []
            if "package.json" in filenames:
                names.append(read_manifest(os.path.join(dirpath, "package.json")).get("name"))
            if not set(filenames).isdisjoint(deno.CONFIG_NAMES):  # a Deno workspace member
                names.append((deno.read_config(dirpath) or {}).get("name"))
            for name in names:
                if isinstance(name, str) and name not in found:
                    found[name] = dirpath
        return found


def _star(spec: str, prefix: str, suffix: str | None) -> str | None:
    """What ``*`` stands for when ``spec`` matches the ``paths`` pattern ``prefix*suffix`` ("" for
    an exact pattern, ``suffix`` None), or None when it does not match."""
    if suffix is None:
        return "" if spec == prefix else None
    if spec.startswith(prefix) and spec.endswith(suffix) and len(spec) >= len(prefix) + len(suffix):
        return spec[len(prefix): len(spec) - len(suffix)]
    return None


def _source_first(hits: Iterable[str | None]) -> str | None:
    """The first file found that is a source, else the first declaration (``.d.ts``), else
    None: a checkout's ``types`` target is a declaration of the source it ships beside."""
    found = [hit for hit in hits if hit]
    return next((hit for hit in found if not packages.DECLARATION.search(hit)), found[0] if found else None)


_PACKAGE_NAME = re.compile(r"(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*")


def _could_be_package(spec: str) -> bool:
    """Whether ``spec`` starts with a valid npm package name (``@/x`` and ``~/x`` do not)."""
    return _PACKAGE_NAME.fullmatch(package_name(spec)) is not None
