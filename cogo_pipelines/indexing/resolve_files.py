"""The repository's files as module resolution probes them: which file a path names, trying
what tsc tries (the TypeScript source of a ``.js`` specifier, the extensions in order, a folder's
``package.json`` entry or ``index`` file), and whether it lies inside the repository. A mixin of
``resolve.Resolver``, which holds the state.

Apart from the specifier rules because every way of resolving (relative paths, ``paths``,
packages, import maps) ends in the same probe. Directory listings are cached, so probing costs
set lookups rather than ``stat`` calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from cogo_pipelines.indexing import packages
from cogo_pipelines.indexing.config_files import read_manifest
from cogo_pipelines.indexing.specifiers import Resolution

PROBE_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mts", ".cts", ".d.mts", ".d.cts", ".mjs", ".cjs")
INDEX_FILES = tuple("index" + e for e in (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mts", ".mjs", ".cjs"))
# a JavaScript specifier names the file the TypeScript source compiles to
JS_TO_TS = {
    ".js": (".ts", ".tsx", ".d.ts"),
    ".jsx": (".ts", ".tsx", ".d.ts"),
    ".mjs": (".mts", ".d.mts"),
    ".cjs": (".cts", ".d.cts"),
}


class RepoFiles:
    """Listings, probes and repository paths (the state, ``root`` and ``_listings``, is the resolver's)."""

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
                hit = source_first(self._probe(os.path.normpath(os.path.join(base, target)), depth + 1)
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


def source_first(hits: Iterable[str | None]) -> str | None:
    """The first file found that is a source, else the first declaration (``.d.ts``), else
    None: a checkout's ``types`` target is a declaration of the source it ships beside."""
    found = [hit for hit in hits if hit]
    return next((hit for hit in found if not packages.DECLARATION.search(hit)), found[0] if found else None)
