"""Test-summary lines of the runners cogo's packages use, as they print them."""

import pytest

from cogo_pipelines.queue.handlers.summaries import parse_test_summary

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
