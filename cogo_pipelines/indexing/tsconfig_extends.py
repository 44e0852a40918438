"""Where a tsconfig's ``extends`` leads: a relative file (with or without ``.json``), or a
config package (``"@tsconfig/node20/tsconfig.json"``, ``"@acme/config"``) from the nearest
``node_modules``, else from the workspace package of that name when nothing is installed. A
package's folder gives its ``tsconfig`` pointer or ``tsconfig.json`` only, as tsc's config lookup
does (``"tsconfig"`` is its index file there).

Apart from ``tsconfig`` (which merges the chain's options) because finding a config package
means knowing the workspace: ``pnpm-workspace.yaml`` or ``package.json`` ``workspaces`` globs,
and the package folders they name, both cached across the many tsconfigs of a monorepo.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cogo_pipelines.indexing.config_files import read_manifest
from cogo_pipelines.indexing.reading import read_regular_text


def extends_target(spec: str, config_dir: Path) -> Path | None:
    """The config file that ``extends: spec`` in a config in ``config_dir`` names, or None."""
    if spec.startswith((".", "/")) or os.path.isabs(spec):
        target = (config_dir / spec).resolve()
        if target.is_file():
            return target
        with_json = Path(str(target) + ".json")
        return with_json if with_json.is_file() else None
    return _package_config(spec, config_dir)


def _package_config(spec: str, start: Path) -> Path | None:
    """``extends: "@tsconfig/node20/tsconfig.json"`` or ``"pkg"`` from the nearest node_modules,
    else from the workspace package of that name (a monorepo checked out without an install)."""
    folder = start
    while True:
        found = _config_in(folder / "node_modules" / spec)
        if found is not None:
            return found
        if folder.parent == folder:
            break
        folder = folder.parent
    scope, _, rest = spec.partition("/") if spec.startswith("@") else ("", "", spec)
    name, _, subpath = rest.partition("/")
    name = f"{scope}/{name}" if scope else name
    package = _workspace_package(name, start)
    return None if package is None else _config_in(package / subpath if subpath else package)


def _config_in(base: Path) -> Path | None:
    """The config ``base`` names: the file itself, with ``.json``, or a package folder's
    ``tsconfig`` pointer or ``tsconfig.json`` (never its ``jsconfig.json``: tsc's lookup of a
    config package takes ``tsconfig`` as the index name)."""
    for candidate in (base, Path(str(base) + ".json")):
        if candidate.is_file():
            return candidate
    if base.is_dir():
        pointer = read_manifest(base / "package.json").get("tsconfig")
        if isinstance(pointer, str) and (base / pointer).is_file():
            return base / pointer
        if (base / "tsconfig.json").is_file():
            return base / "tsconfig.json"
    return None


_PNPM_GLOBS: dict[Path, tuple[tuple[int, int], list[str]]] = {}  # file -> ((mtime_ns, size), packages)


def _pnpm_globs(pnpm: Path) -> list[str]:
    """``packages`` of a ``pnpm-workspace.yaml``, parsed once while the file is unchanged: pnpm's
    own (catalogs and all) took 55 ms to parse in pure Python, for each of its 348 tsconfigs."""
    try:
        stat = pnpm.stat()
    except OSError:
        return []
    key = (stat.st_mtime_ns, stat.st_size)
    known = _PNPM_GLOBS.get(pnpm)
    if known is not None and known[0] == key:
        return list(known[1])
    import yaml  # only for a pnpm workspace whose shared config is not installed

    try:
        data = yaml.load(read_regular_text(pnpm), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, ValueError, yaml.YAMLError):
        data = None
    globs = data.get("packages") if isinstance(data, dict) else None
    found = [g for g in globs if isinstance(g, str)] if isinstance(globs, list) else []
    if len(_PNPM_GLOBS) > 64:
        _PNPM_GLOBS.clear()
    _PNPM_GLOBS[pnpm] = (key, found)
    return list(found)


def workspace_globs(folder: Path) -> list[str] | None:
    """The package folders a workspace root declares (``pnpm-workspace.yaml`` ``packages``, or
    ``package.json`` ``workspaces``), or None when ``folder`` is no workspace root."""
    pnpm = folder / "pnpm-workspace.yaml"
    if pnpm.is_file():
        return _pnpm_globs(pnpm)
    globs = read_manifest(folder / "package.json").get("workspaces")
    if isinstance(globs, dict):  # yarn's {"packages": [...]}
        globs = globs.get("packages")
    return [g for g in globs if isinstance(g, str)] if isinstance(globs, list) else None


def workspace_member_pattern(globs: list[str]) -> re.Pattern | None:
    """One pattern for the folders (relative to the workspace root, POSIX) that ``globs`` declare
    packages, their ``!`` exclusions applied: ``*`` within a folder name, ``**`` across folders.
    None when no glob declares any."""
    def regex(glob: str) -> str:
        parts = re.split(r"(\*\*/?|\*|\?)", glob.strip().strip("/").removeprefix("./"))
        return "".join(".*" if p.startswith("**") else "[^/]*" if p == "*" else "[^/]" if p == "?" else re.escape(p)
                       for p in parts)

    included = [regex(g) for g in globs if g.strip() and not g.startswith("!")]
    excluded = [regex(g[1:]) for g in globs if g.startswith("!") and g[1:].strip()]
    if not included:
        return None
    negative = f"(?!(?:{'|'.join(excluded)})$)" if excluded else ""
    return re.compile(f"{negative}(?:{'|'.join(included)})")


_WORKSPACE_NAMES: dict[tuple[Path, tuple[str, ...]], dict[str, Path]] = {}  # (root, globs) -> name -> folder


def _workspace_package(name: str, start: Path) -> Path | None:
    """The folder of workspace package ``name`` under the nearest workspace root above
    ``start``: its packages' tsconfigs extend a shared config package (``@acme/tsconfig/
    base.json``) that, without ``node_modules``, only the workspace's globs lead to."""
    for folder in (start, *start.parents):
        globs = workspace_globs(folder)
        if globs is None:
            continue
        key = (folder, tuple(globs))
        known = _WORKSPACE_NAMES.get(key, {}).get(name)
        if known is not None and read_manifest(known / "package.json").get("name") == name:
            return known  # still that package: the workspace is not globbed again for each tsconfig
        names: dict[str, Path] = {}
        for pattern in globs:
            if pattern.startswith("!") or ".." in pattern:
                continue
            for manifest in sorted(folder.glob(pattern.strip("/") + "/package.json")):
                found = read_manifest(manifest).get("name") if "node_modules" not in manifest.parts else None
                if isinstance(found, str):
                    names.setdefault(found, manifest.parent)
        if len(_WORKSPACE_NAMES) > 64:
            _WORKSPACE_NAMES.clear()
        _WORKSPACE_NAMES[key] = names
        return names.get(name)
    return None
