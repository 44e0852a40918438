"""Read a build log: which tests or compile/lint checks failed, their messages and stack frames.

A runner keeps the tail of a command's output; this turns that text into failures someone can
act on. It knows the shapes people actually get — vitest, jest, node:test (TAP and spec), mocha
(``build_log_reporters``), tsc (plain and ``--pretty``), eslint (stylish) (``build_log_checks``)
— and falls back to any ``file:line:col`` and stack-frame lines. Every parser works line by line
on ``build_log_lines.clean_lines`` and fills a capped ``build_failures.Collector``, so hostile or
huge logs cost linear time and bounded memory. This module decides which parsers' findings make
the result.
"""

from __future__ import annotations

from cogo_pipelines.quality import build_log_checks as checks
from cogo_pipelines.quality import build_log_reporters as reporters
from cogo_pipelines.quality.build_failures import BuildLog, Collector
from cogo_pipelines.quality.build_log_lines import clean_lines

PARSERS = (("vitest", reporters.vitest), ("jest", reporters.jest), ("tap", reporters.tap),
           ("node-spec", reporters.node_spec), ("mocha", reporters.mocha),
           ("tsc", checks.tsc), ("eslint", checks.eslint))


def parse_build_log(text: str | None) -> BuildLog:
    """Failures found in ``text`` by every parser that recognises something; the generic reader
    only when none did (so a structured report is not drowned in its own repeated lines)."""
    lines, truncated = clean_lines(text or "")
    out = Collector()
    used = []
    for name, parser in PARSERS:
        before = len(out.failures)
        parser(lines, out)
        if len(out.failures) > before:
            used.append(name)
    if not out.failures:
        checks.generic(lines, out)
        if out.failures:
            used.append("generic")
    return BuildLog(failures=out.failures, parsers=used, truncated=truncated)
