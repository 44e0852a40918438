"""What the queue accepts, checked in one place for every face (CLI, REST, Dagster, handlers).

Bad input is a ``QueueError`` with one line that names the field and the rule; values are
quoted with ``repr`` so a control character or an undecodable byte shows as an escape, never
raw on a terminal. The limits are the ones the REST API validates and documents (its models,
``server/models.py``, use them through ``server/params.py``) and the CLI enforces, so the three
cannot drift:

- names (job types, executor ids, dedupe keys, type filters): ``NAME_PATTERN``, at most
  ``NAME_MAX`` characters — no spaces, no control characters;
- ``priority`` in ``PRIORITY_RANGE``, ``max_attempts`` in ``ATTEMPTS_RANGE`` (both int32
  columns, far inside their range);
- payloads: a JSON object of at most ``MAX_PAYLOAD_BYTES`` (UTF-8), nested at most
  ``MAX_PAYLOAD_DEPTH`` deep, without NaN/Infinity (not JSON), NUL characters (Postgres text
  cannot hold them) or lone surrogates (not Unicode). Checked in one linear pass without
  recursion, so a hostile payload costs its length and cannot exhaust the stack.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:*/-]*$"
NAME_MAX = 200
PRIORITY_RANGE = (0, 1000)
ATTEMPTS_RANGE = (1, 100)
INT32_MAX = 2**31 - 1
MAX_PAYLOAD_BYTES = 1_000_000
MAX_PAYLOAD_DEPTH = 100
_NAME_RE = re.compile(NAME_PATTERN)
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class QueueError(ValueError):
    """Bad input to the queue (the CLI prints it as one line and exits 2; REST answers 400)."""


def name(value: Any, field: str, *, required: bool = False) -> str | None:
    """A job type, executor id or dedupe key: ``NAME_PATTERN``, 1..``NAME_MAX`` characters."""
    if value is None:
        if required:
            raise QueueError(f"{field} is required")
        return None
    if not isinstance(value, str) or not value or len(value) > NAME_MAX or not _NAME_RE.fullmatch(value):
        raise QueueError(f"{field} must be 1-{NAME_MAX} characters of letters, digits and . _ : * / -, "
                         f"starting with a letter or digit, got {_shown(value)}")
    return value


def bounded_int(value: Any, field: str, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        rule = "a non-negative integer" if lo == 0 else "an integer"
        raise QueueError(f"{field} must be {rule} from {lo} to {hi}, got {value!r}")
    return value


def payload(value: Any) -> dict:
    """``value`` itself when it is a JSON object the store can keep (see the module docstring)."""
    if not isinstance(value, dict):
        raise QueueError(f"payload must be a JSON object, got {type(value).__name__}")
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_PAYLOAD_DEPTH:
                raise QueueError(f"payload is nested more than {MAX_PAYLOAD_DEPTH} levels deep")
            if isinstance(item, dict):
                for key in item:
                    if not isinstance(key, str):
                        raise QueueError(f"payload keys must be strings, got {key!r}")
                    _text(key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            _text(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise QueueError(f"payload holds {item!r}, which JSON cannot express")
        elif not (item is None or isinstance(item, bool | int)):
            raise QueueError(f"payload holds a {type(item).__name__}, which is not a JSON value")
    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise QueueError(f"payload is {size} bytes as JSON; at most {MAX_PAYLOAD_BYTES} are kept")
    return value


COMMAND_TYPES = frozenset({"code.build.test", "code.debug"})  # the job types whose payload is a shell command
MAX_TIMEOUT_S = 7 * 24 * 3600  # a week: past it a number is a typo (``1e308``) or an attack, not a build
MAX_RERUNS = 3  # a test that needs more runs to pass is broken, not flaky
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def command_payload(value: dict) -> dict:
    """The fields a command job reads, checked where it is queued (400 / exit 2) rather than
    where it is claimed (a failed build, or a handler crash for ``timeout_s: 1e400`` or an
    ``env`` name holding ``=``): ``command`` a non-empty string or list of strings, ``cwd`` a
    string, ``timeout_s`` a positive number of seconds up to ``MAX_TIMEOUT_S``, ``reruns`` a whole
    number 0-``MAX_RERUNS``, ``env`` an object of strings under names a process environment can hold."""
    command = value.get("command")
    if not ((isinstance(command, str) and command.strip())
            or (isinstance(command, list) and command and all(isinstance(p, str) and p for p in command))):
        raise QueueError(f"payload.command must be a non-empty string or list of strings, got {_shown(command)}")
    cwd = value.get("cwd")
    if cwd is not None and not (isinstance(cwd, str) and cwd):
        raise QueueError(f"payload.cwd must be a path string, got {_shown(cwd)}")
    timeout = value.get("timeout_s")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0 < timeout <= MAX_TIMEOUT_S):
        raise QueueError(f"payload.timeout_s must be a number of seconds above 0 and at most {MAX_TIMEOUT_S}, "
                         f"got {_shown(timeout)}")
    reruns = value.get("reruns")
    if reruns is not None and (isinstance(reruns, bool) or not isinstance(reruns, int) or not 0 <= reruns <= MAX_RERUNS):
        raise QueueError(f"payload.reruns must be a whole number from 0 to {MAX_RERUNS}, got {_shown(reruns)}")
    env = value.get("env")
    if env is not None:
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise QueueError("payload.env must be an object of strings")
        bad = next((k for k in env if not _ENV_NAME.fullmatch(k)), None)
        if bad is not None:
            raise QueueError(f"payload.env name {_shown(bad)} is not a variable name (letters, digits, _)")
    return value


def _shown(value: Any) -> str:
    """``value`` quoted for a message, a long string cut to its first 80 characters."""
    return repr(value) if not isinstance(value, str) or len(value) <= 80 else repr(value[:80]) + "…"


def _text(text: str) -> None:
    bad = _NOT_TEXT.search(text)
    if bad is None:
        return
    if bad.group() == "\x00":
        raise QueueError("payload contains a NUL character (\\u0000), which the store cannot keep")
    raise QueueError(f"payload contains a lone surrogate ({bad.group()!r}), which is not valid Unicode")


def parse_payload(text: str | None) -> dict:
    """A payload given as JSON text (CLI, REST); empty = ``{}``."""
    if text is None or not text.strip():
        return {}
    if len(text) > MAX_PAYLOAD_BYTES:  # characters <= UTF-8 bytes: cheap first bound
        raise QueueError(f"payload is longer than {MAX_PAYLOAD_BYTES} bytes")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise QueueError(f"payload is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except _NotJson as exc:
        raise QueueError(f"payload is not valid JSON ({exc} is not JSON; use a string or null)") from None
    except RecursionError:
        raise QueueError(f"payload is nested more than {MAX_PAYLOAD_DEPTH} levels deep") from None
    return payload(value)


class _NotJson(ValueError):
    pass


def _no_constant(token: str) -> Any:
    raise _NotJson(token)
