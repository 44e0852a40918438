"""A repo's state in one string, to tell whether it changed since it was last indexed.

In a git checkout: the HEAD commit plus the digest of ``git status --porcelain`` (uncommitted
edits count as a change too) — two quick commands, whatever the repo's size. Elsewhere: the
digest of every file's path, size and modification time under the repo's exclude policy (its
``cogo.toml``, ``INDEX_EXCLUDE`` or the default), ``.gitignore`` aside. Not the include policy:
the flags a run was given are not known here, and the default's include (``src/**`` of cogo's
layout) admitted nothing in a repo without ``src/``, so its state never changed. A change
outside what is indexed costs an index run that finds nothing to do.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from cogo_pipelines.indexing import policy as index_policy
from cogo_pipelines.indexing import sources
from cogo_pipelines.indexing.reading import walk
from cogo_pipelines.settings import get_settings

GIT_TIMEOUT_S = 30


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def repo_state(root: Path) -> str | None:
    """``git:<HEAD>:<status digest>`` or ``files:<digest>``; None when the folder is gone."""
    root = Path(root)
    if not root.is_dir():
        return None
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is not None and Path(top.strip()).resolve() == root.resolve():
        head = _git(root, "rev-parse", "HEAD")
        status = _git(root, "status", "--porcelain", "--untracked-files=all")
        if head is not None and status is not None:
            return f"git:{head.strip()}:{hashlib.sha256(status.encode()).hexdigest()[:16]}"
    return f"files:{_files_digest(root.resolve())}"


def _files_digest(root: Path) -> str:
    try:
        exclude = index_policy.resolve(root, env=index_policy.env_layer(get_settings())).exclude
    except index_policy.PolicyError:  # a bad cogo.toml: the index run will say so
        exclude = sources.DEFAULT_EXCLUDE
    spec = sources.Policy.from_patterns(("**/*",), exclude)
    digest = hashlib.sha256()
    for folder, dirnames, filenames in walk(root):
        rel_dir = os.path.relpath(folder, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not spec.excludes_dir(rel_dir + d))
        for name in sorted(filenames):
            rel = rel_dir + name
            if not spec.admits(rel):
                continue
            try:
                info = os.stat(os.path.join(folder, name), follow_symlinks=False)
            except OSError:
                continue
            digest.update(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]
