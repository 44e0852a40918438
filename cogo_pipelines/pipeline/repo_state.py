"""A repo's state in one string, to tell whether it changed since it was last indexed.

In a git checkout: the HEAD commit plus the digest of ``git status --porcelain`` (uncommitted
edits count as a change too) — two quick commands, whatever the repo's size. Elsewhere: the
digest of the content hashes of the files the default policy admits.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from cogo_pipelines.indexing import sources

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
    digest = hashlib.sha256()
    for f in sources.discover(root):
        digest.update(f"{f.path}\0{f.content_hash}\n".encode())
    return f"files:{digest.hexdigest()[:32]}"
