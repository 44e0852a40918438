"""Packages inside the repository as module resolution finds them: a bare specifier naming a
workspace package (its ``exports``, ``types``, ``main``), ``#internal`` specifiers through the
``imports`` of the nearest ``package.json``, and a build target mapped back to its source
(``outDir`` to ``rootDir``, as tsc's project references redirect). A mixin of
``resolve.Resolver``, which holds the state.

Apart from the specifier rules because this is about what package folders declare: manifests,
the workspace's package names (one walk of the repository) and the packages' build configs.
"""

from __future__ import annotations

import os
from pathlib import Path

from cogo_pipelines.indexing import deno, packages, tsconfig_extends
from cogo_pipelines.indexing.config_files import read_manifest
from cogo_pipelines.indexing.reading import walk
from cogo_pipelines.indexing.resolve_files import source_first
from cogo_pipelines.indexing.specifiers import Resolution, package_name

SKIP_DIRS = frozenset({"node_modules", ".git", ".hg", ".svn"})


class PackageLookup:
    """Workspace packages, ``imports`` maps and build sources (their caches are the resolver's)."""

    def _via_imports_field(self, spec: str, from_dir: str) -> Resolution:
        """``#internal/x`` through the ``imports`` map of the nearest package.json."""
        folder = os.path.join(self.root, from_dir)
        while True:
            manifest = os.path.join(folder, "package.json")
            if os.path.isfile(manifest):
                targets = packages.export_targets(read_manifest(manifest).get("imports") or None, spec,
                                                 self.config.custom_conditions)
                found = self._first_source(folder, targets)
                return found or Resolution("unresolved", reason=f"package.json imports has no file for {spec!r}")
            if os.path.normpath(folder) == self.root or os.path.dirname(folder) == folder:
                return Resolution("unresolved", reason=f"no package.json with imports for {spec!r}")
            folder = os.path.dirname(folder)

    def _build_source(self, folder: str, target: str) -> str | None:
        """The source a package's build target comes from: ``dist/utils/index.d.ts`` with
        ``outDir: dist`` and ``rootDir: src`` is ``src/utils/index`` (probed as ``.ts``), as tsc's
        project references redirect to the referenced project's sources."""
        configs = self._build_configs.get(folder)
        if configs is None:
            configs = self._build_configs[folder] = packages.build_configs(folder)
        for config in configs:  # the first whose outDir holds the target
            if target.startswith(str(config.out_dir) + os.sep):
                root_dir = config.root_dir or os.path.join(folder, "src")
                return os.path.join(str(root_dir), packages.build_stem(target[len(str(config.out_dir)) + 1:]))
        return None

    def _build_source_above(self, target: str) -> str | None:
        """``_build_source`` for the nearest package above ``target`` whose outDir holds it."""
        folder = os.path.dirname(target)
        while folder.startswith(self._root_prefix):
            source = self._build_source(folder, target)
            if source:
                return source
            folder = os.path.dirname(folder)
        return None

    def _via_workspace(self, spec: str) -> Resolution | None:
        if self._workspace is None:
            self._workspace = self._scan_workspace()
        name = package_name(spec)
        folder = self._workspace.get(name)
        if folder is None:
            return None
        subpath = "." + spec[len(name):]
        manifest = read_manifest(os.path.join(folder, "package.json")) or deno.read_config(folder) or {}
        candidates = packages.export_targets(manifest.get("exports"), subpath, self.config.custom_conditions) if manifest else []
        if not candidates and subpath == ".":  # no entry declared: Node's and tsc's index.* of the folder
            candidates = packages.manifest_entries(manifest) or ["./index"]
        if subpath != ".":
            candidates.append(subpath)
        found = self._first_source(folder, candidates)
        if found is None and name in self._outside_workspace:
            # a package.json outside the declared workspace that holds no such file (SvelteKit's
            # test fixture named "typescript"): not the package the import means, an external one
            return None
        return found or Resolution("unresolved", reason=f"workspace package {name} has no file for {spec!r}")

    def _first_source(self, folder: str, targets: list[str]) -> Resolution | None:
        """The first of a manifest's targets (in condition order) that names a file, a source
        before a declaration: ``{"types": "./dist/index.d.ts", "default": "./src/index.ts"}``
        is ``src/index.ts`` in a checkout, where ``dist/`` is unbuilt (or built and gitignored)."""
        bases = [os.path.normpath(os.path.join(folder, t)) for t in targets]
        bases = [source for base in bases for source in (self._build_source(folder, base), base) if source]
        hit = source_first(map(self._probe, bases))
        if hit is None:  # unbuilt and no outDir to read: dist/index.mjs of a bundled package is src/index
            hit = source_first(map(self._probe, filter(None, (packages.source_twin(folder, b) for b in bases))))
        return self._found(hit)

    def _scan_workspace(self) -> dict[str, str]:
        """Package names declared by package.json (or Deno member deno.json) files inside the repo (not node_modules).

        The repo's own root package is left out: a self-import by package name goes to its
        published build (or through ``paths``), as bundlers and dependency-cruiser see it. When the
        root declares its workspace (``pnpm-workspace.yaml``, ``package.json`` ``workspaces``), a
        name its members declare wins over the same name elsewhere, and the others are noted in
        ``_outside_workspace`` (``_via_workspace`` takes one for an external package when it has no
        file for the specifier).
        """
        found: dict[str, str] = {}
        outside: set[str] = set()
        globs = tsconfig_extends.workspace_globs(Path(self.root))
        members = tsconfig_extends.workspace_member_pattern(globs) if globs else None
        for dirpath, dirnames, filenames in walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
            if dirpath == self.root:
                continue
            member = members is None or members.fullmatch(os.path.relpath(dirpath, self.root).replace(os.sep, "/"))
            names = []
            if "package.json" in filenames:
                names.append(read_manifest(os.path.join(dirpath, "package.json")).get("name"))
            if not set(filenames).isdisjoint(deno.CONFIG_NAMES):  # a Deno workspace member
                names.append((deno.read_config(dirpath) or {}).get("name"))
            for name in names:
                if isinstance(name, str) and (name not in found or (member and name in outside)):
                    found[name] = dirpath
                    if member:
                        outside.discard(name)
                    else:
                        outside.add(name)
        self._outside_workspace = outside
        return found
