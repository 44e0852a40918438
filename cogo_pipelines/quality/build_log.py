"""Read a build log: which tests or compile/lint checks failed, their messages and stack frames.

A runner keeps the tail of a command's output; this turns that text into failures someone can
act on. It knows the shapes people actually get — vitest, jest, node:test (TAP and spec), mocha,
tsc (plain and ``--pretty``), eslint (stylish) — and falls back to any ``file:line:col`` and
stack-frame lines. It works line by line with string operations and anchored patterns without
nested quantifiers, every line cut to ``LINE_CHARS`` and every list capped, so hostile or
huge logs cost linear time and bounded memory.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field

LINE_CHARS = 2000
MAX_INPUT_CHARS = 512 * 1024
MAX_FAILURES = 40
MAX_FRAMES = 12
MAX_CODE_LINES = 12
MESSAGE_CHARS = 600
NAME_CHARS = 300

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CODE_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".vue", ".svelte")
# tsc: "src/x.ts(41,9): error TS2322: ..." and, with --pretty, "src/x.ts:41:9 - error TS2322: ..."
_TSC_PLAIN = re.compile(r"^([^\s(][^(]*)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$")
_TSC_PRETTY = re.compile(r"^(\S+):(\d+):(\d+) - (error|warning) (TS\d+): (.*)$")
_VITEST_FAIL = re.compile(r"^\s*FAIL\s+(\S.*)$")
_VITEST_CROSS = re.compile(r"^\s*[×✗]\s+(\S.*?)(?:\s+\d+ms)?$")
_JEST_BULLET = re.compile(r"^\s*●\s+(\S.*)$")
_TAP_NOT_OK = re.compile(r"^(\s*)not ok \d+ - (.*)$")
_SPEC_CROSS = re.compile(r"^(\s*)✖\s+(\S.*?)(?:\s+\([\d.]+m?s\))?$")
_MOCHA_FAILING = re.compile(r"^\s*(\d+) failing\s*$")
_MOCHA_ITEM = re.compile(r"^\s*(\d+)\) (\S.*)$")
_CODE_FRAME = re.compile(r"^\s*(>?)\s*(\d+)\s?\|(.*)$")
_ESLINT_ROW = re.compile(r"^\s+(\d+):(\d+)\s+(error|warning)\s+(\S.*)$")
_ERROR_LINE = re.compile(r"^\s*(?:#\s*)?([A-Z]\w*(?:Error|Exception)(?: \[\w+\])?|Error|error|ERROR|FAIL|ERR!)\b[:\s]")


@dataclass
class Frame:
    path: str
    line: int
    column: int | None = None
    function: str | None = None

    @property
    def internal(self) -> bool:
        """Runtime or dependency frames: never the code under test."""
        return (self.path.startswith(("node:", "internal/")) or "/node_modules/" in f"/{self.path}"
                or "<anonymous>" in self.path)


@dataclass
class Failure:
    kind: str  # test | compile | lint | error
    name: str
    message: str = ""
    file: str | None = None
    frames: list[Frame] = field(default_factory=list)
    code_lines: list[str] = field(default_factory=list)  # the failing source line first, then context
    parser: str = "generic"

    def add_frame(self, frame: Frame | None) -> None:
        if frame and len(self.frames) < MAX_FRAMES and frame not in self.frames:
            self.frames.append(frame)

    def add_message(self, text: str) -> None:
        text = text.strip()
        if text and len(self.message) < MESSAGE_CHARS:
            self.message = (f"{self.message}\n{text}" if self.message else text)[:MESSAGE_CHARS]


@dataclass
class BuildLog:
    failures: list[Failure]
    parsers: list[str]
    truncated: bool = False

    @property
    def failing_names(self) -> list[str]:
        return [f.name for f in self.failures]

    def signature(self, target: str | None = None) -> str:
        """Stable across reruns of the same breakage: what failed, not when or with which numbers."""
        keys = sorted({f"{f.kind}:{f.file or ''}:{f.name}" for f in self.failures})
        digest = hashlib.sha256("\n".join([target or "", *keys]).encode("utf-8")).hexdigest()
        return digest[:16]

    def as_dict(self) -> dict:
        return {"parsers": self.parsers, "truncated": self.truncated,
                "failures": [asdict(f) for f in self.failures]}


def clean_lines(text: str) -> tuple[list[str], bool]:
    """ANSI-free lines, each cut to LINE_CHARS; the input's last MAX_INPUT_CHARS only."""
    truncated = len(text) > MAX_INPUT_CHARS
    if truncated:
        text = text[-MAX_INPUT_CHARS:]
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [line[:LINE_CHARS] for line in text.split("\n")], truncated


def parse_location(token: str) -> tuple[str, int, int | None] | None:
    """``path:line[:col]`` (or a ``file://`` URL) -> (path, line, col); None when it is not one."""
    token = token.strip().strip("()[]'\",;")
    token = token.removeprefix("file://")
    head, sep, last = token.rpartition(":")
    if not sep or not last.isdigit():
        return None
    path, sep, middle = head.rpartition(":")
    if sep and middle.isdigit():
        line, col = int(middle), int(last)
    else:
        path, line, col = head, int(last), None
    if not path or len(path) > 500 or " " in path:
        return None
    return path, line, col


