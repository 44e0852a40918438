"""Failures in what JavaScript test runners print: vitest, jest, node:test (TAP and spec), mocha.

Each runner has its own report shape (a header per failing test, then its message, code frame
and stack), so each gets its own reader here; ``build_log.parse_build_log`` runs them all. The
shapes were taken from real runs (the fixtures of ``test_build_log``).
"""

from __future__ import annotations

import re

from cogo_pipelines.quality.build_failures import MESSAGE_CHARS, Collector, Failure
from cogo_pipelines.quality.build_log_lines import ERROR_LINE, frames_and_code, parse_frame, parse_location

_VITEST_FAIL = re.compile(r"^\s*FAIL\s+(\S.*)$")
# a test's line, its duration taken off apart (`_untimed`): a lazy name before an optional
# `\s+\d+ms$` retried the whitespace run at each character, quadratic on a line of blanks (a
# hostile 480 kB log: 8 s)
_VITEST_CROSS = re.compile(r"^\s*[×✗]\s+(\S.*)$")
_JEST_BULLET = re.compile(r"^\s*●\s+(\S.*)$")
_TAP_NOT_OK = re.compile(r"^(\s*)not ok \d+ - (.*)$")
_SPEC_CROSS = re.compile(r"^(\s*)✖\s+(\S.*)$")
_DURATION = re.compile(r"[\d.]+m?s")  # inside the parentheses node's spec reporter appends
_MOCHA_FAILING = re.compile(r"^\s*(\d+) failing\s*$")
_MOCHA_ITEM = re.compile(r"^\s*(\d+)\) (\S.*)$")


def _untimed(name: str) -> str:
    """``name 12ms`` (vitest) and ``name (1.5ms)`` (node's spec reporter) without the duration
    the reporter appends, read from the end in one pass."""
    if name.endswith("ms"):
        head = name[:-2].rstrip("0123456789")
        if len(head) < len(name) - 2 and head[-1:].isspace():
            return head.rstrip()
    elif name.endswith("s)"):
        start = name.rfind("(")
        if start > 0 and name[start - 1].isspace() and _DURATION.fullmatch(name, start + 1, len(name) - 1):
            return name[:start].rstrip()
    return name


def vitest(lines: list[str], out: Collector) -> None:
    for i, line in enumerate(lines):
        match = _VITEST_FAIL.match(line)
        if match and ">" in match.group(1):
            file, _, name = match.group(1).partition(" > ")
            failure = out.add(Failure("test", name.replace(" > ", " › "), file=file.strip(), parser="vitest"))
            frames_and_code(lines, i + 1, lambda s: s.startswith("⎯") or bool(_VITEST_FAIL.match(s)), failure)
        elif match and match.group(1).strip().endswith("]"):  # FAIL  tests/x.test.ts [ tests/x.test.ts ]
            file = match.group(1).split(" [", 1)[0].strip()
            failure = out.add(Failure("error", f"{file} failed to run", file=file, parser="vitest"))
            frames_and_code(lines, i + 1, lambda s: s.startswith("⎯") or bool(_VITEST_FAIL.match(s)), failure)
    for i, line in enumerate(lines):
        match = _VITEST_CROSS.match(line)
        name = _untimed(match.group(1)) if match else None
        if name and " > " in name:
            failure = out.add(Failure("test", name.replace(" > ", " › "), parser="vitest"))
            following = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if following.startswith("→") and not failure.message:
                failure.add_message(following[1:])


def jest(lines: list[str], out: Collector) -> None:
    def stop(s: str) -> bool:
        return bool(_JEST_BULLET.match(s)) or s.startswith(("Test Suites:", "FAIL ", "PASS ", "Tests:"))

    for i, line in enumerate(lines):
        match = _JEST_BULLET.match(line)
        if not match:
            continue
        name = match.group(1)
        kind = "error" if name.startswith("Test suite failed to run") else "test"
        failure = out.add(Failure(kind, name, parser="jest"))
        frames_and_code(lines, i + 1, stop, failure)
        test_frame = next((f for f in failure.frames if not f.internal), None)
        failure.file = test_frame.path if test_frame else None


