"""Read tsconfig files the way ``tsc`` does: JSONC, ``extends`` chains (relative files and
package configs in ``node_modules``), and the options that steer module resolution
(``baseUrl``, ``paths``, ``rootDirs``).

A broken config never stops indexing: the problem is kept in ``TsConfig.errors`` and the
options read so far still apply.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import json5


@dataclass
class TsConfig:
    """The merged compiler options that matter for resolution, with absolute paths."""

    path: Path | None = None
    base_url: Path | None = None
    paths: dict[str, list[str]] = field(default_factory=dict)
    paths_base: Path | None = None  # where relative ``paths`` targets start (baseUrl, else the defining file's folder)
    paths_dir: Path | None = None
    root_dirs: list[Path] = field(default_factory=list)
    chain: list[Path] = field(default_factory=list)  # the files read, most derived first
    errors: list[str] = field(default_factory=list)

    @property
    def path_patterns(self) -> list[tuple[str, str, list[str]]]:
        """``(prefix, suffix, targets)`` ordered as tsc tries them: longest prefix first."""
        patterns = []
        for pattern, targets in self.paths.items():
            if pattern.count("*") > 1:
                continue
            prefix, star, suffix = pattern.partition("*")
            patterns.append((prefix, suffix if star else None, list(targets)))
        patterns.sort(key=lambda p: (p[1] is not None, -len(p[0])))
        return patterns


class TsConfigError(ValueError):
    pass


def read_jsonc(path: Path) -> dict:
    """A JSON-with-comments file (comments, trailing commas allowed)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TsConfigError(f"{path.name}: cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = json5.loads(text)
        except ValueError as exc:
            raise TsConfigError(f"{path.name}: not JSON/JSONC: {exc}") from exc
    if not isinstance(data, dict):
        raise TsConfigError(f"{path.name}: top level is {type(data).__name__}, expected an object")
    return data


def _package_config(spec: str, start: Path) -> Path | None:
    """``extends: "@tsconfig/node20/tsconfig.json"`` or ``"pkg"`` from the nearest node_modules."""
    folder = start
    while True:
        base = folder / "node_modules" / spec
        for candidate in (base, Path(str(base) + ".json")):
            if candidate.is_file():
                return candidate
        if base.is_dir():
            manifest = base / "package.json"
            if manifest.is_file():
                try:
                    pointer = json.loads(manifest.read_text(encoding="utf-8")).get("tsconfig")
                except ValueError:
                    pointer = None
                if isinstance(pointer, str) and (base / pointer).is_file():
                    return base / pointer
            if (base / "tsconfig.json").is_file():
                return base / "tsconfig.json"
        if folder.parent == folder:
            return None
        folder = folder.parent


def _extends_target(spec: str, config_dir: Path) -> Path | None:
    if spec.startswith((".", "/")) or os.path.isabs(spec):
        target = (config_dir / spec).resolve()
        if target.is_file():
            return target
        with_json = Path(str(target) + ".json")
        return with_json if with_json.is_file() else None
    return _package_config(spec, config_dir)


def load(path: Path) -> TsConfig:
    """Read ``path`` and its ``extends`` chain; derived options override inherited ones."""
    config = TsConfig(path=path.resolve())
    _apply(path.resolve(), config, visiting=[])
    if config.paths:
        config.paths_base = config.base_url or config.paths_dir
    return config


def _apply(path: Path, config: TsConfig, visiting: list[Path]) -> None:
    if path in visiting:
        cycle = " -> ".join(p.name for p in [*visiting, path])
        config.errors.append(f"circular extends: {cycle}")
        return
    try:
        data = read_jsonc(path)
    except TsConfigError as exc:
        config.errors.append(str(exc))
        return
    config.chain.append(path)
    visiting = [*visiting, path]
    parents = data.get("extends")
    for spec in [parents] if isinstance(parents, str) else parents if isinstance(parents, list) else []:
        if not isinstance(spec, str):
            continue
        target = _extends_target(spec, path.parent)
        if target is None:
            config.errors.append(f"{path.name}: extends {spec!r} not found")
            continue
        _apply(target.resolve(), config, visiting)
    options = data.get("compilerOptions")
    if not isinstance(options, dict):
        return
    # later (more derived) files are applied after their bases, so they override
    if isinstance(options.get("baseUrl"), str):
        config.base_url = (path.parent / options["baseUrl"]).resolve()
    if isinstance(options.get("paths"), dict):
        config.paths = {k: [t for t in v if isinstance(t, str)] for k, v in options["paths"].items() if isinstance(v, list)}
        config.paths_dir = path.parent
    if isinstance(options.get("rootDirs"), list):
        config.root_dirs = [(path.parent / d).resolve() for d in options["rootDirs"] if isinstance(d, str)]


def find(root: Path, name: str = "tsconfig.json") -> TsConfig:
    """The repo's root config, or an empty one when there is none."""
    candidate = root / name
    return load(candidate) if candidate.is_file() else TsConfig()
