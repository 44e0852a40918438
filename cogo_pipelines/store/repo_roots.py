"""Which folder a repo name stands for (``repo_roots``).

Every table keys a repo by its name, so two roots indexed under one name would overwrite each
other's files, chunks and graph. The first root to index under a name holds it; another root is
refused with ``RepoNameTaken`` (the user picks ``--name``). A holder whose folder no longer exists
on this machine (a moved or deleted checkout) is replaced, so moving a repo keeps its index.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from cogo_pipelines.store.db import StoreError


class RepoNameTaken(StoreError):
    """The name is held by another root: one line for the user, CLI exit 2."""

    def __init__(self, repo: str, held_by: str, root: str) -> None:
        super().__init__(
            f"repo name {repo!r} is already taken by {held_by} in this store; index {root} under another "
            f"name (--name NAME, [index] name in cogo.toml, or REPO_NAME)"
        )
        self.repo, self.held_by, self.root = repo, held_by, root


def claim(conn: psycopg.Connection, repo: str, root: Path) -> None:
    """Hold ``repo`` for ``root`` (resolved), or raise ``RepoNameTaken``."""
    root_text = str(Path(root).resolve())
    conn.execute(
        "INSERT INTO repo_roots (repo, root) VALUES (%s, %s) ON CONFLICT (repo) DO NOTHING", (repo, root_text)
    )
    row = conn.execute("SELECT root FROM repo_roots WHERE repo = %s FOR UPDATE", (repo,)).fetchone()
    held_by = row["root"] if isinstance(row, dict) else row[0]
    if held_by != root_text and os.path.isdir(held_by):
        if not conn.autocommit:
            conn.rollback()  # nothing of this run is written yet: leave no lock behind
        raise RepoNameTaken(repo, held_by, root_text)
    conn.execute("UPDATE repo_roots SET root = %s, last_seen_at = now() WHERE repo = %s", (root_text, repo))
    if not conn.autocommit:
        conn.commit()


def roots(conn: psycopg.Connection) -> dict[str, str]:
    """Every claimed repo name and its root."""
    rows = conn.execute("SELECT repo, root FROM repo_roots ORDER BY repo").fetchall()
    return {(r["repo"] if isinstance(r, dict) else r[0]): (r["root"] if isinstance(r, dict) else r[1]) for r in rows}
