"""Every bad argument of every ``cogo`` command: one line naming it, exit 2, no traceback
(issue 18, item 9). Before, most of these printed a traceback and exited 1, which CI reads as
"gate failed"; ``--priority 99999999999999999999`` reached Postgres, ``--lease-seconds nan`` was
reported as a lost database connection and ``--port 99999`` served on port 34463.

The store is an unreachable ``DATABASE_URL``: a check that ran only after connecting would
answer "cannot connect" instead, so these also show that bad arguments are refused first.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cogo_pipelines.queue import validation

from .conftest import REPO_ROOT, SAMPLE_REPO

COGO = [sys.executable, "-m", "cogo_pipelines.cli"]
NOWHERE = "postgresql://cogo@127.0.0.1:1/nowhere"


def _nested(depth: int) -> str:
    return "{\"a\": " + "[" * depth + "]" * depth + "}"


CASES = [
    # --payload: not JSON, not text the store can keep, too deep
    (["jobs", "enqueue", "noop", "--payload", '{"a": NaN}'], "--payload", "NaN"),
    (["jobs", "enqueue", "noop", "--payload", '{"a": Infinity}'], "--payload", "Infinity"),
    (["jobs", "enqueue", "noop", "--payload", '{"a": -Infinity}'], "--payload", "Infinity"),
    (["jobs", "enqueue", "noop", "--payload", '{"a": "\\u0000"}'], "--payload", "NUL"),
    (["jobs", "enqueue", "noop", "--payload", '{"a": "\\ud800"}'], "--payload", "surrogate"),
    (["jobs", "enqueue", "noop", "--payload", _nested(1100)], "--payload", "nested"),
    (["jobs", "enqueue", "noop", "--payload", _nested(validation.MAX_PAYLOAD_DEPTH)], "--payload", "nested"),
    (["jobs", "enqueue", "noop", "--payload", "[1]"], "--payload", "JSON object"),
    # integers past their range (the columns are int32)
    (["jobs", "enqueue", "noop", "--priority", "99999999999999999999"], "--priority", "0 to 1000"),
    (["jobs", "enqueue", "noop", "--priority", "-1"], "--priority", "0 to 1000"),
    (["jobs", "enqueue", "noop", "--priority", "high"], "--priority", "integer"),
    (["jobs", "enqueue", "noop", "--max-attempts", "2147483648"], "--max-attempts", "1 to 100"),
    (["jobs", "enqueue", "noop", "--max-attempts", "0"], "--max-attempts", "1 to 100"),
    (["jobs", "list", "--limit", "99999999999999999999"], "--limit", "2147483647"),
    (["jobs", "list", "--limit", "0"], "--limit", "from 1"),
    # names: the REST API's rule (no control characters, no spaces)
    (["jobs", "enqueue", "no\x01op"], "'type'", "'no\\x01op'"),
    (["jobs", "enqueue", "no\x1b[31mop"], "'type'", "'no\\x1b[31mop'"),
    (["jobs", "enqueue", "noop", "--dedupe-key", "a b"], "--dedupe-key", "'a b'"),
    (["jobs", "enqueue", "noop", "--executor-id", "cogo\twork"], "--executor-id", "'cogo\\twork'"),
    (["jobs", "list", "--type", "a\nb"], "--type", "'a\\nb'"),
    (["runner", "--executor-id", "cogo-work", "--include-types", "code.*,a b"], "--include-types", "'a b'"),
    # the gate's window
    (["gate", "q1", "--window-days", "99999999"], "--window-days", "36500"),
    (["gate", "q1", "--window-days", "nan"], "--window-days", "nan"),
    (["gate", "q1", "--window-days", "0"], "--window-days", "above 0"),
    (["gate", "q1", "--job-type", "a\x01"], "--job-type", "'a\\x01'"),
    # the runner's timing
    (["runner", "--executor-id", "cogo-work", "--lease-seconds", "nan"], "--lease-seconds", "nan"),
    (["runner", "--executor-id", "cogo-work", "--lease-seconds", "inf"], "--lease-seconds", "inf"),
    (["runner", "--executor-id", "cogo-work", "--lease-seconds", "0"], "--lease-seconds", "from 1"),
    (["runner", "--executor-id", "cogo-work", "--poll-seconds", "-inf"], "--poll-seconds", "inf"),
    (["runner", "--executor-id", "cogo-work", "--batch", "99999999999999999999"], "--batch", "1 to 1000"),
    (["runner", "--executor-id", "cogo-work", "--batch", "0"], "--batch", "1 to 1000"),
    # the other commands
    (["search", "lease", "--k", "0"], "--k", "greater than or equal to 1"),
    (["search", "lease", "--k", "99999999999999999999"], "--k", "less than or equal to 200"),
    (["graph", str(SAMPLE_REPO), "--format", "xml"], "--format", "'xml'"),
    (["graph", "/nonexistent/repo"], "'repo'", "does not exist"),
    (["index", "/nonexistent/repo"], "'repo'", "does not exist"),
    (["index", str(SAMPLE_REPO / "package.json")], "'repo'", "is a file"),
    (["serve", "--port", "99999"], "--port", "0 to 65535"),
    (["serve", "--port", "-1"], "--port", "0 to 65535"),
    (["serve", "--port", "0", "--host", "no such host!"], "--host", "'no such host!'"),
    (["jobs", "enqueue", "noop", "--nope"], "--nope", "No such option"),
    (["jobs", "enqueue"], "'type'", "Missing argument"),
    (["notify", "weekly", "--dry-run", "extra"], "(extra)", "unexpected extra argument"),
    (["jobs", "list", "--executor-id", os.fsdecode(b"\xff")], "b'\\xff'", "not valid UTF-8"),
]


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {**os.environ, "DATABASE_URL": NOWHERE, "COGO_HOME": os.environ.get("COGO_HOME", "/nonexistent-cogo-home"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)}
    return subprocess.run([*COGO, *args], capture_output=True, text=True, timeout=60, check=False, cwd=REPO_ROOT,
                          env={**base, **(env or {})}, errors="backslashreplace")


@pytest.mark.parametrize("args, names, rule", CASES, ids=[" ".join(c[0])[:60].encode("unicode_escape").decode()
                                                          for c in CASES])
def test_a_bad_argument_is_one_line_naming_it_and_exit_2(tmp_path, args, names, rule):
    out = _run(args, {"COGO_HOME": str(tmp_path)})
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr[-2000:]
    assert len(lines) == 1, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert lines[0].startswith("cogo: error: ") and names in lines[0] and rule in lines[0], lines[0]
    assert "\x1b" not in out.stderr, "a control character reached the terminal"
    assert "cannot connect" not in lines[0], "the argument was checked only after connecting"


@pytest.mark.parametrize("env, needle", [
    ({"METRICS_PORT": "99999"}, "METRICS_PORT"),
    ({"LEASE_SECONDS": "0"}, "lease seconds must be positive"),
])
def test_bad_settings_are_one_line_too(tmp_path, env, needle):
    args = ["serve"] if "METRICS_PORT" in env else ["runner", "--executor-id", "cogo-work", "--once"]
    out = _run(args, {"COGO_HOME": str(tmp_path), **env})
    assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert len(out.stderr.strip().splitlines()) == 1


def test_help_and_no_arguments_still_print_the_help():
    assert _run(["--help"]).returncode == 0 and "jobs" in _run(["--help"]).stdout
    bare = _run(["jobs"])
    assert bare.returncode == 2 and "enqueue" in bare.stdout and "Traceback" not in bare.stderr