def parse_frame(line: str, *, bare: bool = False) -> Frame | None:
    """A V8 ``at fn (path:l:c)`` / ``at path:l:c`` frame, vitest's ``❯ fn path:l:c``, or (``bare``,
    TAP stack blocks) ``fn (path:l:c)`` without the ``at``."""
    text = line.strip().lstrip("#").strip()
    if text.startswith("at "):
        text = text[3:].strip()
    elif text.startswith("❯ "):
        text = text[2:].strip()
        function, _, loc = text.rpartition(" ")
        found = parse_location(loc)
        return Frame(found[0], found[1], found[2], function or None) if found else None
    elif not bare:
        return None
    text = text.removeprefix("async ")
    function = None
    if text.endswith(")") and " (" in text:
        function, _, loc = text[:-1].rpartition(" (")
    else:
        loc = text
    found = parse_location(loc)
    if not found:
        return None
    return Frame(found[0], found[1], found[2], function or None)


def _code_line(line: str) -> tuple[bool, int, str] | None:
    match = _CODE_FRAME.match(line)
    if not match:
        return None
    return match.group(1) == ">", int(match.group(2)), match.group(3)


class _Collector:
    def __init__(self) -> None:
        self.failures: list[Failure] = []
        self._seen: dict[tuple[str, str], Failure] = {}

    def add(self, failure: Failure) -> Failure:
        """Deduplicated by (kind, name): summaries repeat failures (vitest's × list, spec's recap)."""
        failure.name = failure.name.strip()[:NAME_CHARS]
        key = (failure.kind, failure.name)
        if key in self._seen:
            return self._seen[key]
        if len(self.failures) < MAX_FAILURES:
            self.failures.append(failure)
        self._seen[key] = failure
        return failure


def _frames_and_code(lines: list[str], start: int, stop, failure: Failure, *, bare: bool = False) -> int:
    """Read the block after a failure header: message, code frame, frames; returns the next index."""
    code: list[tuple[bool, int, str]] = []
    i = start
    while i < len(lines) and not stop(lines[i]):
        line = lines[i]
        frame = parse_frame(line, bare=bare)
        if frame:
            failure.add_frame(frame)
        elif (row := _code_line(line)) is not None:
            code.append(row)
        elif not failure.frames and not code and line.strip():
            failure.add_message(line)
        i += 1
    if code:
        marked = [n for n, (is_marked, _, _) in enumerate(code) if is_marked]
        at = marked[0] if marked else next(
            (n for n, (_, number, _) in enumerate(code) if failure.frames and number == failure.frames[0].line), 0)
        ordered = [code[at], *reversed(code[:at]), *code[at + 1:]]
        failure.code_lines = [text.strip() for _, _, text in ordered if text.strip()][:MAX_CODE_LINES]
    return i


def _vitest(lines: list[str], out: _Collector) -> None:
    for i, line in enumerate(lines):
        match = _VITEST_FAIL.match(line)
        if match and ">" in match.group(1):
            file, _, name = match.group(1).partition(" > ")
            failure = out.add(Failure("test", name.replace(" > ", " › "), file=file.strip(), parser="vitest"))
            _frames_and_code(lines, i + 1, lambda s: s.startswith("⎯") or bool(_VITEST_FAIL.match(s)), failure)
        elif match and match.group(1).strip().endswith("]"):  # FAIL  tests/x.test.ts [ tests/x.test.ts ]
            file = match.group(1).split(" [", 1)[0].strip()
            failure = out.add(Failure("error", f"{file} failed to run", file=file, parser="vitest"))
            _frames_and_code(lines, i + 1, lambda s: s.startswith("⎯") or bool(_VITEST_FAIL.match(s)), failure)
    for i, line in enumerate(lines):
        match = _VITEST_CROSS.match(line)
        if match and " > " in match.group(1):
            failure = out.add(Failure("test", match.group(1).replace(" > ", " › "), parser="vitest"))
            following = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if following.startswith("→") and not failure.message:
                failure.add_message(following[1:])


def _jest(lines: list[str], out: _Collector) -> None:
    def stop(s: str) -> bool:
        return bool(_JEST_BULLET.match(s)) or s.startswith(("Test Suites:", "FAIL ", "PASS ", "Tests:"))

    for i, line in enumerate(lines):
        match = _JEST_BULLET.match(line)
        if not match:
            continue
        name = match.group(1)
        kind = "error" if name.startswith("Test suite failed to run") else "test"
        failure = out.add(Failure(kind, name, parser="jest"))
        _frames_and_code(lines, i + 1, stop, failure)
        test_frame = next((f for f in failure.frames if not f.internal), None)
        failure.file = test_frame.path if test_frame else None


