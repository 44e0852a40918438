"""Reading a repository's files without trusting what a name says it is.

A repository may hold a FIFO or a socket under a source's or a config's name (a dev setup's
`tsconfig.json` pipe, a `logs/x.sql` socket), or a multi-gigabyte dump named `.sql`: reading such
a name blocked the run forever or took its memory. Every file the index reads by name is read
here: looked at through the handle that reads it, refused unless it is a regular file of a
bounded size.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

# the largest generated sources seen are a few MB; the chunker keeps a 1 MB file's head only
# (``chunking.MAX_FILE_BYTES``, a bound of another kind: what is chunked of a file read), and the
# graph parses a file whole
MAX_READ_BYTES = 32 * 1024 * 1024


class NotARegularFile(OSError):
    """A name that is no file to read: a pipe, a socket, a device, or a file past the bound.
    An ``OSError``, so a reader that already tells "cannot read" handles it."""


def read_regular(path: str | Path, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of the regular file ``path`` of at most ``limit`` bytes. The file is opened
    without blocking (opening a FIFO to read waits for a writer) and read whole only once its
    kind and size are known."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", buffering=0) as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile("not a regular file (a pipe, socket or device); not read")
        if info.st_size > limit:
            raise NotARegularFile(f"too large ({info.st_size:,} bytes > {limit:,}); not read")
        return f.read()


def read_regular_text(path: str | Path, encoding: str = "utf-8", errors: str = "strict",
                      limit: int = MAX_READ_BYTES) -> str:
    """``read_regular`` decoded (``utf-8-sig`` drops a BOM)."""
    return read_regular(path, limit).decode(encoding, errors)


def is_utf8_name(name: str) -> bool:
    """Whether a name the file system gave (undecodable bytes come as surrogates) is UTF-8: the
    store holds UTF-8 text only, and a Latin-1 byte name (``caf\\xe9.ts``) failed the write."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_name(name: str) -> str:
    """A file system name with undecodable bytes shown as U+FFFD, to report it."""
    return name if is_utf8_name(name) else os.fsencode(name).decode("utf-8", "replace")


# folders below a root that a walk enters. Real repositories nest a few dozen deep; Python
# 3.11's ``os.walk`` recurses and died (RecursionError) on a tree ~1,000 deep, taking the run
MAX_FOLDER_DEPTH = 256


def walk(root: str | Path, problems: list[tuple[str, str]] | None = None,
         max_depth: int = MAX_FOLDER_DEPTH, links: set[str] | None = None,
         ) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(root)`` top-down without recursion: ``(dirpath, dirnames, filenames)``,
    ``dirnames`` pruned in place by the caller, links to folders listed but not entered (as
    ``os.walk`` without ``followlinks``). What it cannot list, and folders deeper than
    ``max_depth``, are added to ``problems`` as ``(folder, why)`` instead of being passed over
    in silence; the paths of the files that are symbolic links to ``links`` (from the listing:
    no system call per file)."""
    pending = [(os.fspath(root), 0)]
    while pending:
        top, depth = pending.pop()
        dirs: list[str] = []
        files: list[str] = []
        linked_dirs: set[str] = set()
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                        if entry.is_symlink():
                            if is_dir:
                                linked_dirs.add(entry.name)
                            elif links is not None:
                                links.add(entry.path)
                    except OSError:
                        is_dir = False
                    (dirs if is_dir else files).append(entry.name)
        except OSError as exc:
            if problems is not None and depth:
                problems.append((top, f"folder not read: {exc.strerror or exc}"))
            continue
        yield top, dirs, files
        below = [d for d in dirs if d not in linked_dirs]
        if below and depth >= max_depth:
            if problems is not None:
                problems.append((top, f"folders nested deeper than {max_depth} levels; not entered"))
            continue
        pending.extend((os.path.join(top, d), depth + 1) for d in reversed(below))


def inside(root: Path, path: Path) -> bool:
    """Whether ``path`` (under the resolved ``root``), links followed, is still in ``root``: a
    link in a repository may point at ``/proc/self/environ`` or ``~/.ssh``."""
    real = os.path.realpath(path)
    base = os.fspath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)
