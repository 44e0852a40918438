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
and ``noEmit`` means a jsconfig describes no build (``packages.BUILD_CONFIGS``). An ``extends``
that names a package (``"@acme/config"``) finds its folder's ``tsconfig`` pointer or
``tsconfig.json`` only, as tsc's config lookup does (``"tsconfig"`` is its index file there).

A broken config never stops indexing: the problem is kept in ``TsConfig.errors`` and the
options read so far still apply. A file with a syntax error is read as ``tsc`` reads it: the
properties that parse are kept (a missing comma does not lose ``paths``), each error is reported
with its line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Container
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
    out_dir: Path | None = None  # where the build goes: a package's ``dist/...`` target maps back to
    root_dir: Path | None = None  # ... the source under rootDir (project references, workspace builds)
    allow_js: bool = False
    check_js: bool = False
    allow_js_set: bool = False  # allowJs is written in the chain (a package's own say, true or false)
    chain: list[Path] = field(default_factory=list)  # the files read, most derived first
    errors: list[str] = field(default_factory=list)

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


class TsConfigError(ValueError):
    pass


# a folder's project config, in the order the TypeScript server looks for them there
CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
JSCONFIG = "jsconfig.json"


def config_name(filenames: Container[str]) -> str | None:
    """The project config of a folder whose file names are ``filenames`` (an existing listing:
    no ``stat``): ``tsconfig.json`` when there is one, else ``jsconfig.json``, else None."""
    return next((name for name in CONFIG_NAMES if name in filenames), None)


def read_jsonc(path: Path, errors: list[str] | None = None) -> dict:
    """A JSON-with-comments file (comments, trailing commas allowed). With a syntax error, what
    parses is kept and the errors go to ``errors`` (raised when no list is given)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TsConfigError(f"{path.name}: cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = json5.loads(text)
        except (ValueError, RecursionError) as exc:
            found: list[str] = []
            data = _Lenient(text, found).document()
            if errors is None or not isinstance(data, dict):
                raise TsConfigError(f"{path.name}: not JSON/JSONC: {found[0] if found else exc}") from exc
            errors.extend(f"{path.name}: not JSON/JSONC: {problem} (what parses is kept)" for problem in found)
    if not isinstance(data, dict):
        raise TsConfigError(f"{path.name}: top level is {type(data).__name__}, expected an object")
    return data


_TOKEN = re.compile(
    r'(?P<ws>\s+)|(?P<line>//[^\n]*)|(?P<block>/\*.*?(?:\*/|\Z))|(?P<str>"(?:[^"\\\n]|\\.)*"?|'
    r"'(?:[^'\\\n]|\\.)*'?)|(?P<punct>[{}\[\]:,])|(?P<word>[^\s{}\[\]:,\"'/]+|/)",
    re.DOTALL,
)
_WORDS = {"true": True, "false": False, "null": None}
_MAX_DEPTH = 64


class _Lenient:
    """An error-tolerant JSONC reader, after ``tsc``'s: a bad token is reported and skipped up
    to the next ``,`` or closing bracket of its level, and every property that parses is kept.
    One pass over the tokens (linear); nesting past ``_MAX_DEPTH`` is skipped, not recursed."""

    def __init__(self, text: str, errors: list[str]) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        line = 1
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind not in ("ws", "line", "block"):
                self.tokens.append((kind, m.group(), line))
            line += m.group().count("\n")
        self.i = 0
        self.errors = errors

    def _peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "", -1)

    def _error(self, message: str) -> None:
        kind, text, line = self._peek()
        if len(self.errors) >= 5 or (kind == "eof" and any("end of file" in e for e in self.errors)):
            return  # the first errors say what is wrong; the rest follow from them
        where = f"line {line}" if line > 0 else "end of file"
        self.errors.append(f"{message} at {where}" + (f" ({text[:20]!r})" if text else ""))

    def _skip_to_separator(self) -> None:
        depth = 0
        while self.i < len(self.tokens):
            kind, text, _ = self.tokens[self.i]
            if kind == "punct" and text in "{[":
                depth += 1
            elif kind == "punct" and text in "}]":
                if depth == 0:
                    return
                depth -= 1
            elif kind == "punct" and text == "," and depth == 0:
                return
            self.i += 1

    def document(self) -> object:
        value = self._value(0)
        if self.i < len(self.tokens):
            self._error("unexpected text after the top-level value")
        return value

    def _value(self, depth: int) -> object:
        kind, text, _ = self._peek()
        if kind == "punct" and text in "{[":
            if depth >= _MAX_DEPTH:
                self._error("nesting too deep")
                self.i += 1
                self._skip_to_separator()
                self.i += 1
                return None
            return self._object(depth) if text == "{" else self._array(depth)
        if kind == "str":
            if len(text) < 2 or text[-1] != text[0]:
                self._error("unterminated string")
            self.i += 1
            return _unquote(text)
        if kind == "word":
            self.i += 1
            if text in _WORDS:
                return _WORDS[text]
            try:
                return json.loads(text)
            except ValueError:
                self._error("value expected")
                return None
        self._error("value expected")
        return None

    def _close(self, closer: str) -> bool:
        kind, text, _ = self._peek()
        if kind == "punct" and text == closer:
            self.i += 1
            return True
        if kind == "eof":
            self._error(f"'{closer}' expected")
            return True
        return False

    def _after_item(self, closer: str) -> bool:
        """After an item: ``,`` (go on) or the closer (done); anything else is skipped."""
        kind, text, _ = self._peek()
        if kind == "punct" and text == ",":
            self.i += 1
            return False
        if self._close(closer):
            return True
        self._error("',' expected")
        if kind in ("str", "word") or text in "{[":
            return False  # a missing comma: read on from this token, as tsc does
        self._skip_to_separator()
        return False

    def _object(self, depth: int) -> dict:
        self.i += 1
        out: dict = {}
        while not self._close("}"):
            kind, text, _ = self._peek()
            if kind not in ("str", "word"):
                self._error("property name expected")
                self.i += 1
                self._skip_to_separator()
                if self._peek()[1] == ",":
                    self.i += 1
                continue
            key = _unquote(text) if kind == "str" else text
            self.i += 1
            if self._peek()[:2] == ("punct", ":"):
                self.i += 1
            else:
                self._error("':' expected")
            out[key] = self._value(depth + 1)
            if self._after_item("}"):
                break
        return out

    def _array(self, depth: int) -> list:
        self.i += 1
        out: list = []
        while not self._close("]"):
            before = self.i
            out.append(self._value(depth + 1))
            if self.i == before:  # nothing consumed: skip the bad token
                self.i += 1
            if self._after_item("]"):
                break
        return out


def _unquote(token: str) -> str:
    quote = token[0]
    body = token[1:-1] if len(token) > 1 and token.endswith(quote) else token[1:]
    if quote == "'":
        body = body.replace('\\"', '"').replace('"', '\\"').replace("\\'", "'")
    try:
        return json.loads('"' + body + '"')
    except ValueError:
        return body


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


def read_manifest(path: str | Path) -> dict:
    """A ``package.json`` (plain JSON) as a dict; empty when it is unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
        data = yaml.load(pnpm.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, ValueError, yaml.YAMLError):
        data = None
    globs = data.get("packages") if isinstance(data, dict) else None
    found = [g for g in globs if isinstance(g, str)] if isinstance(globs, list) else []
    if len(_PNPM_GLOBS) > 64:
        _PNPM_GLOBS.clear()
    _PNPM_GLOBS[pnpm] = (key, found)
    return list(found)


