"""Which failed jobs say something about the code, and which only about the machine that ran them.

Q1 measures code quality, so a build that never ran its tests — killed at its timeout, started
on a runner without the working tree, a command that could not be started, a job type the runner
does not know, a lease the runner lost — is an *infrastructure* outcome: counted and listed on
its own, never in Q1's denominator. A handler may say so itself with ``result.outcome = "infra"``;
otherwise the job's error text is read (the messages ``queue/handlers/work.py`` and the runner
write). Jobs left ``dead`` by an expired lease were never counted.
"""

from __future__ import annotations

from typing import Any

# (reason, error prefix, SQL LIKE pattern with % doubled: it goes into parameterised queries)
INFRA_ERRORS = (
    ("timeout", "command timed out", "command timed out%%"),
    ("missing working tree", "working tree ", "working tree %% does not exist%%"),
    ("could not start", "could not start ", "could not start %%"),
    ("unknown job type", "unknown job type ", "unknown job type %%"),
    ("runner lost", "lease ", "lease %% expired%%"),
)


def infra_sql() -> str:
    """A SQL condition over ``jobs`` rows (``error``, ``result``), true for infrastructure failures;
    for a query with parameters (its ``%`` are doubled)."""
    likes = " OR ".join(f"coalesce(error, '') LIKE '{pattern}'" for _, _, pattern in INFRA_ERRORS)
    return f"(coalesce(result->>'outcome', '') = 'infra' OR coalesce(result->>'timed_out', '') = 'true' OR {likes})"


def infra_reason(error: str | None, result: dict[str, Any] | None = None) -> str | None:
    """The infrastructure reason of one failed job, or None when it is a code failure."""
    result = result if isinstance(result, dict) else {}
    if result.get("outcome") == "infra":
        return str(result.get("reason") or "infrastructure")
    if result.get("timed_out") is True:
        return "timeout"
    text = error or ""
    for reason, prefix, _ in INFRA_ERRORS:
        if text.startswith(prefix) and (reason != "missing working tree" or "does not exist" in text) \
                and (reason != "runner lost" or "expired" in text):
            return reason
    return None
