"""Read tsconfig files the way ``tsc`` does: JSONC, ``extends`` chains (relative files and
package configs in ``node_modules``, or in the workspace when nothing is installed), and the
options that steer module resolution (``baseUrl``, ``paths``, ``rootDirs``).

A folder's project config is ``tsconfig.json``, else ``jsconfig.json`` (``CONFIG_NAMES``): the
TypeScript server looks for the two in that order in each folder on the way up
(``ProjectService.forEachConfigFileLocation``), and Next.js reads ``jsconfig.json`` only where
there is no ``tsconfig.json``. (``tsc -p folder`` itself only opens ``folder/tsconfig.json``.) A
file named ``jsconfig.json`` starts from the defaults ``getDefaultCompilerOptions`` gives it in
``commandLineParser.ts``: ``allowJs: true, maxNodeModuleJsDepth: 2,
allowSyntheticDefaultImports: true, skipLibCheck: true, noEmit: true``. These are that file's own
options, under what it writes: ``"allowJs": false`` in it turns JavaScript off, and they override
what a base it extends says, as every option of a more derived file does. tsc gives a base the
defaults of its own file name too (``getExtendedConfig`` parses it as ``getBaseFileName``), so a
``tsconfig.json`` that extends ``./jsconfig.json`` inherits ``allowJs: true``. Of these defaults
only ``allowJs`` matters here (``jsscope``, ``policy``: the ``.js`` family is in the project);
``maxNodeModuleJsDepth`` is about checking JavaScript in ``node_modules``, which is never indexed,
and ``noEmit`` means a jsconfig describes no build (``packages.BUILD_CONFIGS``).

A broken config never stops indexing: the problem is kept in ``TsConfig.errors`` and the
options read so far still apply. Reading the files (JSONC, tolerant of syntax errors as
``tsc`` is) is ``config_files``; finding the file an ``extends`` names is ``tsconfig_extends``.
"""

from __future__ import annotations

import os
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path

from cogo_pipelines.indexing.config_files import TsConfigError, read_jsonc
from cogo_pipelines.indexing.tsconfig_extends import extends_target


