"""Test-summary lines of the runners cogo's packages use, as they print them."""

import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cogo_pipelines.queue.handlers.summaries import parse_test_summary

from .adversarial import ADVERSARIAL, assert_linear

CASES = [
    ("jest", "PASS src/a.test.ts\nTests:       1 failed, 2 skipped, 5 passed, 8 total\nTime: 1.2 s\n",
     {"passed": 5, "failed": 1, "skipped": 2, "total": 8}),
    ("vitest", " \x1b[32m✓\x1b[39m a.test.ts (3)\n Test Files  1 passed (1)\n      Tests  1 failed | 4 passed (5)\n",
     {"passed": 4, "failed": 1, "skipped": 0, "total": 5}),
    ("node", "TAP version 13\nok 1 - a\n1..6\n# tests 6\n# suites 0\n# pass 5\n# fail 1\n# cancelled 0\n# skipped 0\n",
     {"passed": 5, "failed": 1, "skipped": 0, "total": 6}),
    ("mocha", "  12 passing (30ms)\n  1 pending\n  2 failing\n",
     {"passed": 12, "failed": 2, "skipped": 1, "total": 15}),
    ("pytest", "....F\n=========== 1 failed, 4 passed, 1 skipped in 0.12s ===========\n",
     {"passed": 4, "failed": 1, "skipped": 1, "total": 6}),
]


@pytest.mark.parametrize("framework, log, counts", CASES, ids=[c[0] for c in CASES])
def test_summary_lines(framework, log, counts):
    assert parse_test_summary(log) == {"framework": framework, **counts}


def test_last_summary_wins_and_none_when_absent():
    log = "Tests:       3 passed, 3 total\n...rerun...\nTests:       1 failed, 2 passed, 3 total\n"
    assert parse_test_summary(log)["failed"] == 1
    assert parse_test_summary("compiled ok\n") is None


# --- hostile logs: linear time ----------------------------------------------------------------


def test_adversarial_100kb_logs_parse_in_well_under_a_second():
    # The old pytest pattern took 27.8 s on the first 83 characters of "seq"; this is all of them.
    timings = assert_linear(parse_test_summary, budget_s=1.0)
    assert len(timings) == len(ADVERSARIAL)


def test_the_seq_output_that_hung_a_runner(tmp_path):
    text = subprocess.run(["seq", "-s", " ", "10000", "30000"], capture_output=True, text=True, check=True).stdout
    started = time.perf_counter()
    assert parse_test_summary(text) is None
    assert time.perf_counter() - started < 0.5


def test_a_huge_count_is_not_a_count_and_does_not_raise():
    assert parse_test_summary("Tests:       " + "9" * 5000 + " passed, 1 total") is None  # too long a line
    assert parse_test_summary("Tests:       " + "9" * 1000 + " passed, 1 total") == {
        "framework": "jest", "passed": 0, "failed": 0, "skipped": 0, "total": 1}


# Pieces of real summary lines and their near misses; hypothesis glues them into ~100 KB logs.
_PIECES = ["1", "23", "10000", " ", "  ", "\t", ",", ", ", "|", " | ", "(", ")", "(5)", "=", "====", "\n", "\r",
           "Tests:", "Tests", "total", "passed", "failed", "skipped", "in", " in ", "0.12s", "s", "#", "ℹ",
           "tests", "pass", "fail", "passing", "failing", "pending", "\x1b[", "\x1b[32m", ";", "m", "x", "é"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=60))
def test_any_log_of_summary_fragments_parses_in_linear_time(pieces):
    unit = "".join(pieces)
    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    started = time.perf_counter()
    result = parse_test_summary(text)
    assert time.perf_counter() - started < 0.5, (unit, time.perf_counter() - started)
    assert result is None or {"framework", "passed", "failed", "skipped", "total"} == set(result)


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_any_text_parses_without_raising(text):
    parse_test_summary(text)
