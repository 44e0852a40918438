"""Test-runner summary lines (jest, vitest, node --test, mocha, pytest) -> counts.

Only the last summary in the log counts: watch-mode reruns and nested runners print several.

A log is whatever a job's command printed, so this reads it as hostile input: one pass over
the lines, each line split into whitespace tokens and matched by hand, no regular expression
with a repeated group (the old pytest pattern ``((?:\\d+\\s+\\w+,?\\s*)+)`` took 30 s on an
83-character line of numbers and doubled with every number more). Work is linear in the log
and a line is only looked at up to ``MAX_LINE_CHARS``. ``SummaryScanner`` takes the lines one
by one, so a runner can parse a 50 MB log while streaming it from disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# A bounded pattern: one escape, digits/semicolons, one letter; no nested repetition.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_LINE_CHARS = 4096  # a summary line is short; a longer line is only read this far
_MAX_DIGITS = 9  # counts above a billion are not counts (and int() of 5,000 digits raises)

_WORDS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "todo": "skipped",
          "pending": "skipped", "error": "errors", "errors": "errors", "xfailed": "xfailed",
          "xpassed": "xpassed", "deselected": "deselected"}
_NODE_KEYS = frozenset(("tests", "pass", "fail", "skipped", "todo", "cancelled"))
_MOCHA_WORDS = ("passing", "failing", "pending")


def _number(token: str) -> int | None:
    return int(token) if token.isascii() and token.isdigit() and len(token) <= _MAX_DIGITS else None


def _word_prefix(token: str) -> str:
    """The leading run of word characters (``passed,`` -> ``passed``)."""
    end = 0
    while end < len(token) and (token[end].isalnum() or token[end] == "_"):
        end += 1
    return token[:end]


def _counts(tokens: list[str]) -> dict[str, int]:
    """``N word`` pairs anywhere in the tokens, for the words a summary uses."""
    out: dict[str, int] = {}
    for i in range(len(tokens) - 1):
        n = _number(tokens[i])
        if n is None:
            continue
        key = _WORDS.get(_word_prefix(tokens[i + 1]))
        if key:
            out[key] = out.get(key, 0) + n
    return out


def _shape(framework: str, counts: dict[str, int], total: int | None = None) -> dict:
    passed, failed, skipped = counts.get("passed", 0), counts.get("failed", 0) + counts.get("errors", 0), counts.get("skipped", 0)
    return {"framework": framework, "passed": passed, "failed": failed, "skipped": skipped,
            "total": total if total is not None else passed + failed + skipped}


def _tokens(text: str) -> list[str]:
    return text.replace(",", " ").replace("|", " ").split()


def _jest(line: str) -> dict | None:
    """``Tests:       1 failed, 2 skipped, 5 passed, 8 total``"""
    if not line.startswith("Tests:") or not line.endswith("total"):
        return None
    tokens = _tokens(line[len("Tests:"):])
    if len(tokens) < 2 or tokens[-1] != "total":
        return None
    total = _number(tokens[-2])
    if total is None:
        return None
    return _shape("jest", _counts(tokens[:-2]), total)


def _vitest(line: str) -> dict | None:
    """``Tests  1 failed | 4 passed (5)``: every group is ``N word``."""
    if not line.startswith("Tests") or line.startswith("Tests:") or not line.endswith(")"):
        return None
    open_at = line.rfind("(")
    total = _number(line[open_at + 1:-1].strip()) if open_at > 0 else None
    if total is None:
        return None
    tokens = line[len("Tests"):open_at].replace("|", " ").split()
    if not tokens or len(tokens) % 2 or line[len("Tests")] not in " \t":
        return None
    for i in range(0, len(tokens), 2):
        if _number(tokens[i]) is None or not tokens[i + 1].replace("_", "a").isalnum():
            return None
    return _shape("vitest", _counts(tokens), total)


def _pytest(line: str) -> dict | None:
    """``==== 1 failed, 5 passed, 2 skipped in 0.12s ====`` or ``5 passed in 0.01s``."""
    body = line.strip("=").strip()
    cut = body.rfind(" in ")
    if cut <= 0:
        return None
    duration = body[cut + 4:].split(None, 1)
    seconds = duration[0] if duration else ""
    if not seconds.endswith("s") or not seconds[:-1] or any(c not in "0123456789." for c in seconds[:-1]):
        return None
    groups = body[:cut].split(",")
    for group in groups:
        parts = group.split()
        if len(parts) != 2 or _number(parts[0]) is None or not parts[1].replace("_", "a").isalnum():
            return None
    counts = _counts(body[:cut].replace(",", " ").split())
    return _shape("pytest", counts) if counts else None


class SummaryScanner:
    """Feed a log line by line (``feed``), then ``result()``: the last summary found."""

    def __init__(self) -> None:
        self._line = 0
        self._found: tuple[int, dict] | None = None
        self._node: dict[str, int] = {}
        self._node_at = -1
        self._mocha: dict[str, int] = {}
        self._mocha_at = -1

    def _hit(self, summary: dict | None) -> None:
        if summary is not None:
            self._found = (self._line, summary)

    def feed(self, raw: str) -> None:
        self._line += 1
        line = raw[:MAX_LINE_CHARS]
        if "\x1b" in line:
            line = _ANSI.sub("", line)
        line = line.strip()
        if not line:
            return
        head = line[0]
        if head == "T":
            self._hit(_jest(line) or _vitest(line))
        elif head in "#ℹ":
            tokens = line.split()
            if len(tokens) == 3 and tokens[0] in ("#", "ℹ") and tokens[1] in _NODE_KEYS:
                n = _number(tokens[2])
                if n is not None:
                    self._node[tokens[1]] = n
                    self._node_at = self._line
        elif head.isdigit() or head == "=":
            tokens = line.split(None, 2)
            if len(tokens) >= 2 and _number(tokens[0]) is not None:
                word = _word_prefix(tokens[1])
                if word in _MOCHA_WORDS and tokens[1].startswith(word):
                    self._mocha[word] = int(tokens[0])
                    self._mocha_at = self._line
                    return
            self._hit(_pytest(line))

    def feed_text(self, text: str) -> SummaryScanner:
        for line in text.split("\n"):
            self.feed(line)
        return self

    def result(self) -> dict | None:
        found = [self._found] if self._found else []
        node = self._node
        if "tests" in node:
            counts = {"passed": node.get("pass", 0), "failed": node.get("fail", 0) + node.get("cancelled", 0),
                      "skipped": node.get("skipped", 0) + node.get("todo", 0)}
            found.append((self._node_at, _shape("node", counts, node["tests"])))
        mocha = self._mocha
        if "passing" in mocha or "failing" in mocha:
            counts = {"passed": mocha.get("passing", 0), "failed": mocha.get("failing", 0),
                      "skipped": mocha.get("pending", 0)}
            found.append((self._mocha_at, _shape("mocha", counts)))
        return max(found, key=lambda pair: pair[0])[1] if found else None


def parse_test_summary(log_text: str) -> dict | None:
    """The counts of the last recognised summary, or None when the log has none."""
    return SummaryScanner().feed_text(log_text).result()


def parse_test_summary_lines(lines: Iterable[str]) -> dict | None:
    """The same for a stream of lines (a log read from disk in pieces)."""
    scanner = SummaryScanner()
    for line in lines:
        scanner.feed(line)
    return scanner.result()
