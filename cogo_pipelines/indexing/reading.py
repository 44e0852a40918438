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
