"""Request validation for the REST API: every bad input becomes a 400 with a clear message.

The limits here are the ones the OpenAPI document states, so the schema and the behaviour
cannot drift apart (openapi.py imports them).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from cogo_pipelines.queue import validation
from cogo_pipelines.queue.validation import ATTEMPTS_RANGE, NAME_MAX, NAME_PATTERN, PRIORITY_RANGE  # noqa: F401
from cogo_pipelines.server.responses import ApiError
from cogo_pipelines.store.queries import JOB_STATUSES

MAX_BODY_BYTES = 1_000_000
MAX_ID = 2**63 - 1
LIMIT_RANGE = (1, 500)
OFFSET_RANGE = (0, 1_000_000)
K_RANGE = (1, 50)
QUERY_MAX = 1000


def _int(raw: str, name: str, lo: int, hi: int) -> int:
    try:
        value = int(raw, 10)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise ApiError(400, f"{name} must be between {lo} and {hi}")
    return value


def query_int(request: Request, name: str, default: int, bounds: tuple[int, int]) -> int:
    raw = request.query_params.get(name)
    return default if raw is None else _int(raw.strip(), name, *bounds)


def name(value: Any, field: str, *, required: bool = False) -> str | None:
    """A job type, executor id or dedupe key, by the queue's own rule (the CLI's too)."""
    try:
        return validation.name(value, field, required=required)
    except validation.QueueError as exc:
        raise ApiError(400, str(exc)) from None


def query_name(request: Request, field: str) -> str | None:
    return name(request.query_params.get(field), field)


def status(request: Request) -> str | None:
    value = request.query_params.get("status")
    if value is not None and value not in JOB_STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(JOB_STATUSES)}")
    return value


def path_id(request: Request, field: str = "id") -> int:
    raw = request.path_params[field]
    if not raw.isascii() or not raw.isdigit():
        raise ApiError(400, f"{field} must be a positive integer")
    value = int(raw)
    if not 1 <= value <= MAX_ID:
        raise ApiError(404, f"no such {field} {raw}")
    return value


def text(request: Request, field: str, *, required: bool, max_len: int) -> str | None:
    value = request.query_params.get(field)
    if value is None or not value.strip():
        if required:
            raise ApiError(400, f"query parameter {field!r} is required")
        return None
    if len(value) > max_len:
        raise ApiError(400, f"{field} is longer than {max_len} characters")
    if "\x00" in value:
        raise ApiError(400, f"{field} contains a NUL character")
    return value


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (415/413/400 otherwise)."""
    ctype = request.headers.get("content-type", "")
    if ctype and ctype.split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, "send the body as application/json")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():  # bounded even without (or with a lying) Content-Length
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    try:
        data = json.loads(body or b"null", parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "body is not valid JSON (NaN and Infinity are not JSON either)") from None
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    try:
        dumped = json.dumps(data, ensure_ascii=False)
        dumped.encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise ApiError(400, "body contains text that is not valid Unicode") from None
    if "\\u0000" in dumped or "\x00" in dumped:
        raise ApiError(400, "body contains a NUL character, which the store cannot keep")
    return data


def _no_constant(token: str) -> Any:
    raise ValueError(token)


def body_int(data: dict[str, Any], field: str, default: int, bounds: tuple[int, int]) -> int:
    value = data.get(field, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{field} must be an integer")
    if not bounds[0] <= value <= bounds[1]:
        raise ApiError(400, f"{field} must be between {bounds[0]} and {bounds[1]}")
    return value