def _workspace_globs(folder: Path) -> list[str] | None:
    """The package folders a workspace root declares (``pnpm-workspace.yaml`` ``packages``, or
    ``package.json`` ``workspaces``), or None when ``folder`` is no workspace root."""
    pnpm = folder / "pnpm-workspace.yaml"
    if pnpm.is_file():
        return _pnpm_globs(pnpm)
    globs = read_manifest(folder / "package.json").get("workspaces")
    if isinstance(globs, dict):  # yarn's {"packages": [...]}
        globs = globs.get("packages")
    return [g for g in globs if isinstance(g, str)] if isinstance(globs, list) else None


_WORKSPACE_NAMES: dict[tuple[Path, tuple[str, ...]], dict[str, Path]] = {}  # (root, globs) -> name -> folder


def _workspace_package(name: str, start: Path) -> Path | None:
    """The folder of workspace package ``name`` under the nearest workspace root above
    ``start``: its packages' tsconfigs extend a shared config package (``@acme/tsconfig/
    base.json``) that, without ``node_modules``, only the workspace's globs lead to."""
    for folder in (start, *start.parents):
        globs = _workspace_globs(folder)
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
        data = read_jsonc(path, config.errors)
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
            named = "" if path == config.path else f"{path.name}: "  # a base's own problem says whose
            config.errors.append(f"{named}extends {spec!r} not found")
            if spec.rstrip("/").endswith(".svelte-kit/tsconfig.json"):
                # not generated yet (a fresh clone): `svelte-kit sync` writes allowJs and checkJs
                # on there (its paths come from svelte.config: sveltekit.py)
                config.allow_js = config.check_js = config.allow_js_set = True
            continue
        _apply(target.resolve(), config, visiting)
    options = data.get("compilerOptions")
    if path.name == JSCONFIG and not (isinstance(options, dict) and isinstance(options.get("allowJs"), bool)):
        # the file's own default (getDefaultCompilerOptions), over what its bases say
        config.allow_js = config.allow_js_set = True
    if not isinstance(options, dict):
        return
    # later (more derived) files are applied after their bases, so they override; ${configDir}
    # (TS 5.5) is the folder of the config loaded, so a shared base can say "~/*": the app's src
    here = str(config.path.parent) if config.path else "."
    if isinstance(options.get("baseUrl"), str):
        config.base_url = (path.parent / options["baseUrl"].replace("${configDir}", here)).resolve()
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
            setattr(config, attr, (path.parent / options[key].replace("${configDir}", here)).resolve())
    if isinstance(options.get("rootDirs"), list):
        config.root_dirs = [(path.parent / d).resolve() for d in options["rootDirs"] if isinstance(d, str)]


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
