"""Specifier maps outside the tsconfig: the ``deno.json`` import maps around a file (and
``jsr:``/``npm:`` specifiers that name a member of the workspace), and a SvelteKit app's
``kit.alias`` and ``$lib``. A mixin of ``resolve.Resolver``, which holds the state.

Apart from ``resolve`` because each is a runtime's or framework's own config, read from the
folders around the importing file and cached per folder, that has its say before ``paths``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cogo_pipelines.indexing import deno, sveltekit
from cogo_pipelines.indexing.specifiers import Resolution, is_relative, star_of
from cogo_pipelines.indexing.tsconfig import TsConfig


class Aliases:
    """Deno import maps and SvelteKit aliases (their caches, per folder, are the resolver's)."""

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
            star = star_of(spec, prefix, suffix)
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
