"""Dagster entry point.

Each module under ``cogo_pipelines.defs`` owns one concern and exposes ``defs``, a
``dg.Definitions``; they are merged here so that adding a concern never edits this file.
"""

import importlib
import pkgutil

import dagster as dg

from cogo_pipelines import defs as defs_package


def _collect() -> list[dg.Definitions]:
    found = []
    for info in sorted(pkgutil.iter_modules(defs_package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{defs_package.__name__}.{info.name}")
        module_defs = getattr(module, "defs", None)
        if isinstance(module_defs, dg.Definitions):
            found.append(module_defs)
    return found


defs = dg.Definitions.merge(*_collect())