def _yaml_value(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text.replace("\\'", "'").replace("''", "'")


def _tap(lines: list[str], out: _Collector) -> None:
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
        elif _ERROR_LINE.match(line) and not line.lstrip("# ").startswith("Subtest"):
            failure.add_message(line.lstrip("#"))


def _spec(lines: list[str], out: _Collector) -> None:
    for i, line in enumerate(lines):
        match = _SPEC_CROSS.match(line)
        if not match or match.group(2).startswith("failing tests"):
            continue
        following = next((s for s in lines[i + 1:i + 3] if s.strip()), "")
        if not following.strip() or following.strip()[:1] in "✖✔ℹ▶﹣":
            continue  # a suite's summary line: its tests carry the errors
        failure = out.add(Failure("test", match.group(2), parser="node-spec"))
        indent = len(match.group(1))
        _frames_and_code(lines, i + 1, lambda s, d=indent: bool(s.strip()) and len(s) - len(s.lstrip()) <= d, failure)
        test_frame = next((f for f in failure.frames if not f.internal), None)
        failure.file = failure.file or (test_frame.path if test_frame else None)


def _mocha(lines: list[str], out: _Collector) -> None:
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
        i = _frames_and_code(lines, i, lambda s: bool(_MOCHA_ITEM.match(s)), failure)
        failure.message = "\n".join(m for m in failure.message.splitlines() if m not in ("+ expected - actual",))
        test_frame = next((f for f in reversed(failure.frames) if not f.internal), None)
        failure.file = test_frame.path if test_frame else None


def _tsc(lines: list[str], out: _Collector) -> None:
    for i, line in enumerate(lines):
        match = _TSC_PLAIN.match(line) or _TSC_PRETTY.match(line)
        if not match or match.group(4) != "error":
            continue
        path, row, col, _, code, message = match.groups()
        failure = Failure("compile", f"{code} {path}({row},{col})", file=path, parser="tsc")
        failure.add_message(f"{code}: {message}")
        failure.add_frame(Frame(path, int(row), int(col)))
        for extra in lines[i + 1:i + 4]:
            if extra.startswith("  ") and not (_TSC_PLAIN.match(extra) or _TSC_PRETTY.match(extra)):
                failure.add_message(extra)
            else:
                break
        out.add(failure)


def _eslint(lines: list[str], out: _Collector) -> None:
    current = None
    for line in lines:
        stripped = line.strip()
        if line and not line[0].isspace() and stripped.endswith(_CODE_EXTENSIONS) and " " not in stripped:
            current = stripped
            continue
        match = _ESLINT_ROW.match(line) if current else None
        if not match or match.group(3) != "error":
            continue
        parts = re.split(r"\s{2,}", match.group(4).strip())
        rule = parts[-1] if len(parts) > 1 else "eslint"
        message = " ".join(parts[:-1]) if len(parts) > 1 else parts[0]
        failure = Failure("lint", f"{rule} {current}:{match.group(1)}:{match.group(2)}", file=current,
                          parser="eslint")
        failure.add_message(f"{rule}: {message}")
        failure.add_frame(Frame(current, int(match.group(1)), int(match.group(2))))
        out.add(failure)


def _generic(lines: list[str], out: _Collector) -> None:
    """Error lines and the frames or ``file:line:col`` positions after them, when nothing else matched."""
    current: Failure | None = None
    for line in lines:
        frame = parse_frame(line)
        if frame and current is not None:
            current.add_frame(frame)
            continue
        match = _ERROR_LINE.match(line)
        if match:
            text = line.strip().lstrip("#").strip()
            current = out.add(Failure("error", text[:NAME_CHARS], parser="generic"))
            current.add_message(text)
            for token in text.replace("(", " ").replace(")", " ").split():
                if (found := parse_location(token)) and found[0].endswith(_CODE_EXTENSIONS):
                    current.add_frame(Frame(*found))
            continue
        if current is not None and not frame:
            for token in line.replace("(", " ").replace(")", " ").split()[:50]:
                if (found := parse_location(token)) and found[0].endswith(_CODE_EXTENSIONS):
                    current.add_frame(Frame(*found))
        if len(out.failures) >= MAX_FAILURES:
            return


PARSERS = (("vitest", _vitest), ("jest", _jest), ("tap", _tap), ("node-spec", _spec), ("mocha", _mocha),
           ("tsc", _tsc), ("eslint", _eslint))


def parse_build_log(text: str | None) -> BuildLog:
    """Failures found in ``text`` by every parser that recognises something; the generic reader
    only when none did (so a structured report is not drowned in its own repeated lines)."""
    lines, truncated = clean_lines(text or "")
    out = _Collector()
    used = []
    for name, parser in PARSERS:
        before = len(out.failures)
        parser(lines, out)
        if len(out.failures) > before:
            used.append(name)
    if not out.failures:
        _generic(lines, out)
        if out.failures:
            used.append("generic")
    return BuildLog(failures=out.failures, parsers=used, truncated=truncated)
