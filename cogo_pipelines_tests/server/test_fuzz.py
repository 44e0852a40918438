"""schemathesis fuzzes the live sidecar against its own /api/openapi.json: no 5xx, every
status code, content type and body as documented. Bounded (few examples per operation).
Authenticated: the sidecar has COGO_API_TOKEN set and every case sends it as a Bearer token."""

from __future__ import annotations

import hypothesis
import psycopg
import pytest
import schemathesis
from psycopg.rows import dict_row
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cogo_pipelines.server.openapi import openapi_document
from cogo_pipelines_tests.server.conftest import auth_headers
from cogo_pipelines_tests.server.seed import seed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# The document is built without a server; the test below proves the live one serves the same.
# (schemathesis.pytest.from_fixture would load it from the server, but does not run on pytest 9.)
PLACEHOLDER = "http://sidecar.invalid"
schema = schemathesis.openapi.from_dict(openapi_document(PLACEHOLDER))


@pytest.fixture(scope="module")
def live(shared_sidecar):
    with psycopg.connect(shared_sidecar.settings.database_url, row_factory=dict_row) as conn:
        seed(conn)  # so that the 200 paths return real rows, not just empty lists
    return shared_sidecar


def test_fuzzed_server_requires_the_token(live):
    assert live.settings.api_token is not None
    with live.anonymous() as http:
        assert http.get("/api/jobs").status_code == 401


def test_live_document_is_the_fuzzed_one(live):
    with live.client() as http:
        served = http.get("/api/openapi.json").json()
    assert served["openapi"] == "3.1.0"
    assert "servers" not in served  # no PUBLIC_BASE_URL: "/" of the host the document came from
    assert {**served, "servers": None} == {**openapi_document(PLACEHOLDER), "servers": None}


@schema.parametrize()
@hypothesis.settings(max_examples=10, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_api_matches_its_openapi_document(case, live):
    # The document declares the bearer scheme, so schemathesis makes up an Authorization value: the real one wins.
    case.headers = {**(case.headers or {}), **auth_headers()}
    response = case.call_and_validate(base_url=live.url, checks=CHECKS)
    assert response.status_code != 401, "the fuzzer must run authenticated"
