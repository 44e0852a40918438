"""The REST API applies the queue's own validation (``queue/validation.py``): what the CLI
refuses, ``POST /api/jobs`` refuses with the same rule, as a 400 (issue 18, item 9)."""

from __future__ import annotations

import pytest

from cogo_pipelines.queue import validation


def _deep(depth: int) -> dict:
    value: object = 1
    for _ in range(depth - 1):
        value = [value]
    return {"a": value}


@pytest.mark.parametrize("body, needle", [
    ({"type": "no\u0001op"}, "type must be 1-200 characters"),
    ({"type": "noop\n"}, "type must be 1-200 characters"),  # a trailing newline passed the old re.match
    ({"type": "noop", "dedupe_key": "a b"}, "dedupe_key must be 1-200 characters"),
    ({"type": "noop", "payload": _deep(validation.MAX_PAYLOAD_DEPTH + 1)}, "nested more than"),
    ({"type": "noop", "payload": {"k": "\u0000"}}, "NUL"),
    ({"type": "noop", "priority": 2**31}, "priority must be"),
])
def test_rest_refuses_what_the_cli_refuses(shared_sidecar, body, needle):
    with shared_sidecar.client() as http:
        response = http.post("/api/jobs", json=body)
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]


def test_rest_queues_the_deepest_allowed_payload(shared_sidecar):
    with shared_sidecar.client() as http:
        response = http.post("/api/jobs", json={"type": "noop", "payload": _deep(validation.MAX_PAYLOAD_DEPTH)})
    assert response.status_code == 201, response.text
    assert response.json()["job"]["payload"] == _deep(validation.MAX_PAYLOAD_DEPTH)
