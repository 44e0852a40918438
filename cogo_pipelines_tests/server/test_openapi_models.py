"""The OpenAPI document and the validation are one source (the pydantic models): every integer
limit the document states is the one the live server enforces, at both edges, for query
parameters and for the enqueue body; and every documented operation is served."""

from __future__ import annotations

import pytest

from cogo_pipelines.server.openapi import openapi_document

DOC = openapi_document("http://sidecar.invalid")


def _bounded_query_ints() -> list[tuple[str, str, int, int]]:
    found = []
    for path, ops in DOC["paths"].items():
        for param in ops.get("get", {}).get("parameters", []):
            schema = param["schema"]
            if param["in"] == "query" and schema.get("type") == "integer":
                found.append((path, param["name"], schema["minimum"], schema["maximum"]))
    return found


BOUNDED = _bounded_query_ints()


def test_the_document_states_the_limits():
    assert {(p, n) for p, n, _, _ in BOUNDED} >= {("/api/jobs", "limit"), ("/api/jobs", "offset"),
                                                  ("/api/search", "k"), ("/api/gate/history", "limit")}
    enqueue = DOC["components"]["schemas"]["EnqueueRequest"]
    assert enqueue["required"] == ["type"]
    assert enqueue["properties"]["type"]["maxLength"] == 200


@pytest.mark.parametrize(("path", "name", "lo", "hi"), BOUNDED, ids=[f"{p}?{n}" for p, n, _, _ in BOUNDED])
def test_query_limits_are_enforced_as_documented(shared_sidecar, path, name, lo, hi):
    extra = {"q": "x"} if path == "/api/search" else {}
    with shared_sidecar.client() as http:
        for value in (lo - 1, hi + 1):
            response = http.get(path, params={**extra, name: value})
            assert response.status_code == 400, (name, value, response.text)
            assert response.json()["error"] == f"{name} must be between {lo} and {hi}"
        for value in (lo, hi):
            response = http.get(path, params={**extra, name: value})
            assert response.status_code in (200, 409), (name, value, response.text)  # 409: search, empty index


@pytest.mark.parametrize("field", ["priority", "max_attempts"])
def test_body_limits_are_enforced_as_documented(shared_sidecar, field):
    bounds = DOC["components"]["schemas"]["EnqueueRequest"]["properties"][field]["anyOf"][0]
    lo, hi = bounds["minimum"], bounds["maximum"]
    with shared_sidecar.client() as http:
        for value in (lo - 1, hi + 1):
            response = http.post("/api/jobs", json={"type": "noop", field: value})
            assert response.status_code == 400 and f"{field} must be between" in response.json()["error"]
        for value in (lo, hi):
            response = http.post("/api/jobs", json={"type": "noop", field: value})
            assert response.status_code == 201, response.text
            assert response.json()["job"][field] == value


def test_every_documented_operation_is_served(shared_sidecar):
    with shared_sidecar.client() as http:
        for path, ops in DOC["paths"].items():
            for method in ops:
                concrete = path.replace("{id}", "1")
                response = http.request(method.upper(), concrete, json={} if method == "post" else None)
                unrouted = response.status_code == 405 or (
                    response.status_code == 404 and response.json()["error"].startswith("no route"))
                assert not unrouted, (method, path, response.status_code, response.text)