def _yaml_value(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text.replace("\\'", "'").replace("''", "'")


def tap(lines: list[str], out: Collector) -> None:
    for i, line in enumerate(lines):
        match = _TAP_NOT_OK.match(line)
        if not match:
            continue
        failure = Failure("test", match.group(2), parser="tap")
        block = _tap_block(lines, i + 1, failure)
        if block.get("failureType") == "subtestsFailed":
            continue
        error_name, message = block.get("name"), block.get("error", "")
        failure.add_message(f"{error_name}: {message}" if error_name and error_name not in message else message)
        if location := parse_location(block.get("location", "")):
            failure.file = location[0]
        if message == "test failed" and not failure.frames:
            failure.kind = "error"  # the file crashed before its tests ran: its stderr came as "# " lines
            _tap_diagnostics(lines, i, failure)
        out.add(failure)


def _tap_block(lines: list[str], start: int, failure: Failure) -> dict[str, str]:
    """The YAML diagnostic block (``---`` .. ``...``) after a ``not ok`` line; stack lines become frames."""
    block: dict[str, str] = {}
    if start >= len(lines) or lines[start].strip() != "---":
        return block
    key, key_indent = None, 0
    for j in range(start + 1, min(len(lines), start + 400)):
        raw = lines[j]
        text, indent = raw.strip(), len(raw) - len(raw.lstrip())
        if text == "..." or text.startswith(("not ok ", "ok ", "# Subtest")):
            break  # the block ended (or was cut off): never read into the next test's lines
        if key is not None and (indent > key_indent or not text):
            if key == "stack":
                failure.add_frame(parse_frame(text, bare=True))
            elif text and len(block[key]) < MESSAGE_CHARS:
                block[key] = f"{block[key]}\n{text}".strip()
            continue
        key = None
        head, _, value = text.partition(":")
        value = value.strip()
        if value in ("|-", "|", ">-", ">"):
            key, key_indent, block[head] = head, indent, ""
        else:
            block[head] = _yaml_value(value)
    return block


def _tap_diagnostics(lines: list[str], at: int, failure: Failure) -> None:
    for line in lines[max(0, at - 80):at]:
        if not line.startswith("#"):
            continue
        if frame := parse_frame(line):
            failure.add_frame(frame)
        elif ERROR_LINE.match(line) and not line.lstrip("# ").startswith("Subtest"):
            failure.add_message(line.lstrip("#"))


def node_spec(lines: list[str], out: Collector) -> None:
    for i, line in enumerate(lines):
        match = _SPEC_CROSS.match(line)
        if not match or match.group(2).startswith("failing tests"):
            continue
        name = _untimed(match.group(2))
        following = next((s for s in lines[i + 1:i + 3] if s.strip()), "")
        if not following.strip() or following.strip()[:1] in "✖✔ℹ▶﹣":
            continue  # a suite's summary line: its tests carry the errors
        failure = out.add(Failure("test", name, parser="node-spec"))
        indent = len(match.group(1))
        frames_and_code(lines, i + 1, lambda s, d=indent: bool(s.strip()) and len(s) - len(s.lstrip()) <= d, failure)
        test_frame = next((f for f in failure.frames if not f.internal), None)
        failure.file = failure.file or (test_frame.path if test_frame else None)


def mocha(lines: list[str], out: Collector) -> None:
    start = next((i for i, line in enumerate(lines) if _MOCHA_FAILING.match(line)), None)
    if start is None:
        return
    i = start + 1
    while i < len(lines):
        match = _MOCHA_ITEM.match(lines[i])
        if not match:
            i += 1
            continue
        parts, title = [match.group(2).strip()], match.group(2).strip()
        i += 1
        while not title.endswith(":") and i < len(lines) and lines[i].strip() and len(parts) < 10:
            title = lines[i].strip()
            parts.append(title)
            i += 1
        name = " › ".join(p.rstrip(":") for p in parts)
        failure = out.add(Failure("test", name, parser="mocha"))
        i = frames_and_code(lines, i, lambda s: bool(_MOCHA_ITEM.match(s)), failure)
        failure.message = "\n".join(m for m in failure.message.splitlines() if m not in ("+ expected - actual",))
        test_frame = next((f for f in reversed(failure.frames) if not f.internal), None)
        failure.file = test_frame.path if test_frame else None
