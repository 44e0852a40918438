"""Import specifiers as the resolver reads them before it looks at any file: relative or bare,
the package a bare one names, whether that is a Node built-in, what a ``paths``-style pattern's
``*`` stands for; and ``Resolution``, what resolving one came to.

Apart from ``resolve`` because these are pure functions of strings that the module and symbol
graphs (``graph``, ``linking``) use as well, and that every part of the resolver shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NODE_BUILTINS = frozenset(["assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib", "test", "sqlite", "sea"])


@dataclass(frozen=True)
class Resolution:
    status: str  # internal | external | builtin | unresolved
    path: str | None = None  # repo-relative POSIX path when internal
    reason: str | None = None

    @property
    def internal(self) -> bool:
        return self.status == "internal"


def is_relative(spec: str) -> bool:
    return spec.startswith(("./", "../", "/")) or spec in (".", "..")


def package_name(spec: str) -> str:
    """``@scope/pkg`` / ``pkg`` of a bare specifier (Deno's ``npm:pkg@1/x`` included)."""
    if spec.startswith(("npm:", "jsr:")):
        spec = spec[4:]
        parts = spec.split("/")
        name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
        return name[0] + name[1:].split("@")[0]  # without the version, keeping a scope's "@"
    parts = spec.split("/")
    return "/".join(parts[:2]) if spec.startswith("@") and len(parts) > 1 else parts[0]


def star_of(spec: str, prefix: str, suffix: str | None) -> str | None:
    """What ``*`` stands for when ``spec`` matches the ``paths`` pattern ``prefix*suffix`` ("" for
    an exact pattern, ``suffix`` None), or None when it does not match."""
    if suffix is None:
        return "" if spec == prefix else None
    if spec.startswith(prefix) and spec.endswith(suffix) and len(spec) >= len(prefix) + len(suffix):
        return spec[len(prefix): len(spec) - len(suffix)]
    return None


_PACKAGE_NAME = re.compile(r"(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*")


def could_be_package(spec: str) -> bool:
    """Whether ``spec`` starts with a valid npm package name (``@/x`` and ``~/x`` do not)."""
    return _PACKAGE_NAME.fullmatch(package_name(spec)) is not None
