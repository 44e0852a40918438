"""The queue's one validation (``queue/validation.py``), as every face meets it: the core
``jobs.enqueue`` (Dagster, plan handlers), the REST API and the CLI refuse the same input with
the same rule (issue 18, item 9). The CLI side is ``test_cli_bad_input.py``."""

from __future__ import annotations

import json

import pytest

from cogo_pipelines.queue import jobs, validation


def _deep(depth: int) -> dict:
    value: object = 1
    for _ in range(depth - 1):
        value = [value]
    return {"a": value}


BAD_PAYLOADS = [
    ({"x": float("nan")}, "JSON cannot express"),
    ({"x": [1, float("inf")]}, "JSON cannot express"),
    ({"x": "a\x00b"}, "NUL"),
    ({"a\x00": 1}, "NUL"),
    ({"x": "\ud800"}, "surrogate"),
    ({"x": {"\udcff": 1}}, "surrogate"),
    (_deep(validation.MAX_PAYLOAD_DEPTH + 1), "nested more than"),
    ({"x": {1, 2}}, "not a JSON value"),
    ({1: "x"}, "keys must be strings"),
    ({"x": "y" * (validation.MAX_PAYLOAD_BYTES + 1)}, "at most"),
    ([1], "JSON object"),
]


@pytest.mark.parametrize("payload, message", BAD_PAYLOADS, ids=[m for _, m in BAD_PAYLOADS])
def test_enqueue_refuses_payloads_the_store_cannot_keep(conn, payload, message):
    with pytest.raises(jobs.QueueError, match=message):
        jobs.enqueue(conn, "noop", payload)
    assert jobs.list_jobs(conn) == []


BAD_COMMANDS = [
    ({}, "payload.command must be"),
    ({"command": "  "}, "payload.command must be"),
    ({"command": ["ls", 1]}, "payload.command must be"),
    ({"command": "true", "cwd": 7}, "payload.cwd must be"),
    ({"command": "true", "timeout_s": 10**400}, "payload.timeout_s must be"),  # OverflowError in the runner
    ({"command": "true", "timeout_s": 0}, "payload.timeout_s must be"),
    ({"command": "true", "timeout_s": "x"}, "payload.timeout_s must be"),
    ({"command": "true", "timeout_s": True}, "payload.timeout_s must be"),
    ({"command": "true", "reruns": 4}, "payload.reruns must be a whole number from 0 to 3"),
    ({"command": "true", "reruns": -1}, "payload.reruns must be"),
    ({"command": "true", "reruns": 1.5}, "payload.reruns must be"),
    ({"command": "true", "reruns": True}, "payload.reruns must be"),
    ({"command": "true", "reruns": 10**400}, "payload.reruns must be"),
    ({"command": "true", "env": {"A=B": "x"}}, "is not a variable name"),  # ValueError in the runner
    ({"command": "true", "env": {"A": 1}}, "payload.env must be an object of strings"),
    ({"command": "true", "env": []}, "payload.env must be an object of strings"),
]


@pytest.mark.parametrize("payload, message", BAD_COMMANDS, ids=[str(p) for p, _ in BAD_COMMANDS])
@pytest.mark.parametrize("job_type", sorted(validation.COMMAND_TYPES))
def test_a_command_job_is_checked_where_it_is_queued(conn, job_type, payload, message):
    """Checked only where a runner claimed them, such payloads crashed the handler (a traceback
    in the runner's log) or failed as a red build; now they are refused at once."""
    with pytest.raises(jobs.QueueError, match=message):
        jobs.enqueue(conn, job_type, payload)
    assert jobs.list_jobs(conn) == []


@pytest.mark.parametrize("kwargs, message", [
    ({"type": "no\x01op"}, "job type must be"),
    ({"type": "a b"}, "job type must be"),
    ({"type": "x" * (validation.NAME_MAX + 1)}, "job type must be"),
    ({"type": "noop", "dedupe_key": "k\n"}, "dedupe key must be"),
    ({"type": "noop", "priority": 2**31}, "priority must be a non-negative integer from 0 to 1000"),
    ({"type": "noop", "max_attempts": 2**31}, "max_attempts must be an integer from 1 to 100"),
    ({"type": "noop", "priority": True}, "priority"),
])
def test_enqueue_refuses_bad_names_and_numbers(conn, kwargs, message):
    with pytest.raises(jobs.QueueError, match=message):
        jobs.enqueue(conn, **kwargs)
    assert jobs.list_jobs(conn) == []


def test_the_deepest_and_the_widest_allowed_payloads_are_queued_intact(conn):
    deep = _deep(validation.MAX_PAYLOAD_DEPTH)
    wide = {"x": "é" * 1000, "n": [None, True, 1, 1.5, "s"]}
    for payload in (deep, wide):
        job_id = jobs.enqueue(conn, "noop", payload)
        assert jobs.get_job(conn, job_id)["payload"] == payload


@pytest.mark.parametrize("text, message", [
    ('{"a": NaN}', "NaN is not JSON"),
    ('{"a": -Infinity}', "-Infinity is not JSON"),
    ('{"a": "\\u0000"}', "NUL"),
    ('{"a": "\\udc80"}', "surrogate"),
    ("[" * 100_000 + "]" * 100_000, "nested more than"),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "nested more than"),
    ("{" * 50_000, "nested more than|not valid JSON"),
    ("x" * (validation.MAX_PAYLOAD_BYTES + 1), "longer than"),
])
def test_payload_text_is_refused_with_one_line(text, message):
    with pytest.raises(jobs.QueueError, match=message) as caught:
        jobs.parse_payload(text)
    assert "\n" not in str(caught.value)


def test_payload_text_within_the_limits_parses():
    text = json.dumps(_deep(validation.MAX_PAYLOAD_DEPTH))
    assert jobs.parse_payload(text) == _deep(validation.MAX_PAYLOAD_DEPTH)
    assert jobs.parse_payload("  ") == {}
