"""Test-runner summary lines (jest, vitest, node --test, mocha, pytest) -> counts.

Only the last summary in the log counts: watch-mode reruns and nested runners print several.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_COUNT = r"(\d+)\s+(passed|failed|skipped|todo|pending|errors?|xfailed|xpassed|deselected)"

# jest: "Tests:       1 failed, 2 skipped, 5 passed, 8 total"
_JEST = re.compile(r"^\s*Tests:\s+(.*\d+\s+total)\s*$", re.MULTILINE)
# vitest: " Tests  1 failed | 4 passed (5)"
_VITEST = re.compile(r"^\s*Tests\s+((?:\d+\s+\w+\s*\|?\s*)+)\((\d+)\)\s*$", re.MULTILINE)
# node --test TAP footer: "# tests 6" / "# pass 5" / "# fail 1" (or "ℹ tests 6" in the spec reporter)
_NODE = re.compile(r"^\s*(?:#|ℹ)\s+(tests|pass|fail|skipped|todo|cancelled)\s+(\d+)\s*$", re.MULTILINE)
# mocha: "  5 passing (12ms)" / "  1 failing" / "  2 pending"
_MOCHA = re.compile(r"^\s*(\d+)\s+(passing|failing|pending)\b", re.MULTILINE)
# pytest: "==== 1 failed, 5 passed, 2 skipped in 0.12s ====" or "5 passed in 0.01s"
_PYTEST = re.compile(r"^=*\s*((?:\d+\s+\w+,?\s*)+)\s+in\s+[\d.]+s\b.*$", re.MULTILINE)


def _counts(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, word in re.findall(_COUNT, text):
        key = {"error": "errors", "todo": "skipped", "pending": "skipped"}.get(word, word)
        out[key] = out.get(key, 0) + int(n)
    return out


def _shape(framework: str, counts: dict[str, int], total: int | None = None) -> dict:
    passed, failed, skipped = counts.get("passed", 0), counts.get("failed", 0) + counts.get("errors", 0), counts.get("skipped", 0)
    return {"framework": framework, "passed": passed, "failed": failed, "skipped": skipped,
            "total": total if total is not None else passed + failed + skipped}


def parse_test_summary(log_text: str) -> dict | None:
    """The counts of the last recognised summary, or None when the log has none."""
    text = _ANSI.sub("", log_text)
    found: list[tuple[int, dict]] = []
    for m in _JEST.finditer(text):
        counts = _counts(m.group(1))
        total = re.search(r"(\d+)\s+total", m.group(1))
        found.append((m.start(), _shape("jest", counts, int(total.group(1)) if total else None)))
    for m in _VITEST.finditer(text):
        found.append((m.start(), _shape("vitest", _counts(m.group(1)), int(m.group(2)))))
    node = {k: int(v) for k, v in _NODE.findall(text)}
    if "tests" in node:
        last = max(m.start() for m in _NODE.finditer(text))
        counts = {"passed": node.get("pass", 0), "failed": node.get("fail", 0) + node.get("cancelled", 0),
                  "skipped": node.get("skipped", 0) + node.get("todo", 0)}
        found.append((last, _shape("node", counts, node["tests"])))
    mocha = {word: int(n) for n, word in _MOCHA.findall(text)}
    if "passing" in mocha or "failing" in mocha:
        last = max(m.start() for m in _MOCHA.finditer(text))
        counts = {"passed": mocha.get("passing", 0), "failed": mocha.get("failing", 0), "skipped": mocha.get("pending", 0)}
        found.append((last, _shape("mocha", counts)))
    for m in _PYTEST.finditer(text):
        counts = _counts(m.group(1))
        if counts:
            found.append((m.start(), _shape("pytest", counts)))
    return max(found, key=lambda pair: pair[0])[1] if found else None
