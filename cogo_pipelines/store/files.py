"""The ``files`` table: what was discovered last time, so a re-index touches only changes."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from cogo_pipelines.indexing.model import SourceFile


@dataclass
class FileDelta:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def dirty(self) -> list[str]:
        return self.added + self.changed


def known_hashes(conn: psycopg.Connection, repo: str) -> dict[str, str]:
    rows = conn.execute("SELECT path, content_hash FROM files WHERE repo = %s", (repo,)).fetchall()
    return {r["path"]: r["content_hash"] for r in rows}


def diff(previous: dict[str, str], current: list[SourceFile]) -> FileDelta:
    delta = FileDelta()
    seen = set()
    for f in current:
        seen.add(f.path)
        old = previous.get(f.path)
        if old is None:
            delta.added.append(f.path)
        elif old != f.content_hash:
            delta.changed.append(f.path)
        else:
            delta.unchanged.append(f.path)
    delta.removed = sorted(set(previous) - seen)
    return delta


def sync_files(conn: psycopg.Connection, repo: str, current: list[SourceFile]) -> FileDelta:
    """Record the discovered files and return what changed since the last run. An unchanged file
    whose ``generated`` flag differs from its row is written too (a store made before the flag
    existed, or a generator's header rule that changed): the flag is not part of the delta."""
    rows = conn.execute("SELECT path, content_hash, generated FROM files WHERE repo = %s", (repo,)).fetchall()
    delta = diff({r["path"]: r["content_hash"] for r in rows}, current)
    flagged = {r["path"] for r in rows if r["generated"]}
    unchanged = set(delta.unchanged)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO files (repo, path, language, content_hash, size, generated) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (repo, path) DO UPDATE SET language = EXCLUDED.language, "
            "content_hash = EXCLUDED.content_hash, size = EXCLUDED.size, generated = EXCLUDED.generated, "
            "error = CASE WHEN files.content_hash = EXCLUDED.content_hash THEN files.error END, "
            "indexed_at = CASE WHEN files.content_hash = EXCLUDED.content_hash THEN files.indexed_at ELSE now() END",
            [(repo, f.path, f.language, f.content_hash, f.size, f.generated) for f in current
             if f.path not in unchanged or f.generated != (f.path in flagged)],
        )
        if delta.removed:
            cur.execute("DELETE FROM files WHERE repo = %s AND path = ANY(%s)", (repo, delta.removed))
    return delta


def record_error(conn: psycopg.Connection, repo: str, path: str, error: str) -> None:
    conn.execute("UPDATE files SET error = %s WHERE repo = %s AND path = %s", (error[:2000], repo, path))


def clear_errors(conn: psycopg.Connection, repo: str, paths: list[str]) -> None:
    """Forget the errors of files that parse now (re-extracted by a newer extractor, unchanged)."""
    if paths:
        conn.execute(
            "UPDATE files SET error = NULL WHERE repo = %s AND path = ANY(%s) AND error IS NOT NULL", (repo, paths)
        )
