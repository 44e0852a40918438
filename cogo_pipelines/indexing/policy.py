"""One index policy for every face: what to index in a repo, under which name, from which entries.

``cogo index``, ``cogo graph``, the Dagster assets and queued index jobs all ask this module,
so a repo is indexed the same way whichever face runs it. Four layers, the first that sets a
field wins:

1. flags (``--include``, ``--exclude``, ``--entry``, ``--name``; run config in Dagster);
2. ``cogo.toml`` at the repo's root, table ``[index]``: ``name``, ``include``, ``exclude``,
   ``entries`` (strings or lists of strings);
3. the environment: ``INDEX_INCLUDE``, ``INDEX_EXCLUDE``, ``ENTRIES``, ``REPO_NAME`` (comma lists);
4. the seed's defaults (DESIGN §3): cogo's layout when the repo has a ``src/`` folder, every
   TypeScript file otherwise, and ``.js``-family files too under each folder whose nearest
   ``tsconfig.json`` (else ``jsconfig.json``, which allows JavaScript unless it says otherwise)
   has ``allowJs`` or ``checkJs`` (the root's, or a package's: ``jsscope``).

The repo's name (its key in the store) falls back to the git remote's name, then to the folder's.
Pure: reads files, never the database or the process environment (the caller passes the
environment's layer: ``env_layer(get_settings())``).
"""

from __future__ import annotations

import configparser
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from cogo_pipelines.indexing import sources, tsconfig
from cogo_pipelines.indexing.reading import read_regular_text
from cogo_pipelines.settings import DEFAULT_ENTRIES

CONFIG_FILE = "cogo.toml"
# build output: its files are counted as skipped, never suggested for the include list
BUILD_DIRS = frozenset({"dist", "build", "out", "coverage", ".next", ".nuxt", ".turbo", ".cache", ".output"})
ALWAYS_EXCLUDE = ("node_modules/", ".git/")
ANYWHERE_TS = ("**/*.ts", "**/*.tsx", "**/*.mts", "**/*.cts", "**/*.vue", "**/*.svelte", "**/*.astro")
JS_SUFFIXES = sources.JS_SUFFIXES
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@/-]{0,199}")


class PolicyError(ValueError):
    """A policy that cannot be used as given (bad ``cogo.toml``, bad name): one line for the user."""


@dataclass(frozen=True)
class Layer:
    """One source of settings; ``None`` = this layer says nothing about the field."""

    name: str | None = None
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    entries: tuple[str, ...] | None = None
    origin: str = ""

    @classmethod
    def of(cls, origin: str, name: str | None = None, include: Iterable[str] | None = None,
           exclude: Iterable[str] | None = None, entries: Iterable[str] | None = None) -> Layer:
        """Empty lists and blank names count as unset (``--include`` not given, ``REPO_NAME=``)."""

        def clean(values: Iterable[str] | None) -> tuple[str, ...] | None:
            kept = tuple(v.strip() for v in values or () if v and v.strip())
            return kept or None

        return cls((name or "").strip() or None, clean(include), clean(exclude), clean(entries), origin)


@dataclass(frozen=True)
class IndexPolicy:
    """The policy in force for one repo, with where each field came from (for the summary)."""

    root: Path
    name: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    entries: tuple[str, ...]  # paths or globs, relative to the root
    origins: dict[str, str] = field(default_factory=dict)
    js_globs: tuple[str, ...] = ()  # the default list's .js globs, for packages whose tsconfig allows JS
    js_at_root: bool = False  # the root tsconfig allows JS (``include`` has ``js_globs`` then)

    def sources_policy(self) -> sources.Policy:
        return sources.Policy.from_patterns(self.include, self.exclude, self.js_globs, self.js_at_root)

    def scan(self) -> sources.Discovery:
        """The files this policy admits, and what it left out and why (``.gitignore`` honoured);
        ``origins["include"]`` then names the packages whose tsconfig turned JavaScript on or off."""
        discovery = sources.scan(self.root, self.sources_policy())
        if discovery.js_scopes:
            self.origins["include"] = js_origin(self.js_at_root, discovery.js_scopes)
        return discovery

    def match_entries(self, paths: Sequence[str]) -> tuple[list[str], list[str]]:
        """``(entries, unmatched)``: the indexed files each entry path or glob names, and the
        entry patterns that name none of them."""
        return match_entries(self.entries, paths)


