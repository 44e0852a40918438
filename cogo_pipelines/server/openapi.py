"""The OpenAPI 3.1 document of /api, generated from the endpoints (``api.ENDPOINTS``) and their
pydantic models (``models``): parameters from the query and path models, bodies and responses
from the model schemas. The schemathesis test fuzzes the live server against this document.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from cogo_pipelines.server import api
from cogo_pipelines.server.endpoint import Content, Endpoint
from cogo_pipelines.server.models import Error
from cogo_pipelines.server.responses import JSON

REF = "#/components/schemas/{model}"
ERRORS = {400: "Invalid input", 401: "Missing or wrong API token (COGO_API_TOKEN)",
          403: "Cross-origin state change, or a non-loopback Host on a server without a token", 404: "Not found",
          409: "Conflict (e.g. empty index)", 413: "Body too large", 415: "Body is not JSON",
          503: "Store or area unavailable"}


class _Schema(GenerateJsonSchema):
    """pydantic's JSON Schema without the titles it derives from field names."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _models(endpoints: tuple[Endpoint, ...]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [Error]
    for ep in endpoints:
        contents = [c for _, content in ep.ok.values() for c in (content.values() if isinstance(content, dict)
                                                                 else [content])]
        for kind in ([ep.body] if ep.body else []) + contents:
            if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in found:
                found.append(kind)
    return found


def _components(models: list[type[BaseModel]]) -> tuple[dict[type, dict[str, str]], dict[str, Any]]:
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF,
                                    schema_generator=_Schema)
    schemas = {name: {k: v for k, v in schema.items() if k != "title"} for name, schema in defs["$defs"].items()}
    return {model: ref for (model, _), ref in refs.items()}, schemas


def _parameters(model: type[BaseModel] | None, where: str) -> list[dict[str, Any]]:
    """One parameter per field; a parameter is absent or has a value, so ``| None`` is dropped."""
    if model is None:
        return []
    schema = model.model_json_schema(schema_generator=_Schema)
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        if prop.get("default", 0) is None:
            del prop["default"]
        options = [s for s in prop.get("anyOf", ()) if s != {"type": "null"}]
        if "anyOf" in prop and len(options) == 1:
            del prop["anyOf"]
            prop.update(options[0])
        param = {"name": name, "in": where, "required": where == "path" or name in required, "schema": prop}
        if description:
            param["description"] = description
        out.append(param)
    return out


def _operation(ep: Endpoint, refs: dict[type, dict[str, str]]) -> dict[str, Any]:
    def schema(kind: type) -> dict[str, Any]:
        return refs[kind] if kind in refs else TypeAdapter(kind).json_schema()

    def body(content: Content) -> dict[str, Any]:
        media = content if isinstance(content, dict) else {"application/json": content}
        return {m: {"schema": schema(kind)} for m, kind in media.items()}

    error = {"application/json": {"schema": refs[Error]}}
    codes = ep.errors if ep.public else ep.errors + (401, 403)  # every /api operation needs the token
    op: dict[str, Any] = {
        "operationId": ep.operation_id, "summary": ep.summary,
        "parameters": _parameters(ep.path_params, "path") + _parameters(ep.query, "query"),
        "responses": {**{str(code): {"description": text, "content": body(content)}
                         for code, (text, content) in ep.ok.items()},
                      **{str(code): {"description": ERRORS[code], "content": error} for code in sorted(codes)}},
    }
    if ep.body is not None:
        op["requestBody"] = {"required": True, "content": body(ep.body)}
    if ep.public:
        op["security"] = []
    return op


@lru_cache(maxsize=8)
def openapi_document(server_url: str | None) -> dict[str, Any]:
    """``server_url``: ``PUBLIC_BASE_URL``, or None for no ``servers`` entry, which OpenAPI reads as
    ``/`` on the host the document came from (never a URL built from the request's Host header)."""
    endpoints = (*api.ENDPOINTS, ENDPOINT)
    refs, schemas = _components(_models(endpoints))
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "cogo sidecar API", "version": "1.0.0",
                 "description": "Jobs, the Q1 gate, snapshots, search and gate_fix artifacts of cogo_pipelines. "
                                "Errors are JSON {error, status}. With COGO_API_TOKEN set on the server, every "
                                "/api route needs Authorization: Bearer <token>."},
        **({"servers": [{"url": server_url}]} if server_url else {}),
        "paths": paths,
        "security": [{"apiToken": []}],
        "components": {"schemas": schemas,
                       "securitySchemes": {"apiToken": {"type": "http", "scheme": "bearer",
                                                        "description": "COGO_API_TOKEN of the server"}}},
    }


def serve(request: Request) -> Response:
    return JSON(openapi_document(api.link_base(request) or None))


ENDPOINT = Endpoint("/api/openapi.json", serve, "openapi", "This document",
                    ok={200: ("OpenAPI 3.1 document", dict[str, Any])}, errors=())
