"""The build-log reader on what real runners printed (fixtures recorded by running vitest, jest,
node --test, mocha, tsc and eslint), and on hostile input: bounded, linear, never raising."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cogo_pipelines.quality.build_failures import MAX_FAILURES, MAX_FRAMES
from cogo_pipelines.quality.build_log import parse_build_log
from cogo_pipelines.quality.build_log_lines import parse_frame, parse_location

FIXTURES = Path(__file__).parent / "fixtures" / "build_logs"
CASES = Path(__file__).resolve().parents[2] / "bench" / "gate_fix_cases"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _by_name(log):
    return {f.name: f for f in log.failures}


def test_vitest_failed_tests_with_code_frame_and_frames():
    log = parse_build_log(_read("vitest_throw.log"))
    assert log.parsers == ["vitest"]
    failures = _by_name(log)
    assert set(failures) == {"router › a single star matches one segment only", "router › routes embeddings to the gpu"}
    gpu = failures["router › routes embeddings to the gpu"]
    assert gpu.file == "tests/quality.vitest.test.ts"
    assert gpu.message.startswith("SyntaxError: Invalid regular expression")
    assert [(f.path, f.line, f.function) for f in gpu.frames] == [
        ("src/core/router.ts", 39, "globToRegExp"), ("src/core/router.ts", 43, "matchesTaskType"),
        ("src/core/router.ts", 50, "Module.selectExecutor"), ("tests/quality.vitest.test.ts", 24, None)]
    assert gpu.code_lines[0] == "return new RegExp('^(' + out + '$');"


def test_vitest_assertion_keeps_the_failing_line():
    log = parse_build_log((CASES / "01-vitest-lint-decay.log").read_text())
    (failure,) = log.failures
    assert failure.name == "lintComponent › decays to about 0.37 at ten lint errors"
    assert "expected 0.9048374180359595 to be close to 0.368" in failure.message
    assert failure.code_lines[0] == "expect(lintComponent(10)).toBeCloseTo(0.368, 2);"


def test_jest_bullet_message_and_marked_line():
    (failure,) = parse_build_log(_read("jest.log")).failures
    assert failure.parser == "jest" and failure.name == "retry › gives up after maxAttempts"
    assert failure.message.splitlines() == ["expect(received).toBe(expected) // Object.is equality",
                                            "Expected: 3", "Received: 2"]
    assert failure.file == "tests/lease.jest.test.ts" and failure.frames[0].line == 27
    assert failure.code_lines[0] == "expect(calls).toBe(3);" and "withRetry" in " ".join(failure.code_lines)


def test_reporters_take_the_duration_off_a_test_name():
    from cogo_pipelines.quality.build_log_reporters import _untimed

    assert _untimed("a > b 12ms") == _untimed("a > b  12ms") == "a > b"
    assert _untimed("a (1.5ms)") == _untimed("a  (2s)") == "a"
    assert _untimed("a > b12ms") == "a > b12ms" and _untimed("a (x ms)") == "a (x ms)" and _untimed("t") == "t"


def test_node_test_tap_and_spec_reporters():
    tap = _by_name(parse_build_log(_read("node_tap.log")))
    assert set(tap) == {"mean of three numbers", "parses a ratio without a slash"}  # not the 'math' suite
    assert tap["mean of three numbers"].message.startswith("AssertionError: Expected values to be strictly equal")
    ratio = tap["parses a ratio without a slash"]
    assert (ratio.frames[0].path, ratio.frames[0].line, ratio.frames[0].function) == (
        "/tmp/i21-ws/misc/src/math.js", 8, "parseRatio")
    spec = parse_build_log(_read("node_spec.log"))
    assert spec.parsers == ["node-spec"]
    assert set(_by_name(spec)) == set(tap)
    assert _by_name(spec)["parses a ratio without a slash"].frames[0].function == "parseRatio"


def test_node_test_file_that_crashes_before_its_tests():
    text = ("TAP version 13\n# /w/src/core/planner.ts:16\n#   [GateSeverity.Blocker]: 'build.typecheck',\n"
            "# TypeError: Cannot read properties of undefined (reading 'Blocker')\n"
            "#     at <anonymous> (/w/src/core/planner.ts:16:17)\n#     at ModuleJob.run (node:internal/modules/esm/module_job:325:25)\n"
            "# Subtest: /w/tests/gate.node.test.ts\nnot ok 1 - /w/tests/gate.node.test.ts\n  ---\n"
            "  duration_ms: 228.78\n  location: '/w/tests/gate.node.test.ts:1:1'\n  failureType: 'testCodeFailure'\n"
            "  exitCode: 1\n  error: 'test failed'\n  code: 'ERR_TEST_FAILURE'\n  ...\n1..1\n# fail 1\n")
    (failure,) = parse_build_log(text).failures
    assert failure.kind == "error" and "Cannot read properties of undefined" in failure.message
    assert failure.frames[0].path == "/w/src/core/planner.ts" and failure.frames[0].line == 16


def test_mocha_numbered_failures():
    failures = _by_name(parse_build_log(_read("mocha.log")))
    assert set(failures) == {"math › mean of three numbers", "math › parses a ratio without a slash"}
    assert failures["math › mean of three numbers"].message.startswith("AssertionError [ERR_ASSERTION]")
    assert failures["math › parses a ratio without a slash"].frames[0].function == "parseRatio"


def test_tsc_plain_and_pretty():
    plain = parse_build_log(_read("tsc_plain.log")).failures
    assert [f.name for f in plain] == ["TS2322 src/core/planner.ts(38,3)", "TS2322 src/core/planner.ts(41,13)",
                                       "TS2345 src/core/planner.ts(42,47)"]
    assert plain[0].kind == "compile" and "Types of property 'type' are incompatible" in plain[0].message
    (pretty,) = parse_build_log(_read("tsc_pretty.log")).failures
    assert (pretty.file, pretty.frames[0].line, pretty.frames[0].column) == ("src/core/quality.ts", 49, 19)
    assert pretty.message == "TS2322: Type 'number' is not assignable to type 'boolean'."


def test_eslint_errors_not_warnings():
    failures = parse_build_log(_read("eslint_stylish.log")).failures
    assert [f.name.split()[0] for f in failures] == ["no-unused-vars", "no-undef"]
    assert failures[1].frames[0].line == 3 and failures[1].message == "no-undef: 'missing' is not defined"


def test_generic_fallback_reads_error_lines_and_positions():
    text = ("building...\nsrc/app.ts:12:5: error: cannot find name 'foo'\n"
            "Error: boom\n    at handler (/srv/app/src/server.ts:40:11)\n    at node:internal/process:1:1\n")
    log = parse_build_log(text)
    assert log.parsers == ["generic"]
    boom = next(f for f in log.failures if f.name.startswith("Error: boom"))
    assert (boom.frames[0].path, boom.frames[0].line, boom.frames[0].function) == ("/srv/app/src/server.ts", 40, "handler")
    assert boom.frames[1].internal


def test_positions_and_frames():
    assert parse_location("file:///a/b.ts:3:4") == ("/a/b.ts", 3, 4)
    assert parse_location("src/x.ts:33") == ("src/x.ts", 33, None)
    assert parse_location("no position") is None
    assert parse_frame("    at async run (C:\\\\w\\\\x.ts:1:2)").function == "run"
    assert parse_frame("at /x/y.js:5:6").path == "/x/y.js"


def test_signature_names_what_failed_not_the_numbers():
    one = parse_build_log(_read("jest.log"))
    two = parse_build_log(_read("jest.log").replace("Received: 2", "Received: 1").replace("9 ms", "12 ms"))
    assert one.signature("t") == two.signature("t") != one.signature("other-target")


ADVERSARIAL = {
    "one huge line": "a:1:" * 25_000,
    "colons": ":" * 100_000,
    "frames without end": "    at " + "(" * 100_000,
    "many bullets": "  ● x\n" * 16_000,
    "many vitest fails": " FAIL  t.ts > a > b\n ❯ src/x.ts:1:1\n" * 3_000,
    "tap blocks": "not ok 1 - t\n  ---\n  stack: |-\n" + "    f (/x.ts:1:1)\n" * 6_000,
    "nested parens": "Error: " + "(" * 50_000 + ")" * 50_000,
    "tsc lookalike": "src/x.ts(" + "1," * 50_000 + "): error TS1: x\n",
    "eslint rows": "/x/a.js\n" + "  1:1  error  " + " " * 90_000 + "x\n",
    "mocha": "  1 failing\n" + "  1) a\n" * 14_000,
    "tap blocks never closed": "not ok 1 - t\n  ---\n  error: 'test failed'\n" * 2_500,
    "spec crosses": "✖ a (1ms)\n  x\n" * 8_000,
    "ansi": "\x1b[" + "1;" * 50_000 + "m",
    # a test's name before an optional duration was matched lazily: each blank of a long run was
    # retried as the start of ` 12ms` (480 kB of such lines: 8 s)
    "vitest crosses over blank runs": ("× a > b" + " " * 1_990 + "\n") * 240,
    "spec crosses over blank runs": ("✖ a" + " " * 1_990 + "\n  x\n") * 240,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_100kb_inputs_are_fast_and_bounded(name):
    text = ADVERSARIAL[name]
    assert len(text) >= 90_000
    started = time.perf_counter()
    log = parse_build_log(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
    assert len(log.failures) <= MAX_FAILURES and all(len(f.frames) <= MAX_FRAMES for f in log.failures)


def test_random_mix_of_real_lines_is_fast():
    lines = [line for path in sorted(FIXTURES.glob("*.log")) for line in path.read_text().splitlines()]
    rng = random.Random(21)
    text = "\n".join(rng.choice(lines) for _ in range(4_000))[:100_000]
    started = time.perf_counter()
    parse_build_log(text * 5)
    assert time.perf_counter() - started < 1.0


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("at ()❯●×✖:/.\\|>-#'\"\n 0123456789abcTSerorFAILnotk")), max_size=3000))
def test_never_raises_on_arbitrary_text(text):
    log = parse_build_log(text)
    assert len(log.failures) <= MAX_FAILURES
    log.signature(None)
    log.as_dict()
