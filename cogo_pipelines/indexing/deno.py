"""Deno's side of module resolution: ``deno.json`` import maps and workspace members.

A Deno repo names its dependencies in ``deno.json`` ``imports`` (``"@std/path": "jsr:@std/path@1"``,
``"$lib/": "./src/lib/"``), and a Deno workspace's members are packages by the ``name`` and
``exports`` of their own ``deno.json`` (fresh: ``"fresh": "jsr:@fresh/core@^2"`` is the member in
``packages/fresh``). The resolver asks this module to map a bare specifier through the nearest
import map (a member's map, then the workspace root's) before it treats it as a package.
"""

from __future__ import annotations

import os
from pathlib import Path

from cogo_pipelines.indexing.config_files import TsConfigError, read_jsonc

CONFIG_NAMES = ("deno.json", "deno.jsonc")


def read_config(folder: str) -> dict | None:
    """The ``deno.json``/``deno.jsonc`` of ``folder`` (read leniently), or None."""
    for name in CONFIG_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            try:
                data = read_jsonc(Path(path), [])
            except (TsConfigError, OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}
    return None


def map_specifier(imports: object, spec: str) -> str | None:
    """``spec`` through one import map: an exact key, else the longest ``"prefix/"`` key."""
    if not isinstance(imports, dict):
        return None
    exact = imports.get(spec)
    if isinstance(exact, str):
        return exact
    best = None
    for key, value in imports.items():
        if not isinstance(value, str):
            continue
        # "fresh": "jsr:@fresh/core@^2" also maps "fresh/runtime", as Deno does for jsr:/npm:
        prefix = key if key.endswith("/") else key + "/" if value.startswith(("jsr:", "npm:")) else None
        if prefix and spec.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, value if key.endswith("/") else value + "/")
    return best[1] + spec[len(best[0]):] if best else None


def registry_bare(target: str) -> str | None:
    """``jsr:@fresh/core@^2.0.0/runtime`` -> ``@fresh/core/runtime`` (also ``npm:``), else None."""
    if not target.startswith(("jsr:", "npm:")):
        return None
    rest = target[4:].lstrip("/")
    parts = rest.split("/")
    if rest.startswith("@") and len(parts) > 1:
        name, tail = parts[0] + "/" + parts[1].split("@")[0], parts[2:]
    else:
        name, tail = parts[0].split("@")[0], parts[1:]
    return "/".join([name, *tail]) if name else None
