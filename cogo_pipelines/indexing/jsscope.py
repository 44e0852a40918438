"""Which folders take the ``.js`` family: those whose nearest project config has ``allowJs``
or ``checkJs``. A folder's project config is its ``tsconfig.json``, else its ``jsconfig.json``
(``tsconfig.CONFIG_NAMES``); a ``jsconfig.json`` allows JavaScript unless it says
``"allowJs": false`` (tsc's defaults for that file name: ``tsconfig``'s docstring).

In a monorepo only ``packages/legacy/tsconfig.json`` (or a base it extends) may say
``allowJs``; its ``.js`` files are then sources of that package, linked both ways, while the
other packages' ``.js`` (build scripts, configs) stay out. The notion of "nearest" is the
resolver's (``resolve.Resolver._scope``): the project config at or above a file's folder; a
config whose chain says nothing about ``allowJs``/``checkJs`` leaves the decision to the config
around it (in the end the root's), as one with no ``paths`` keeps the root's ``paths``.

The walk (``sources.scan``) tells this module of each folder it enters; a package config is
read only when a ``.js``-family file below it needs the answer, once per run, so a repo whose
packages hold no JavaScript reads nothing more than before.
"""

from __future__ import annotations

from pathlib import Path

import pathspec

from cogo_pipelines.indexing import tsconfig


class JsScopes:
    """The ``.js`` decision per folder of one walk. ``at_root``: the root config's answer (the
    include list already has the ``.js`` globs then); ``globs``: the ``.js``-family globs the
    default include list gets beside its ``*.ts`` globs where a package allows JavaScript."""

    def __init__(self, root: Path, globs: tuple[str, ...], at_root: bool) -> None:
        self.root = root
        self.at_root = at_root
        self.spec = pathspec.GitIgnoreSpec.from_lines(globs)
        self.nested = False  # a project config below the root was met: files may need a look
        self._nearest: dict[str, str | None] = {"": None}  # folder -> nearest folder below the root with a project config
        self._names: dict[str, str] = {}  # config folder -> its config's file name (tsconfig.json, jsconfig.json)
        self._above: dict[str, str | None] = {}  # config folder -> the next config folder above it
        self._decided: dict[str | None, bool] = {None: at_root}
        self.scopes: dict[str, bool] = {}  # config folder -> its answer, where it differs from the one around it

    def enter(self, rel_dir: str, filenames: list[str]) -> None:
        """The walk entered ``rel_dir`` ("" or ``"a/b/"``); its parent was entered before."""
        if not rel_dir:
            return
        parent = rel_dir[: rel_dir.rstrip("/").rfind("/") + 1]
        outer = self._nearest.get(parent)
        name = tsconfig.config_name(filenames)
        if name is not None:
            self._names[rel_dir] = name
            self._above[rel_dir] = outer
            self._nearest[rel_dir] = rel_dir
            self.nested = True
        else:
            self._nearest[rel_dir] = outer

    def _allowed(self, folder: str | None) -> bool:
        known = self._decided.get(folder)
        if known is None:
            outer = self._allowed(self._above[folder])
            setting = tsconfig.js_setting(tsconfig.load(self.root / folder / self._names[folder]))
            known = outer if setting is None else setting
            if known != outer:
                self.scopes[folder.rstrip("/")] = known
            self._decided[folder] = known
        return known

    def admits(self, rel_dir: str, rel: str, included: bool) -> bool:
        """Whether the ``.js``-family file ``rel`` (in ``rel_dir``) is in, ``included`` being the
        include list's answer under the root's decision."""
        allowed = self._allowed(self._nearest.get(rel_dir))
        if allowed == self.at_root:
            return included
        if allowed:
            return included or self.spec.match_file(rel)
        return included and not self.spec.match_file(rel)
