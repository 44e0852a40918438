"""Which failed jobs say something about the code, and which only about the machine that ran them.

Q1 measures code quality, so a build that never ran its tests — killed at its timeout, started
on a runner without the working tree, a command that could not be started, a job type the runner
does not know, a lease the runner lost — is an *infrastructure* outcome: counted and listed on
its own, never in Q1's denominator. A handler may say so itself with ``result.outcome = "infra"``;
otherwise the job's error text is read (the messages ``queue/handlers/work.py`` and the runner
write). Jobs left ``dead`` by an expired lease were never counted.
"""

from __future__ import annotations

import re
from typing import Any

# (reason, SQL LIKE pattern with % doubled: it goes into parameterised queries)
INFRA_ERRORS = (
    ("timeout", "command timed out%%"),
    ("missing working tree", "working tree %% does not exist%%"),
    ("could not start", "could not start %%"),
    ("unknown job type", "unknown job type %%"),
    ("runner lost", "lease %% expired%%"),
)
# the keys of a job's result the rule reads (a source that reads rows classifies with them)
INFRA_RESULT_KEYS = ("outcome", "timed_out")
# characters a value in a PostgREST logic tree (``or=(...)``) must be quoted for
_RESERVED = frozenset(',()"')


def infra_sql() -> str:
    """A SQL condition over ``jobs`` rows (``error``, ``result``), true for infrastructure failures;
    for a query with parameters (its ``%`` are doubled)."""
    likes = " OR ".join(f"coalesce(error, '') LIKE '{pattern}'" for _, pattern in INFRA_ERRORS)
    return f"(coalesce(result->>'outcome', '') = 'infra' OR coalesce(result->>'timed_out', '') = 'true' OR {likes})"


def infra_rest() -> str:
    """The same rule as PostgREST ``or`` conditions (the Supabase source): any true picks the row.
    Only as a positive filter: over a NULL error or result a condition is NULL, which ``or``
    passes over correctly but ``not.or`` would not (NOT NULL is NULL: the row drops out)."""
    likes = [_rest_value(pattern.replace("%%", "*")) for _, pattern in INFRA_ERRORS]
    return ",".join(["result->>outcome.eq.infra", "result->>timed_out.eq.true", *(f"error.like.{v}" for v in likes)])


def _rest_value(value: str) -> str:
    return f'"{value}"' if _RESERVED & set(value) else value


def _like(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern (``%`` doubled) as the regular expression matching what it matches."""
    parts = ("." if ch == "_" else ".*" if ch == "%" else re.escape(ch) for ch in pattern.replace("%%", "%"))
    return re.compile("".join(parts), re.DOTALL)


_LIKES = tuple((reason, _like(pattern)) for reason, pattern in INFRA_ERRORS)


def infra_reason(error: str | None, result: dict[str, Any] | None = None) -> str | None:
    """The infrastructure reason of one failed job, or None when it is a code failure: exactly
    ``infra_sql()``'s rule, so a source that classifies rows it read (Supabase) agrees with one
    that counts in SQL. ``result`` may hold its values as JSON or as the text ``->>`` reads."""
    result = result if isinstance(result, dict) else {}
    if result.get("outcome") == "infra":
        return str(result.get("reason") or "infrastructure")
    if result.get("timed_out") is True or result.get("timed_out") == "true":
        return "timeout"
    text = error or ""
    return next((reason for reason, like in _LIKES if like.fullmatch(text)), None)


def is_infra(error: str | None, result: dict[str, Any] | None = None) -> bool:
    return infra_reason(error, result) is not None
