"""The OpenAPI 3.1 document of /api, written to match what the handlers return.

Limits come from ``params`` so the document and the validation agree; the schemathesis test
fuzzes the live server against this document.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cogo_pipelines.server import params
from cogo_pipelines.store.queries import JOB_STATUSES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
TS = {"type": "string", "format": "date-time"}
NAME = {"type": "string", "minLength": 1, "maxLength": params.NAME_MAX, "pattern": params.NAME_PATTERN}
ANY_JSON: dict[str, Any] = {}


def _obj(props: dict[str, Any], required: list[str] | None = None, extra: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props,
                              "required": list(props) if required is None else required}
    if not extra:
        schema["additionalProperties"] = False
    return schema


SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": STR, "status": INT}),
    "Job": _obj({
        "id": INT, "type": STR, "executor_id": STR, "status": {"type": "string", "enum": list(JOB_STATUSES)},
        "priority": INT, "attempts": INT, "max_attempts": INT, "payload": ANY_JSON, "result": ANY_JSON,
        "error": _nullable(STR), "created_at": TS, "started_at": _nullable(TS), "finished_at": _nullable(TS),
        "duration_seconds": _nullable(NUM),
    }),
    "JobList": _obj({"jobs": {"type": "array", "items": _ref("Job")}, "total": INT, "limit": INT, "offset": INT}),
    "EnqueueRequest": _obj({
        "type": NAME,
        "payload": {"type": "object", "description": "Handler input, e.g. {command, cwd, timeout_s}"},
        "executor_id": {**NAME, "description": "Omit to let router-select decide"},
        "priority": {"type": "integer", "minimum": params.PRIORITY_RANGE[0], "maximum": params.PRIORITY_RANGE[1]},
        "dedupe_key": NAME,
        "max_attempts": {"type": "integer", "minimum": params.ATTEMPTS_RANGE[0], "maximum": params.ATTEMPTS_RANGE[1]},
    }, required=["type"]),
    "EnqueueResponse": _obj({"job": _ref("Job"), "deduplicated": {"type": "boolean"}}),
    "QualityRun": _obj({
        "id": INT, "gate": STR, "source": STR, "score": _nullable(NUM), "threshold": NUM, "passed": {"type": "boolean"},
        "succeeded": INT, "failed": INT, "window_start": _nullable(TS), "window_end": _nullable(TS),
        "details": ANY_JSON, "created_at": TS,
    }),
    "GateHistory": _obj({"runs": {"type": "array", "items": _ref("QualityRun")}}),
    "Snapshot": _obj({"id": INT, "kind": STR, "q1": _nullable(NUM), "content": ANY_JSON, "created_at": TS}),
    "SnapshotList": _obj({"snapshots": {"type": "array", "items": _ref("Snapshot")}}),
    "QueueDepth": _obj({"executor_id": STR, "status": STR, "count": INT}),
    "RepoIndexStats": _obj({"repo": STR, "files": INT, "symbols": INT, "edges": INT, "chunks": INT,
                            "last_indexed_at": _nullable(TS)},
                           required=["repo", "files", "symbols", "edges", "chunks"]),
    "IndexStats": _obj({
        "files": INT, "symbols": INT, "edges": INT, "chunks": INT,
        "repos": {"type": "array", "items": _ref("RepoIndexStats")},
        "last_index": _nullable(_obj({"repo": _nullable(STR), "seconds": NUM})),
    }, required=["files", "symbols", "edges", "chunks", "repos"]),
    "GateFixLink": _obj({"id": INT, "quality_run_id": _nullable(INT), "created_at": TS, "url": STR}),
    "Summary": _obj({
        "generated_at": TS,
        "jobs": _obj({s: INT for s in JOB_STATUSES}),
        "queue": {"type": "array", "items": _ref("QueueDepth")},
        "gate": _nullable(_ref("QualityRun")),
        "index": _ref("IndexStats"),
        "latest_gate_fix": _nullable(_ref("GateFixLink")),
    }),
    "GateFix": _obj({
        "id": INT, "quality_run_id": _nullable(INT), "created_at": TS, "json_path": _nullable(STR),
        "markdown_path": _nullable(STR), "content": {"type": "object"},
    }, required=["id", "created_at", "content"]),
    "SearchHit": _obj({"path": STR, "symbol": _nullable(STR), "chunk_type": STR, "start_line": _nullable(INT),
                       "end_line": _nullable(INT), "score": NUM, "repo": STR},
                      required=["path", "chunk_type", "score"]),
    "SearchResponse": _obj({"query": STR, "k": INT, "hits": {"type": "array", "items": _ref("SearchHit")}}),
    "WeeklySummary": {"type": "object", "description": "Slack-compatible webhook payload (text, blocks)",
                      "required": ["text"], "properties": {"text": STR}},
    "Health": _obj({"status": {"type": "string", "enum": ["ok", "degraded"]}, "store": {"type": "boolean"}},
                   required=["status", "store"]),
}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid input", 401: "Missing or wrong API token (COGO_API_TOKEN)",
            403: "Cross-origin state change, or a non-loopback Host on a server without a token", 404: "Not found", 409: "Conflict (e.g. empty index)", 413: "Body too large",
            415: "Body is not JSON", 503: "Store or area unavailable"}
    return {str(c): _json("Error", text[c]) for c in codes}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


LIMIT = {"type": "integer", "minimum": params.LIMIT_RANGE[0], "maximum": params.LIMIT_RANGE[1]}


def _get(op_id: str, summary: str, ok: dict[str, Any], *, parameters: list | None = None,
         errors: tuple[int, ...] = (400, 503)) -> dict[str, Any]:
    return {"get": {"operationId": op_id, "summary": summary, "parameters": parameters or [],
                    "responses": {"200": ok, **_errors(*errors)}}}


PATHS: dict[str, Any] = {
    "/healthz": _get("health", "Liveness and store reachability", _json("Health", "Store reachable"),
                     errors=(503,)),
    "/api/jobs": {
        **_get("listJobs", "Jobs, newest first, optionally filtered", _json("JobList", "A page of jobs"), parameters=[
            _query("status", {"type": "string", "enum": list(JOB_STATUSES)}, "Only jobs in this status"),
            _query("executor_id", NAME, "Only jobs of this executor"),
            _query("type", NAME, "Only jobs of this type"),
            _query("limit", {**LIMIT, "default": 50}, "Page size"),
            _query("offset", {"type": "integer", "minimum": params.OFFSET_RANGE[0],
                              "maximum": params.OFFSET_RANGE[1], "default": 0}, "Rows to skip"),
        ]),
        "post": {
            "operationId": "enqueueJob", "summary": "Enqueue a job (router-select picks the executor if omitted)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("EnqueueRequest")}}},
            "responses": {"201": _json("EnqueueResponse", "Enqueued"),
                          "200": _json("EnqueueResponse", "An open job with the same dedupe_key exists"),
                          **_errors(400, 413, 415, 503)},
        },
    },
    "/api/jobs/{id}": _get("getJob", "One job", _json("Job", "The job"), errors=(400, 404, 503), parameters=[
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}]),
    "/api/jobs/{id}/log": {"get": {
        "operationId": "getJobLog", "summary": "A job's build log (last 8 MiB, secrets scrubbed), when it is on this server",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "The log", "content": {"text/plain": {"schema": STR}}},
                      **_errors(400, 404, 503)},
    }},
    "/api/gate/latest": _get("latestGate", "The last Q1 gate run", _json("QualityRun", "Last run"),
                             errors=(404, 503)),
    "/api/gate/history": _get("gateHistory", "Q1 gate runs, newest first", _json("GateHistory", "Runs"),
                              parameters=[_query("limit", {**LIMIT, "default": 30}, "How many")]),
    "/api/snapshots": _get("listSnapshots", "Nightly snapshots, newest first", _json("SnapshotList", "Snapshots"),
                           parameters=[_query("limit", {**LIMIT, "default": 30}, "How many")]),
    "/api/summary": _get("summary", "Queue, gate, index and latest gate_fix at a glance",
                         _json("Summary", "Summary"), errors=(503,)),
    "/api/notify/weekly": _get("weeklySummary", "The weekly notification payload (as sent to the webhook)",
                               _json("WeeklySummary", "Payload"), errors=(503,)),
    "/api/search": _get("search", "Semantic code search over the index", _json("SearchResponse", "Hits"),
                        errors=(400, 409, 503), parameters=[
        _query("q", {"type": "string", "minLength": 1, "maxLength": params.QUERY_MAX, "pattern": r"\S"},
               "Query text", required=True),
        _query("k", {"type": "integer", "minimum": params.K_RANGE[0], "maximum": params.K_RANGE[1], "default": 10},
               "Number of hits"),
        _query("repo", NAME, "Only this repository"),
    ]),
    "/api/gate-fix/{id}": {"get": {
        "operationId": "getGateFix",
        "summary": "A gate_fix artifact (id or 'latest'); JSON for programs, HTML for browsers (Accept), or Markdown",
        "parameters": [
            {"name": "id", "in": "path", "required": True,
             "schema": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["latest"]}]}},
            _query("format", {"type": "string", "enum": ["json", "markdown", "html"]},
                   "Representation; unset = HTML when Accept starts with text/html, else JSON"),
        ],
        "responses": {"200": {"description": "The artifact", "content": {
            "application/json": {"schema": _ref("GateFix")}, "text/markdown": {"schema": STR},
            "text/html": {"schema": STR}}},
            **_errors(400, 404, 503)},
    }},
    "/api/index/stats": _get("indexStats", "Index sizes overall and per repository", _json("IndexStats", "Sizes"),
                             parameters=[_query("repo", NAME, "Only this repository")]),
    "/api/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                  "responses": {"200": {"description": "OpenAPI 3.1 document",
                                                        "content": {"application/json": {"schema": {"type": "object"}}}}}}},
}


def _secured(paths: dict[str, Any]) -> dict[str, Any]:
    """Every /api operation needs the token: 401 and 403 documented on each; /healthz is open."""
    out: dict[str, Any] = {}
    for path, ops in paths.items():
        if not path.startswith("/api"):
            out[path] = {m: {**op, "security": []} for m, op in ops.items()}
            continue
        out[path] = {m: {**op, "responses": {**op["responses"], **_errors(401, 403)}} for m, op in ops.items()}
    return out


@lru_cache(maxsize=8)
def _document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "cogo sidecar API", "version": "1.0.0",
                 "description": "Jobs, the Q1 gate, snapshots, search and gate_fix artifacts of cogo_pipelines. "
                                "Errors are JSON {error, status}. With COGO_API_TOKEN set on the server, every "
                                "/api route needs Authorization: Bearer <token>."},
        "servers": [{"url": server_url}],
        "paths": _secured(PATHS),
        "security": [{"apiToken": []}],
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"apiToken": {"type": "http", "scheme": "bearer",
                                                        "description": "COGO_API_TOKEN of the server"}}},
    }


def openapi_document(server_url: str) -> dict[str, Any]:
    return _document(server_url)
