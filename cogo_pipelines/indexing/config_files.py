"""Reading a project's JSON config files: ``tsconfig.json``, ``jsconfig.json`` and ``deno.json``
as JSON with comments, error-tolerant as ``tsc`` reads them, and ``package.json`` as plain JSON.

Apart from ``tsconfig`` because the reading is the same for every config that a repository's
module resolution consults (``deno`` reads its import maps through it, ``resolve`` its
manifests), while ``tsconfig`` is about what the compiler options mean. A file with a syntax
error keeps the properties that parse (a missing comma does not lose ``paths``), each error
reported with its line.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import json5

from cogo_pipelines.indexing.reading import read_regular_text


class TsConfigError(ValueError):
    pass


_read: dict[tuple[str, int, int], tuple[object, list[str]]] = {}  # (path, mtime, size) -> what was read
_READ_CACHE_MAX = 4096


def read_jsonc(path: Path, errors: list[str] | None = None) -> dict:
    """A JSON-with-comments file (comments, trailing commas allowed). With a syntax error, what
    parses is kept and the errors go to ``errors`` (raised when no list is given).

    Plain JSON goes to ``json``; JSONC to the lenient reader below (one linear pass), and only
    what that cannot read to ``json5`` (which takes more: unquoted keys, hex numbers). ``json5``
    is pure Python: first in line, it took 62 ms per 5 kB tsconfig, and 20 of payload's 29 s of
    ``cogo graph`` went to it. A file read once is not read again while unchanged (a shared base
    config is extended by hundreds of package configs)."""
    try:
        info = path.stat()
        key = (str(path), info.st_mtime_ns, info.st_size)
    except OSError:
        key = None
    cached = _read.get(key) if key is not None else None
    if cached is None:
        cached = _parse(path)
        if key is not None:
            if len(_read) >= _READ_CACHE_MAX:
                _read.clear()
            _read[key] = cached
    data, problems = cached
    if problems:
        if errors is None or not isinstance(data, dict):
            raise TsConfigError(f"{path.name}: not JSON/JSONC: {problems[0]}")
        errors.extend(f"{path.name}: not JSON/JSONC: {problem} (what parses is kept)" for problem in problems)
    if not isinstance(data, dict):
        raise TsConfigError(f"{path.name}: top level is {type(data).__name__}, expected an object")
    return copy.deepcopy(data)


def _parse(path: Path) -> tuple[object, list[str]]:
    """What ``path`` holds, and the syntax problems of it that no reader got past."""
    try:
        text = read_regular_text(path, "utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TsConfigError(f"{path.name}: cannot read: {exc}") from exc
    try:
        return json.loads(text), []
    except (ValueError, RecursionError):  # nested past the decoder's stack: the lenient reader bounds it
        pass
    found: list[str] = []
    data = _Lenient(text, found).document()
    if not found:
        return data, []
    try:
        return json5.loads(text), []
    except (ValueError, RecursionError):
        return data, found


_TOKEN = re.compile(
    r'(?P<ws>\s+)|(?P<line>//[^\n]*)|(?P<block>/\*.*?(?:\*/|\Z))|(?P<str>"(?:[^"\\\n]|\\.)*"?|'
    r"'(?:[^'\\\n]|\\.)*'?)|(?P<punct>[{}\[\]:,])|(?P<word>[^\s{}\[\]:,\"'/]+|/)",
    re.DOTALL,
)
_WORDS = {"true": True, "false": False, "null": None}
_MAX_DEPTH = 64


class _Lenient:
    """An error-tolerant JSONC reader, after ``tsc``'s: a bad token is reported and skipped up
    to the next ``,`` or closing bracket of its level, and every property that parses is kept.
    One pass over the tokens (linear); nesting past ``_MAX_DEPTH`` is skipped, not recursed."""

    def __init__(self, text: str, errors: list[str]) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        line = 1
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind not in ("ws", "line", "block"):
                self.tokens.append((kind, m.group(), line))
            line += m.group().count("\n")
        self.i = 0
        self.errors = errors

    def _peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "", -1)

    def _error(self, message: str) -> None:
        kind, text, line = self._peek()
        if len(self.errors) >= 5 or (kind == "eof" and any("end of file" in e for e in self.errors)):
            return  # the first errors say what is wrong; the rest follow from them
        where = f"line {line}" if line > 0 else "end of file"
        self.errors.append(f"{message} at {where}" + (f" ({text[:20]!r})" if text else ""))

    def _skip_to_separator(self) -> None:
        depth = 0
        while self.i < len(self.tokens):
            kind, text, _ = self.tokens[self.i]
            if kind == "punct" and text in "{[":
                depth += 1
            elif kind == "punct" and text in "}]":
                if depth == 0:
                    return
                depth -= 1
            elif kind == "punct" and text == "," and depth == 0:
                return
            self.i += 1

    def document(self) -> object:
        value = self._value(0)
        if self.i < len(self.tokens):
            self._error("unexpected text after the top-level value")
        return value

    def _value(self, depth: int) -> object:
        kind, text, _ = self._peek()
        if kind == "punct" and text in "{[":
            if depth >= _MAX_DEPTH:
                self._error("nesting too deep")
                self.i += 1
                self._skip_to_separator()
                self.i += 1
                return None
            return self._object(depth) if text == "{" else self._array(depth)
        if kind == "str":
            if len(text) < 2 or text[-1] != text[0]:
                self._error("unterminated string")
            self.i += 1
            return _unquote(text)
        if kind == "word":
            self.i += 1
            if text in _WORDS:
                return _WORDS[text]
            try:
                return json.loads(text)
            except ValueError:
                self._error("value expected")
                return None
        self._error("value expected")
        return None

    def _close(self, closer: str) -> bool:
        kind, text, _ = self._peek()
        if kind == "punct" and text == closer:
            self.i += 1
            return True
        if kind == "eof":
            self._error(f"'{closer}' expected")
            return True
        return False

    def _after_item(self, closer: str) -> bool:
        """After an item: ``,`` (go on) or the closer (done); anything else is skipped."""
        kind, text, _ = self._peek()
        if kind == "punct" and text == ",":
            self.i += 1
            return False
        if self._close(closer):
            return True
        self._error("',' expected")
        if kind in ("str", "word") or text in "{[":
            return False  # a missing comma: read on from this token, as tsc does
        self._skip_to_separator()
        return False

    def _object(self, depth: int) -> dict:
        self.i += 1
        out: dict = {}
        while not self._close("}"):
            kind, text, _ = self._peek()
            if kind not in ("str", "word"):
                self._error("property name expected")
                self.i += 1
                self._skip_to_separator()
                if self._peek()[1] == ",":
                    self.i += 1
                continue
            key = _unquote(text) if kind == "str" else text
            self.i += 1
            if self._peek()[:2] == ("punct", ":"):
                self.i += 1
            else:
                self._error("':' expected")
            out[key] = self._value(depth + 1)
            if self._after_item("}"):
                break
        return out

    def _array(self, depth: int) -> list:
        self.i += 1
        out: list = []
        while not self._close("]"):
            before = self.i
            out.append(self._value(depth + 1))
            if self.i == before:  # nothing consumed: skip the bad token
                self.i += 1
            if self._after_item("]"):
                break
        return out


def _unquote(token: str) -> str:
    quote = token[0]
    body = token[1:-1] if len(token) > 1 and token.endswith(quote) else token[1:]
    if quote == "'":
        body = body.replace('\\"', '"').replace('"', '\\"').replace("\\'", "'")
    try:
        return json.loads('"' + body + '"')
    except ValueError:
        return body


def read_manifest(path: str | Path) -> dict:
    """A ``package.json`` (plain JSON) as a dict; empty when it is unreadable or not an object."""
    try:
        data = json.loads(read_regular_text(path))
    except (OSError, ValueError, RecursionError):  # nested past the decoder's stack: no manifest
        return {}
    return data if isinstance(data, dict) else {}