def read_config_file(root: Path) -> Layer:
    """The ``[index]`` table of ``ROOT/cogo.toml`` (an empty layer when there is none)."""
    path = root / CONFIG_FILE
    if not path.is_file():
        return Layer(origin=CONFIG_FILE)
    try:
        data = tomllib.loads(read_regular_text(path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: {exc}") from None
    table = data.get("index", {})
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: [index] must be a table")
    unknown = sorted(set(table) - {"name", "include", "exclude", "entries"})
    if unknown:
        raise PolicyError(f"{path}: unknown key(s) in [index]: {', '.join(unknown)} "
                          "(known: name, include, exclude, entries)")

    def strings(key: str) -> list[str] | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise PolicyError(f"{path}: [index] {key} must be a string or a list of strings")

    name = table.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise PolicyError(f"{path}: [index] name must be a non-empty string")
    return Layer.of(CONFIG_FILE, name, strings("include"), strings("exclude"), strings("entries"))


def git_remote_name(root: Path) -> str | None:
    """The repository name of ``remote "origin"`` in ``ROOT/.git/config`` (``git@host:o/name.git``,
    ``https://host/o/name``), without running git; ``None`` when there is none."""
    git = root / ".git"
    if git.is_file():  # a worktree or submodule: "gitdir: <path>"
        try:
            pointer = git.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not pointer.startswith("gitdir:"):
            return None
        git = (root / pointer[len("gitdir:"):].strip()).resolve()
        common = git / "commondir"
        if common.is_file():
            try:
                git = (git / common.read_text(encoding="utf-8").strip()).resolve()
            except (OSError, UnicodeDecodeError):
                return None
    config = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        config.read(git / "config", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    url = config.get('remote "origin"', "url", fallback="").strip()
    if not url:
        return None
    tail = re.split(r"[/:\\]", url.rstrip("/"))[-1]
    tail = tail.removesuffix(".git")
    return tail if _NAME.fullmatch(tail or "") else None


def _checked_globs(patterns: Sequence[str], key: str, origin: str) -> None:
    """Each pattern compiles as a gitignore-style glob (``[z-a]``, a lone ``\\`` do not): a bad
    one is the user's one-line error naming it and where it came from, not a traceback."""
    for pattern in patterns:
        if not sources.valid_glob(pattern) or (_is_glob(pattern) and not sources.valid_glob("**/" + pattern)):
            raise PolicyError(f"{key} pattern {pattern!r} (from {origin}) is not a valid glob")


def _checked_name(name: str, origin: str) -> str:
    if not _NAME.fullmatch(name):
        raise PolicyError(f"repo name {name!r} (from {origin}) must be 1-200 characters of letters, digits "
                          "and . _ @ / - starting with a letter or digit")
    return name


def allows_js(config: tsconfig.TsConfig) -> bool:
    return bool(config.allow_js or config.check_js)


def with_js(include: Sequence[str]) -> tuple[str, ...]:
    """``include`` plus, for each ``….ts`` glob, the same glob for the ``.js`` family."""
    out = list(include)
    for pattern in include:
        if pattern.endswith("*.ts"):
            out.extend(pattern[: -len(".ts")] + suffix for suffix in JS_SUFFIXES if pattern[:-3] + suffix not in out)
    return tuple(dict.fromkeys(out))


def js_origin(at_root: bool, scopes: dict[str, bool]) -> str:
    """``default + allowJs in packages/legacy``: where the default list took the ``.js`` family."""

    def folders(on: bool) -> str:
        names = [f"{folder}/" for folder, allowed in scopes.items() if allowed == on]
        return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")

    parts = ["allowJs"] if at_root else []
    if folders(True):
        parts.append(f"allowJs in {folders(True)}")
    if folders(False):
        parts.append(f"not in {folders(False)}")
    return "default + " + "; ".join(parts)


def resolve(root: Path, flags: Layer = Layer(origin="flags"), env: Layer = Layer(origin="env"),
            config: tsconfig.TsConfig | None = None) -> IndexPolicy:
    """The policy in force for ``root``: flags over ``cogo.toml`` over ``env`` over the seed's."""
    root = Path(root).resolve()
    layers = (flags, read_config_file(root), env)
    origins: dict[str, str] = {}

    def pick(key: str):
        for layer in layers:
            value = getattr(layer, key)
            if value is not None:
                origins[key] = layer.origin
                return value
        origins[key] = "default"
        return None

    name = pick("name")
    if name is not None:
        name = _checked_name(name, origins["name"])
    else:
        name = git_remote_name(root)
        origins["name"] = "git remote"
        if name is None:
            name, origins["name"] = sources.repo_id(root), "folder"
    include = pick("include")
    js_globs: tuple[str, ...] = ()
    js_at_root = False
    if include is None:  # the .js family where a tsconfig allows it: the root's here, a package's in the walk
        include = sources.DEFAULT_INCLUDE if (root / "src").is_dir() else ANYWHERE_TS
        js_globs = tuple(g for g in with_js(include) if g not in include)
        config = config if config is not None else tsconfig.find(root)
        if allows_js(config):
            include, js_at_root = with_js(include), True
            origins["include"] = "default + allowJs"
    exclude = pick("exclude")
    if exclude is None:
        exclude = sources.DEFAULT_EXCLUDE
    else:  # a list of one's own still never walks into dependencies or git's objects
        exclude = tuple(dict.fromkeys((*exclude, *ALWAYS_EXCLUDE)))
    entries = pick("entries")
    if entries is None:
        entries = DEFAULT_ENTRIES
    for key, word, patterns in (("include", "include", include), ("exclude", "exclude", exclude),
                                ("entries", "entry", entries)):
        _checked_globs(patterns, word, origins[key])
    return IndexPolicy(root, name, tuple(include), tuple(exclude), tuple(entries), origins, js_globs, js_at_root)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def match_entries(patterns: Iterable[str], paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Entries named by ``patterns`` among ``paths`` (globs gitignore-style), in pattern order."""
    known = set(paths)
    entries: list[str] = []
    seen: set[str] = set()
    unmatched: list[str] = []
    for raw in patterns:
        pattern = raw.strip().removeprefix("./")
        if not _is_glob(pattern):
            hits = [pattern] if pattern in known else []
        else:
            spec = pathspec.GitIgnoreSpec.from_lines([pattern if "/" in pattern else "**/" + pattern])
            hits = [p for p in paths if spec.match_file(p)]
        if not hits:
            unmatched.append(raw)
        entries.extend(h for h in hits if h not in seen)
        seen.update(hits)
    return entries, unmatched


def skipped_summary(discovery: sources.Discovery) -> list[str]:
    """Lines for the user: files left out by reason, and for indexable kinds the glob that
    would take them (``--include 'docs/**/*.md'``)."""
    lines = []
    counts = discovery.skipped
    if any(counts.values()):
        parts = [f"{n} {reason}" for reason, n in counts.items() if n]
        if discovery.pruned_dirs:
            parts.append(f"{discovery.pruned_dirs} folders not entered (excluded or gitignored)")
        lines.append("skipped: " + ", ".join(parts))
    hints = sorted(((g, n) for g, n in discovery.indexable_left_out.items() if g.split("/", 1)[0] not in BUILD_DIRS),
                   key=lambda kv: (-kv[1], kv[0]))
    if hints:
        shown = ", ".join(f"'{glob}' ({n})" for glob, n in hints[:8]) + (", …" if len(hints) > 8 else "")
        lines.append(f"warning: indexable files outside the include policy: {shown}; add the globs wanted to the "
                     f"include list (--include, [index] include in {CONFIG_FILE}, INDEX_INCLUDE)")
    return lines


def no_files_hint(policy: IndexPolicy, discovery: sources.Discovery) -> str:
    """The one-line error for a policy that admits no file."""
    hint = ""
    if discovery.indexable_left_out:
        glob = max(discovery.indexable_left_out.items(), key=lambda kv: kv[1])[0]
        hint = f"; the repo has {discovery.indexable_left_out[glob]} file(s) for --include '{glob}'"
    return (f"no file of {policy.root} matches the include policy ({', '.join(policy.include[:4])}"
            f"{', …' if len(policy.include) > 4 else ''}; from {policy.origins.get('include', 'default')}){hint}")


def env_layer(settings) -> Layer:
    """The environment's layer from a ``settings.Settings``: ``ENTRIES`` counts only when set
    (its default is the seed's entries, the last layer anyway)."""
    entries = settings.entries if "entries" in settings.model_fields_set else None
    return Layer.of("env", settings.repo_name, settings.index_include, settings.index_exclude, entries)


@dataclass
class Prepared:
    """A policy applied to its repo: the files, the entries, and what to tell the user."""

    policy: IndexPolicy
    discovery: sources.Discovery
    entries: list[str]
    unmatched_entries: list[str]
    messages: list[str]  # skipped-file summary, hints, unmatched entries, unreadable files

    @property
    def empty(self) -> bool:
        return not self.discovery.files

    def no_files_error(self) -> str:
        return no_files_hint(self.policy, self.discovery)


def prepare(root: Path, flags: Layer = Layer(origin="flags"), env: Layer = Layer(origin="env")) -> Prepared:
    """Resolve the policy, walk the repo once, match the entries: what every face does first."""
    config = tsconfig.find(Path(root).resolve())
    policy = resolve(root, flags, env, config)
    discovery = policy.scan()
    paths = [f.path for f in discovery.files]
    entries, unmatched = policy.match_entries(paths)
    if policy.origins.get("entries") == "default":
        unmatched = []  # the seed's entries are taken where they exist (DESIGN §3)
    messages = [f"{config.name}: {e}" for e in config.errors[:5]]
    messages += skipped_summary(discovery)
    for path, problem in discovery.errors[:20]:
        messages.append(f"{path}: {problem}")
    for pattern in unmatched:
        messages.append(f"warning: entry {pattern!r} (from {policy.origins['entries']}) matches no indexed file")
    return Prepared(policy, discovery, entries, unmatched, messages)
