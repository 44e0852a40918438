"""Walk a repository under the include/exclude policy of DESIGN.md §3.

Policy patterns are gitignore-style globs (``pathspec``); excluded folders are pruned
during the walk so that ``node_modules`` is never even listed. ``scan`` also honours the
repo's ``.gitignore`` files, counts what it left out and why, and turns a file it cannot read
(a dangling symlink, a symlink loop) into a per-file error instead of stopping the walk. A link
to a file outside the repository is never read (it may point at ``/proc/self/environ``), and
folders it cannot list or that nest too deep are reported too.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from cogo_pipelines.indexing import jsscope
from cogo_pipelines.indexing.generated import is_generated
from cogo_pipelines.indexing.model import SourceFile
from cogo_pipelines.indexing.reading import (
    NotARegularFile,
    inside,
    is_utf8_name,
    printable_name,
    read_regular,
    read_regular_text,
    walk,
)

DEFAULT_INCLUDE = (
    "src/**/*.ts",
    "src/**/*.tsx",
    "src/**/*.mts",
    "src/**/*.cts",
    "src/**/*.vue",  # single-file components: their <script> blocks are parsed (indexing/sfc.py)
    "src/**/*.svelte",
    "src/**/*.astro",
    "docs/specs/**/*.md",
    "docs/schemas/**/*.md",
    "docs/plans/**/*.md",
    "supabase/sql/**",
    "supabase/functions/**",
)
# The cogo folders are anchored at the repo root ("/logs/"): an unanchored "react/" would also
# drop e.g. src/query/react/ of a library. node_modules and .git are excluded at any depth.
DEFAULT_EXCLUDE = (
    "/backups/",
    "/backup/",
    "/logs/",
    "/reports/",
    "/artifacts-local/",
    "/react/",
    "/mcp-servers/",
    "node_modules/",
    ".git/",
)

_LANGUAGES = {
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",  # docs sites (Docusaurus, Nextra, Next.js): markdown with imports and JSX
    ".sql": "sql",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".vue": "typescript",  # the <script> blocks (indexing/sfc.py); JS parses as TypeScript too
    ".svelte": "typescript",
    ".astro": "typescript",
}
# kinds worth a hint when the include policy leaves them out: every kind that has a language
INDEXABLE_SUFFIXES = frozenset(_LANGUAGES)
SKIP_REASONS = ("excluded", "gitignored", "outside the include policy", "unsupported kind")


JS_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs")


@dataclass(frozen=True)
class Policy:
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    # the default include list's .js-family globs, taken under each folder whose nearest
    # tsconfig.json (else jsconfig.json) allows JavaScript (``jsscope``); js_at_root: the root's does (``include``
    # has them then, and a package's own ``allowJs: false`` takes them out)
    js_globs: tuple[str, ...] = ()
    js_at_root: bool = False
    _specs: tuple = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "_specs",
            (
                pathspec.GitIgnoreSpec.from_lines(self.include),
                pathspec.GitIgnoreSpec.from_lines(self.exclude),
            ),
        )

    @classmethod
    def from_patterns(cls, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None,
                      js_globs: Iterable[str] = (), js_at_root: bool = False) -> Policy:
        return cls(tuple(include or DEFAULT_INCLUDE), tuple(exclude or DEFAULT_EXCLUDE), tuple(js_globs), js_at_root)

    def excludes_dir(self, rel_dir: str) -> bool:
        return self._specs[1].match_file(rel_dir.rstrip("/") + "/")

    def admits(self, rel_path: str) -> bool:
        include, exclude = self._specs
        return include.match_file(rel_path) and not exclude.match_file(rel_path)


def language_of(rel_path: str) -> str:
    if rel_path.endswith(".d.ts"):
        return "typescript"
    return _LANGUAGES.get(os.path.splitext(rel_path)[1].lower(), "other")


_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 12, 13, 27))


_HEAD = 8192  # bytes read to tell text from binary


def looks_binary(data: bytes) -> bool:
    """Whether ``data`` is binary rather than text. A NUL written into a string (pnpm keys a
    cache with `${a}\0${b}`) does not make a source binary: only a head where control bytes are
    more than a tenth, NUL among them, does."""
    head = data[:_HEAD]
    return b"\x00" in head and (len(head) - len(head.translate(None, _CONTROL_BYTES))) * 10 > len(head)


def binary_reason(data: bytes) -> str | None:
    """Why ``data`` is no text to index (random bytes, an image named ``.ts``, UTF-16), or None.
    The walk leaves such a file out with this reason: the parser gave it a line of problems,
    and the chunker, its bytes replaced, chunks of noise to embed. Only the head is read, and
    only where it holds a NUL or a byte past ASCII (a source file's head seldom does): control
    bytes more than a tenth of it (``looks_binary``, NUL or not), or more than a tenth of it
    not UTF-8 (a Latin-1 source's few accents are far fewer)."""
    head = data[:_HEAD]
    if b"\x00" not in head and head.isascii():
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text (a byte-order mark); not indexed"
    if (len(head) - len(head.translate(None, _CONTROL_BYTES))) * 10 > len(head):
        return "binary file (NUL and control bytes); not indexed" if b"\x00" in head else \
            "binary file (control bytes); not indexed"
    if not head.isascii():
        text = head.decode("utf-8", errors="replace")
        if text.count("\ufffd") * 10 > len(text):
            return "binary file (not UTF-8 text); not indexed"
    return None


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iter_paths(root: Path, policy: Policy = Policy()) -> Iterator[str]:
    """Relative POSIX paths admitted by the policy, sorted within each folder."""
    root = root.resolve()
    for dirpath, dirnames, filenames in walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not policy.excludes_dir(rel_dir + d))
        for name in sorted(filenames):
            rel = rel_dir + name
            if policy.admits(rel):
                yield rel


def discover(root: Path, policy: Policy = Policy()) -> list[SourceFile]:
    """Every admitted file with its content hash (unreadable files left out: see ``scan``)."""
    return scan(root, policy).files


@dataclass
class Discovery:
    """What a walk found, what it left out (counted by reason) and what it could not read."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> files
    pruned_dirs: int = 0  # folders not entered (excluded or gitignored)
    indexable_left_out: Counter = field(default_factory=Counter)  # hint glob -> files of an indexable kind
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, problem): unreadable files
    # the files module resolution reads besides the sources (package tsconfigs, manifests, import
    # maps): a stored graph is only reused while they are unchanged too
    resolution_configs: list[str] = field(default_factory=list)
    # package folders whose tsconfig.json (or jsconfig.json) turned the .js family on (True) or off (False) there
    js_scopes: dict[str, bool] = field(default_factory=dict)


def valid_glob(pattern: str) -> bool:
    """Whether ``pattern`` compiles as a gitignore-style glob."""
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error):  # pathspec's GitIgnorePatternError is a ValueError
        return False
    return True


def gitignore_spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    """A ``.gitignore``'s patterns; a line git cannot use either (``[z-a]``, a lone ``\\``) is
    passed over, as git does, instead of failing the whole walk."""
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, re.error):
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if valid_glob(line)])


class _GitIgnore:
    """The ``.gitignore`` files met on the way down, each applying below its own folder."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []

    def enter(self, root: Path, rel_dir: str, filenames: list[str]) -> None:
        if ".gitignore" in filenames:
            try:
                lines = read_regular_text(root / rel_dir / ".gitignore", errors="replace").splitlines()
                self.specs.append((rel_dir, gitignore_spec(lines)))
            except (OSError, ValueError):
                pass

    def ignores(self, rel: str) -> bool:
        return any(rel.startswith(base) and spec.match_file(rel[len(base):]) for base, spec in self.specs)


RESOLUTION_CONFIG_NAMES = frozenset({"package.json", "deno.json", "deno.jsonc", "pnpm-workspace.yaml"})
CONFIG_PREFIXES = ("tsconfig", "jsconfig")  # tsconfig*.json, jsconfig*.json: project configs and their bases


def is_resolution_config(name: str) -> bool:
    return (name in RESOLUTION_CONFIG_NAMES or (name.startswith(CONFIG_PREFIXES) and name.endswith(".json"))
            or name.startswith("svelte.config."))


def _hint_glob(rel: str, suffix: str) -> str:
    top, sep, _ = rel.partition("/")
    return f"{top}/**/*{suffix}" if sep else f"*{suffix}"


def scan(root: Path, policy: Policy = Policy(), gitignore: bool = True) -> Discovery:
    """Every admitted file with its content hash, and a count of the rest by reason."""
    root = Path(root).resolve()
    out = Discovery()
    ignored = _GitIgnore()
    include, exclude = policy._specs
    js = jsscope.JsScopes(root, policy.js_globs, policy.js_at_root) if policy.js_globs else None
    unlisted: list[tuple[str, str]] = []
    links: set[str] = set()
    for dirpath, dirnames, filenames in walk(root, unlisted, links=links):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if gitignore:
            ignored.enter(root, rel_dir, filenames)
        if js is not None:
            js.enter(rel_dir, filenames)
        kept = []
        for d in sorted(dirnames):
            if policy.excludes_dir(rel_dir + d) or (gitignore and ignored.specs and ignored.ignores(rel_dir + d + "/")):
                out.pruned_dirs += 1
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            rel = rel_dir + name
            included = include.match_file(rel)
            if js is not None and js.nested and name.lower().endswith(JS_SUFFIXES):  # a package's own allowJs
                included = js.admits(rel_dir, rel, included)
            if included:
                if exclude.match_file(rel):
                    out.skipped["excluded"] += 1
                    continue
                if gitignore and ignored.specs and ignored.ignores(rel):
                    out.skipped["gitignored"] += 1
                    continue
            else:  # the common case in a big repo: one pattern match, as before there was a summary
                suffix = os.path.splitext(rel)[1].lower()
                if suffix not in INDEXABLE_SUFFIXES:
                    if name not in (".gitignore", "cogo.toml"):
                        out.skipped["unsupported kind"] += 1
                    if is_resolution_config(name):
                        out.resolution_configs.append(rel)
                    continue
                if name.startswith("svelte.config."):  # its kit.alias steers resolution (a .js left out)
                    out.resolution_configs.append(rel)
                if exclude.match_file(rel):
                    out.skipped["excluded"] += 1
                elif gitignore and ignored.specs and ignored.ignores(rel):
                    out.skipped["gitignored"] += 1
                else:
                    out.skipped["outside the include policy"] += 1
                    out.indexable_left_out[_hint_glob(rel, suffix)] += 1
                continue
            if not is_utf8_name(rel):  # a legacy byte name: the store holds UTF-8 text only
                out.errors.append((printable_name(rel), "file name is not UTF-8; not indexed"))
                continue
            if is_resolution_config(name):
                out.resolution_configs.append(rel)
            path = root / rel
            if links and str(path) in links and not inside(root, path):  # never read what a link points at outside
                out.errors.append((rel, "a link to a file outside the repository; not indexed"))
                continue
            try:
                data = read_regular(path)
            except NotARegularFile as exc:  # a pipe, a socket, a dump: never opened to block or fill memory
                out.errors.append((rel, str(exc).replace("not read", "not indexed")))
                continue
            except OSError as exc:  # a dangling symlink, a symlink loop, a file gone mid-walk
                out.errors.append((rel, f"cannot read: {exc.strerror or exc}"))
                continue
            why = binary_reason(data)
            if why is not None:
                out.skipped["binary"] += 1
                out.errors.append((rel, why))
                continue
            out.files.append(SourceFile(path=rel, language=language_of(rel), content_hash=content_hash(data), size=len(data),
                                        generated=is_generated(rel, data)))
    out.errors.extend((Path(folder).relative_to(root).as_posix() + "/", why) for folder, why in unlisted)
    if js is not None:
        out.js_scopes = dict(sorted(js.scopes.items()))
    return out


def repo_id(root: Path) -> str:
    """The ``repo`` column value: the folder name, stable across machines and checkouts."""
    return root.resolve().name
