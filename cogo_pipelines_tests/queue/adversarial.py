"""Adversarial logs for log parsers: each about 100 KB, built to trip backtracking regexes
(long runs of digits and spaces, number lists with no summary word, near-miss summary lines,
unclosed ANSI escapes). ``assert_linear`` times a parser over all of them.

Reuse it for any parser of command output (``from cogo_pipelines_tests.queue.adversarial
import ADVERSARIAL, assert_linear``): a linear parser takes milliseconds on each; a regex with
a nested quantifier takes minutes on the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SIZE = 100_000


def _fill(piece: str, size: int = SIZE) -> str:
    return (piece * (size // max(1, len(piece)) + 1))[:size]


ADVERSARIAL: dict[str, str] = {
    # `seq -s ' ' 10000 30000`: the input that hung the old pytest pattern (30 s at 83 chars).
    "seq": " ".join(str(n) for n in range(10000, 30000))[:SIZE],
    "seq_lines": "\n".join(" ".join(str(n) for n in range(i, i + 40)) for i in range(0, 40000, 40))[:SIZE],
    "digits": "1" * SIZE,
    "spaces": " " * SIZE,
    "digits_spaces": _fill("1 "),
    "digit_words": _fill("1 a "),
    "digit_words_commas": _fill("1 passed, "),
    "pytest_near_miss": "=" * 10 + _fill("1 passed, ", SIZE - 40) + " in x",
    "pytest_no_in": _fill("= 1 failed, 2 passed "),
    "jest_near_miss": "Tests: " + _fill("1 failed, ", SIZE - 20) + " 8 totals",
    "jest_many": _fill("Tests:       1 failed, 2 skipped, 5 passed, 8 total\n"),
    "vitest_near_miss": " Tests  " + _fill("1 failed | ", SIZE - 20) + "(5",
    "vitest_pipes": "Tests " + _fill("| ") + "(1)",
    "node_hashes": _fill("# tests 6 # pass 5 "),
    "node_info": _fill("ℹ ") + "tests 1",
    "mocha_like": _fill("  5 passing"),
    "ansi_unclosed": _fill("\x1b[1;2;3;4;5;6;7;8;9;"),
    "ansi_runs": _fill("\x1b[" + "1" * 500),
    "equals": "=" * SIZE,
    "tabs_digits": _fill("\t9\t"),
    "huge_number": "Tests:       " + "9" * (SIZE - 40) + " passed, 1 total",
    "no_newline_mix": _fill("10000 10001\r"),
}


def assert_linear(parse: Callable[[str], object], budget_s: float = 1.0,
                  inputs: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``parse`` on every adversarial input; all together must finish within ``budget_s``.
    Returns the seconds per input (for a report)."""
    timings: dict[str, float] = {}
    total_started = time.perf_counter()
    for name, text in (inputs or ADVERSARIAL).items():
        started = time.perf_counter()
        parse(text)
        timings[name] = time.perf_counter() - started
        assert time.perf_counter() - total_started < budget_s, (
            f"{getattr(parse, '__name__', parse)} is not linear: {name!r} ({len(text)} chars) "
            f"took {timings[name]:.2f} s; {timings}")
    return timings