@dataclass
class TsConfig:
    """The merged compiler options that matter for resolution, with absolute paths."""

    path: Path | None = None
    base_url: Path | None = None
    paths: dict[str, list[str]] = field(default_factory=dict)
    paths_base: Path | None = None  # where relative ``paths`` targets start (baseUrl, else the defining file's folder)
    paths_dir: Path | None = None
    root_dirs: list[Path] = field(default_factory=list)
    out_dir: Path | None = None  # where the build goes: a package's ``dist/...`` target maps back to
    root_dir: Path | None = None  # ... the source under rootDir (project references, workspace builds)
    allow_js: bool = False
    check_js: bool = False
    # (TS 5.0) conditions that package ``exports`` maps match besides the built-in ones: a
    # monorepo's `"@acme/source": "./src/index.ts"` points its packages at their sources
    custom_conditions: tuple[str, ...] = ()
    # the configs a solution-style file refers to (``references``: not inherited, as in tsc)
    references: list[Path] = field(default_factory=list)
    allow_js_set: bool = False  # allowJs is written in the chain (a package's own say, true or false)
    # the project's files (``tsconfig_files``): ``include``/``files``/``exclude`` as absolute
    # patterns, each relative to the config that wrote it (the most derived one that does), None
    # where the chain does not say
    include: list[str] | None = None
    files: list[str] | None = None
    exclude: list[str] | None = None
    chain: list[Path] = field(default_factory=list)  # the files read, most derived first
    errors: list[str] = field(default_factory=list)
    # those of ``errors`` that are a base's (named by it): a base shared by many configs has them
    # once, where the loaded config's own are its own, whatever another config says alike
    base_errors: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The file read (``tsconfig.json``, ``jsconfig.json``), for labelling its problems."""
        return self.path.name if self.path is not None else "tsconfig.json"

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


# a folder's project config, in the order the TypeScript server looks for them there
CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
JSCONFIG = "jsconfig.json"


def config_name(filenames: Container[str]) -> str | None:
    """The project config of a folder whose file names are ``filenames`` (an existing listing:
    no ``stat``): ``tsconfig.json`` when there is one, else ``jsconfig.json``, else None."""
    return next((name for name in CONFIG_NAMES if name in filenames), None)


def load(path: Path) -> TsConfig:
    """Read ``path`` and its ``extends`` chain; derived options override inherited ones."""
    config = TsConfig(path=path.resolve())
    _apply(path.resolve(), config, visiting=[])
    if config.paths:
        config.paths_base = config.base_url or config.paths_dir
    return config


# bounds on what one config's ``extends`` reach: a chain of a thousand files ended in a
# RecursionError, and bases that each extend two others ([a, b], both extending [c, d], …) are
# read 2^depth times; real chains are a few files long
MAX_EXTENDS_DEPTH = 32
MAX_EXTENDS_READS = 128


def _apply(path: Path, config: TsConfig, visiting: list[Path]) -> None:
    if path in visiting:
        cycle = " -> ".join(p.name for p in [*visiting, path])
        config.errors.append(f"circular extends: {cycle}")
        if path != config.path:
            config.base_errors.add(config.errors[-1])
        return
    if len(visiting) >= MAX_EXTENDS_DEPTH or len(config.chain) >= MAX_EXTENDS_READS:
        bound = f"deeper than {MAX_EXTENDS_DEPTH}" if len(visiting) >= MAX_EXTENDS_DEPTH else \
            f"more than {MAX_EXTENDS_READS} configs"
        problem = f"extends {bound}: {path.name} and its bases not read"
        if problem not in config.errors:
            config.errors.append(problem)
            config.base_errors.add(problem)
        return
    problems: list[str] = []
    try:
        data = read_jsonc(path, problems)
    except TsConfigError as exc:
        problems.append(str(exc))
        data = None
    # ``read_jsonc`` names the file in each problem; the loaded config's own are named by whoever
    # reports them (as "extends … not found" is below), a base's keep its name
    own = f"{path.name}: " if path == config.path else ""
    config.errors.extend(problem.removeprefix(own) if own else problem for problem in problems)
    if not own:
        config.base_errors.update(problems)
    if data is None:
        return
    config.chain.append(path)
    if not visiting and isinstance(data.get("references"), list):  # the loaded file's own
        for reference in data["references"]:
            if isinstance(reference, dict) and isinstance(reference.get("path"), str):
                target = _place(path, reference["path"], config, "references")
                if target is not None:
                    config.references.append(target / "tsconfig.json" if target.is_dir() else target)
    visiting = [*visiting, path]
    parents = data.get("extends")
    for spec in [parents] if isinstance(parents, str) else parents if isinstance(parents, list) else []:
        if not isinstance(spec, str):
            continue
        try:
            target = extends_target(spec, path.parent)
        except (OSError, ValueError):  # a NUL byte, a name too long: no file has that name
            target = None
        if target is None:
            named = "" if path == config.path else f"{path.name}: "  # a base's own problem says whose
            config.errors.append(f"{named}extends {_shown(spec)} not found")
            if named:
                config.base_errors.add(config.errors[-1])
            if spec.rstrip("/").endswith(".svelte-kit/tsconfig.json"):
                # not generated yet (a fresh clone): `svelte-kit sync` writes allowJs and checkJs
                # on there (its paths come from svelte.config: sveltekit.py)
                config.allow_js = config.check_js = config.allow_js_set = True
            continue
        _apply(target.resolve(), config, visiting)
    here = str(config.path.parent) if config.path else "."
    for key in ("include", "files", "exclude"):
        if isinstance(data.get(key), list):
            setattr(config, key, [os.path.normpath(os.path.join(path.parent, p.replace("${configDir}", here)))
                                  for p in data[key] if isinstance(p, str)])
    options = data.get("compilerOptions")
    if path.name == JSCONFIG and not (isinstance(options, dict) and isinstance(options.get("allowJs"), bool)):
        # the file's own default (getDefaultCompilerOptions), over what its bases say
        config.allow_js = config.allow_js_set = True
    if not isinstance(options, dict):
        return
    # later (more derived) files are applied after their bases, so they override; ${configDir}
    # (TS 5.5) is the folder of the config loaded, so a shared base can say "~/*": the app's src
    if isinstance(options.get("baseUrl"), str):
        config.base_url = _place(path, options["baseUrl"].replace("${configDir}", here), config, "baseUrl")
    if isinstance(options.get("paths"), dict):
        config.paths = {k: [t.replace("${configDir}", here) for t in v if isinstance(t, str)]
                        for k, v in options["paths"].items() if isinstance(v, list)}
        config.paths_dir = path.parent
    for key, attr in (("allowJs", "allow_js"), ("checkJs", "check_js")):
        if isinstance(options.get(key), bool):
            setattr(config, attr, options[key])
            config.allow_js_set = config.allow_js_set or key == "allowJs"
    for key, attr in (("outDir", "out_dir"), ("rootDir", "root_dir")):
        if isinstance(options.get(key), str):
            setattr(config, attr, _place(path, options[key].replace("${configDir}", here), config, key))
    if isinstance(options.get("rootDirs"), list):
        placed = (_place(path, d, config, "rootDirs") for d in options["rootDirs"] if isinstance(d, str))
        config.root_dirs = [d for d in placed if d is not None]
    if isinstance(options.get("customConditions"), list):
        config.custom_conditions = tuple(c for c in options["customConditions"] if isinstance(c, str))


def _place(path: Path, value: str, config: TsConfig, key: str) -> Path | None:
    """``value`` of ``key`` in the config ``path``, made absolute from its folder; None, the
    problem noted, for what no file system takes (a NUL byte), which aborted the whole run."""
    try:
        return (path.parent / value).resolve()
    except (OSError, ValueError) as exc:
        named = "" if path == config.path else f"{path.name}: "
        config.errors.append(f"{named}{key} {_shown(value)} is no path: {exc}")
        if named:
            config.base_errors.add(config.errors[-1])
        return None


def _shown(value: str) -> str:
    """A value from a config, quoted for a one-line message, at most ~100 characters of it."""
    return repr(value if len(value) <= 100 else value[:100] + "…")


def js_setting(config: TsConfig) -> bool | None:
    """Whether a package's config takes the ``.js`` family, or None when its chain says nothing
    and the config around it decides: ``allowJs`` says, ``checkJs: true`` implies it (as in tsc),
    ``checkJs: false`` alone only turns checking off."""
    return bool(config.allow_js or config.check_js) if config.allow_js_set or config.check_js else None


def find(root: Path, name: str | None = None) -> TsConfig:
    """The repo's root config (``tsconfig.json``, else ``jsconfig.json``; ``name`` when given),
    or an empty one when there is none."""
    for candidate_name in (name,) if name else CONFIG_NAMES:
        candidate = root / candidate_name
        if candidate.is_file():
            return load(candidate)
    return TsConfig()
