"""Which files a tsconfig's project holds: its ``files``, ``include`` and ``exclude``, matched the
way tsc's ``getFileMatcherPatterns`` (utilities.ts) does, so that the resolver can ask which
config governs a file (``resolve.Resolver._governing``) as the TypeScript server does: the nearest
config whose project includes the file, else a project that config refers to, else one further up.

Apart from ``tsconfig`` (which merges a chain's options) because this is glob matching with tsc's
own rules: a last component with no ``.``, ``*`` or ``?`` names a folder (``"src"`` is
``src/**/*``); ``*`` stays within a name and, leading a file name, skips dot files; ``**`` skips
dot folders and ``node_modules``; an ``exclude`` pattern takes what lies below what it matches;
``files`` are in whatever ``exclude`` says; with neither ``include`` nor ``files`` a project is
everything below its config; an unset ``exclude`` leaves out ``outDir``. Extensions are not
checked: a ``.vue`` or ``.svelte`` file of a folder a project includes is that project's (their
tools add those extensions), and tsc would take no other kind of file anyway.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from cogo_pipelines.indexing.tsconfig import TsConfig

_IMPLICIT_GLOB = re.compile(r"[.*?]")
_PACKAGE_FOLDERS = ("node_modules", "bower_components", "jspm_packages")
_DEEP_FILES = rf"(?:/(?!(?:{'|'.join(_PACKAGE_FOLDERS)})(?:/|$))[^/.][^/]*)*?"
_DEEP_EXCLUDED = r"(?:/.+?)?"


def includes(config: TsConfig) -> Callable[[str], bool]:
    """A test of an absolute, normalised POSIX path: whether ``config``'s project holds it."""
    here = str(config.path.parent) if config.path is not None else "/"
    files = frozenset(config.files or ())
    specs = config.include if config.include is not None else ([] if config.files is not None else [here])
    included = _union([_pattern(spec, exclude=False) for spec in specs], "$")
    excluded_specs = config.exclude
    if excluded_specs is None:
        excluded_specs = [os.path.join(here, name) for name in _PACKAGE_FOLDERS]
        if config.out_dir is not None:
            excluded_specs.append(str(config.out_dir))
    excluded = _union([_pattern(spec, exclude=True) for spec in excluded_specs], "(?:$|/)")

    def holds(path: str) -> bool:
        if path in files:
            return True
        return included is not None and included.match(path) is not None \
            and (excluded is None or excluded.match(path) is None)
    return holds


def _union(patterns: list[str | None], end: str) -> re.Pattern | None:
    kept = [p for p in patterns if p is not None]
    return re.compile(f"(?:{'|'.join(kept)}){end}") if kept else None


def _pattern(spec: str, exclude: bool) -> str | None:
    """The regular expression of one absolute ``include`` (or ``exclude``) spec, None for one tsc
    rejects (an ``include`` ending in ``**``)."""
    components = spec.replace(os.sep, "/").rstrip("/").split("/")
    if not exclude and not _IMPLICIT_GLOB.search(components[-1]):
        components += ["**", "*"]  # a folder: everything below it
    if not exclude and components[-1] == "**":
        return None
    out = re.escape(components[0])
    for component in components[1:]:
        if component == "**":
            out += _DEEP_EXCLUDED if exclude else _DEEP_FILES
            continue
        out += "/"
        if not exclude and component.startswith("*"):
            out += "(?:[^./][^/]*)?"  # no dot file by a leading `*`
            component = component[1:]
        out += "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in component)
    return out
