"""Request fields for the REST models: pydantic types whose validators give the one-line 4xx.

Each type carries two things: the constraints pydantic writes into the OpenAPI document
(``Field``) and a ``BeforeValidator`` that refuses bad input with the message a caller reads.
``parse`` turns the first refusal into an ``ApiError``, so every bad input is a 400 (404 for an
id out of range) with the field named, never a 500. Names, priorities and attempts use the
queue's own rule (``queue/validation.py``), the one the CLI enforces too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from cogo_pipelines.queue import validation
from cogo_pipelines.queue.validation import ATTEMPTS_RANGE, NAME_MAX, NAME_PATTERN, PRIORITY_RANGE  # noqa: F401
from cogo_pipelines.server.responses import ApiError

MAX_BODY_BYTES = 1_000_000
MAX_ID = 2**63 - 1
LIMIT_RANGE = (1, 500)
OFFSET_RANGE = (0, 1_000_000)
K_RANGE = (1, 50)
QUERY_MAX = 1000


def refuse(message: str, status: int = 400) -> PydanticCustomError:
    """A validation failure that ``parse`` answers with ``status`` and exactly ``message``."""
    return PydanticCustomError(f"refused_{status}", message)


def _checked(check: Callable[[Any, str], Any]) -> BeforeValidator:
    def run(value: Any, info: ValidationInfo) -> Any:
        try:
            return check(value, info.field_name or "value")
        except validation.QueueError as exc:
            raise refuse(str(exc)) from None

    return BeforeValidator(run)


_NAME_SCHEMA = Field(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)
Name = Annotated[str, _NAME_SCHEMA, _checked(lambda v, f: validation.name(v, f, required=True))]
"""A job type, executor id, dedupe key or repo: required."""
OptionalName = Annotated[Annotated[str, _NAME_SCHEMA] | None, _checked(lambda v, f: validation.name(v, f))]


def QueryInt(bounds: tuple[int, int]) -> Any:  # a type factory, used in annotations (so are the next ones)
    """An integer query parameter, decimal, within ``bounds``."""
    lo, hi = bounds

    def check(raw: Any, field: str) -> int:
        text = str(raw)
        # ASCII digits as written: int() also takes ' 5', '٥' (Arabic-Indic) and '1_000'
        if not (text.isascii() and (text[1:] if text[:1] == "-" else text).isdigit()) or len(text) > 12:
            raise refuse(f"{field} must be an integer")
        value = int(text, 10)
        if not lo <= value <= hi:
            raise refuse(f"{field} must be between {lo} and {hi}")
        return value

    return Annotated[int, Field(ge=lo, le=hi), _checked(check)]


def BodyInt(bounds: tuple[int, int], default: int) -> Any:
    """An integer in a JSON body (a JSON integer, not a string or a bool); null means ``default``."""
    lo, hi = bounds

    def check(value: Any, field: str) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse(f"{field} must be an integer")
        if not lo <= value <= hi:
            raise refuse(f"{field} must be between {lo} and {hi}")
        return value

    return Annotated[Annotated[int, Field(ge=lo, le=hi)] | None, _checked(check)]


def OneOf(options: tuple[str, ...], *, empty_is_unset: bool = False) -> Any:
    """One of ``options`` (optional); with ``empty_is_unset`` an empty value counts as absent."""

    def check(value: Any, field: str) -> str | None:
        if value is None or (empty_is_unset and value == ""):
            return None
        if value not in options:
            raise refuse(f"{field} must be one of {', '.join(options)}")
        return value

    return Annotated[Literal[options] | None, _checked(check)]


def Text(max_len: int) -> Any:
    """Required free text (a search query): not blank, at most ``max_len`` characters, no NUL."""

    def check(value: Any, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise refuse(f"query parameter {field!r} is required")
        if len(value) > max_len:
            raise refuse(f"{field} is longer than {max_len} characters")
        if "\x00" in value:
            raise refuse(f"{field} contains a NUL character")
        return value

    return Annotated[str, Field(min_length=1, max_length=max_len, pattern=r"\S"), _checked(check)]


def _path_id(raw: Any, field: str) -> int:
    text = str(raw)
    if not text.isascii() or not text.isdigit():
        raise refuse(f"{field} must be a positive integer")
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise refuse(f"no such {field} {text}", 404)
    return value


PathId = Annotated[int, Field(ge=1), _checked(_path_id)]
"""A row id in the path: digits only (400 otherwise), 1..2^63-1 (404 otherwise)."""
IdOrLatest = Annotated[Annotated[int, Field(ge=1)] | Literal["latest"],
                       _checked(lambda v, f: v if v == "latest" else _path_id(v, f))]


def JsonObject(description: str) -> Any:
    """A JSON object in a body; absent, null or empty means ``{}``."""

    def check(value: Any, field: str) -> dict[str, Any]:
        value = value or {}
        if not isinstance(value, dict):
            raise refuse(f"{field} must be a JSON object")
        return value

    return Annotated[dict[str, Any], Field(description=description), _checked(check)]


def parse(model: type[BaseModel], data: Mapping[str, Any], *, where: str) -> BaseModel:
    """``data`` (query or path parameters, or a JSON body) as ``model``; the first problem as an ApiError."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problem = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    field = ".".join(str(part) for part in problem["loc"]) or "body"
    kind = problem["type"]
    if kind.startswith("refused_"):
        raise ApiError(int(kind.removeprefix("refused_")), problem["msg"])
    if kind == "missing":
        raise ApiError(400, f"query parameter {field!r} is required" if where == "query" else f"{field} is required")
    raise ApiError(400, f"{field}: {problem['msg']}")


async def json_object(request) -> dict[str, Any]:
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
