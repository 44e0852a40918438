"""Reading a build log line by line: cleaning it, and the positions, stack frames and code frames
every tool's output shares.

Each tool-specific parser (``build_log_reporters``, ``build_log_checks``) works on the lines
``clean_lines`` gives: free of terminal escapes, each cut to ``LINE_CHARS``, only the last ``MAX_INPUT_CHARS``
of the input. The shared readers here use string operations and anchored patterns without nested
quantifiers, so hostile or huge logs cost linear time and bounded memory.
"""

from __future__ import annotations

import re

from cogo_pipelines.quality.build_failures import Failure, Frame
from cogo_pipelines.quality.terminal import strip_terminal

LINE_CHARS = 2000
MAX_INPUT_CHARS = 512 * 1024
MAX_CODE_LINES = 12

CODE_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".vue", ".svelte")
_CODE_FRAME = re.compile(r"^\s*(>?)\s*(\d+)\s?\|(.*)$")
ERROR_LINE = re.compile(r"^\s*(?:#\s*)?([A-Z]\w*(?:Error|Exception)(?: \[\w+\])?|Error|error|ERROR|FAIL|ERR!)\b[:\s]")


def clean_lines(text: str) -> tuple[list[str], bool]:
    """Lines without terminal escapes (``terminal.strip_terminal``: colours, OSC titles and
    links, control characters), each cut to LINE_CHARS; the input's last MAX_INPUT_CHARS only."""
    truncated = len(text) > MAX_INPUT_CHARS
    if truncated:
        text = text[-MAX_INPUT_CHARS:]
    text = strip_terminal(text.replace("\r\n", "\n").replace("\r", "\n"))
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



def frames_and_code(lines: list[str], start: int, stop, failure: Failure, *, bare: bool = False) -> int:
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
