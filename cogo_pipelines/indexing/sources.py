"""Walk a repository under the include/exclude policy of DESIGN.md §3.

Policy patterns are gitignore-style globs (``pathspec``); excluded folders are pruned
during the walk so that ``node_modules`` is never even listed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from cogo_pipelines.indexing.model import SourceFile

DEFAULT_INCLUDE = (
    "src/**/*.ts",
    "src/**/*.tsx",
    "src/**/*.mts",
    "src/**/*.cts",
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
    ".sql": "sql",
}


@dataclass(frozen=True)
class Policy:
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
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
    def from_patterns(cls, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> Policy:
        return cls(tuple(include or DEFAULT_INCLUDE), tuple(exclude or DEFAULT_EXCLUDE))

    def excludes_dir(self, rel_dir: str) -> bool:
        return self._specs[1].match_file(rel_dir.rstrip("/") + "/")

    def admits(self, rel_path: str) -> bool:
        include, exclude = self._specs
        return include.match_file(rel_path) and not exclude.match_file(rel_path)


def language_of(rel_path: str) -> str:
    if rel_path.endswith(".d.ts"):
        return "typescript"
    return _LANGUAGES.get(os.path.splitext(rel_path)[1].lower(), "other")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iter_paths(root: Path, policy: Policy = Policy()) -> Iterator[str]:
    """Relative POSIX paths admitted by the policy, sorted within each folder."""
    root = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not policy.excludes_dir(rel_dir + d))
        for name in sorted(filenames):
            rel = rel_dir + name
            if policy.admits(rel):
                yield rel


def discover(root: Path, policy: Policy = Policy()) -> list[SourceFile]:
    """Every admitted file with its content hash."""
    found = []
    for rel in iter_paths(root, policy):
        data = (root / rel).read_bytes()
        found.append(SourceFile(path=rel, language=language_of(rel), content_hash=content_hash(data), size=len(data)))
    return found


def repo_id(root: Path) -> str:
    """The ``repo`` column value: the folder name, stable across machines and checkouts."""
    return root.resolve().name
