"""Failures in what compile and lint checks print (tsc, plain and ``--pretty``; eslint's stylish
format), and the generic fallback for a log no known tool wrote: error lines and the frames or
``file:line:col`` positions after them.

Unlike the test runners' reports (``build_log_reporters``), these tools print one error per row
with its position (eslint's rows under their file's name), so a failure is one row, plus tsc's
indented continuation lines.
"""

from __future__ import annotations

import re

from cogo_pipelines.quality.build_failures import MAX_FAILURES, NAME_CHARS, Collector, Failure, Frame
from cogo_pipelines.quality.build_log_lines import CODE_EXTENSIONS, ERROR_LINE, parse_frame, parse_location

# tsc: "src/x.ts(41,9): error TS2322: ..." and, with --pretty, "src/x.ts:41:9 - error TS2322: ..."
_TSC_PLAIN = re.compile(r"^([^\s(][^(]*)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$")
_TSC_PRETTY = re.compile(r"^(\S+):(\d+):(\d+) - (error|warning) (TS\d+): (.*)$")
_ESLINT_ROW = re.compile(r"^\s+(\d+):(\d+)\s+(error|warning)\s+(\S.*)$")


def tsc(lines: list[str], out: Collector) -> None:
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


def eslint(lines: list[str], out: Collector) -> None:
    current = None
    for line in lines:
        stripped = line.strip()
        if line and not line[0].isspace() and stripped.endswith(CODE_EXTENSIONS) and " " not in stripped:
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


def generic(lines: list[str], out: Collector) -> None:
    """Error lines and the frames or ``file:line:col`` positions after them, when nothing else matched."""
    current: Failure | None = None
    for line in lines:
        frame = parse_frame(line)
        if frame and current is not None:
            current.add_frame(frame)
            continue
        match = ERROR_LINE.match(line)
        if match:
            text = line.strip().lstrip("#").strip()
            current = out.add(Failure("error", text[:NAME_CHARS], parser="generic"))
            current.add_message(text)
            for token in text.replace("(", " ").replace(")", " ").split():
                if (found := parse_location(token)) and found[0].endswith(CODE_EXTENSIONS):
                    current.add_frame(Frame(*found))
            continue
        if current is not None and not frame:
            for token in line.replace("(", " ").replace(")", " ").split()[:50]:
                if (found := parse_location(token)) and found[0].endswith(CODE_EXTENSIONS):
                    current.add_frame(Frame(*found))
        if len(out.failures) >= MAX_FAILURES:
            return
