"""The Q1 gate as every face runs it: evaluate, and when it fails (or passes with flaky jobs,
which it names), write the gate_fix artifact.

One rule for ``cogo gate q1``, the queue's ``quality.q1`` job and Dagster's ``q1_gate_job``. The
verdict stands even when its artifact cannot be written (a full disk, a store gone mid-run): the
outcome then carries the reason instead of the artifact, and each face says so in its own way.
A gate whose source could not be read (``SourceUnavailable``: Supabase timed out or refused) has
no verdict and still raises (exit 2), carrying the gate_fix that names the source, the error and
what to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from cogo_pipelines.quality.gate import GateResult, SourceUnavailable, evaluate_q1
from cogo_pipelines.quality.gate_fix import gate_fix_for_run, write_gate_fix, write_source_failure


@dataclass
class GateOutcome:
    result: GateResult
    fix: dict[str, Any] | None = None  # the gate_fix row (id, json_path, markdown_path, url)
    fix_error: str | None = None  # why a failed gate has no artifact


def run_q1_gate(conn: psycopg.Connection | None, **options: Any) -> GateOutcome:
    """``evaluate_q1(conn, **options)``, then the artifact of a failure or of flaky jobs (only with
    a store).

    A run reported under its run key (recorded by another face) keeps the gate_fix its recorder
    wrote: one run, one artifact."""
    try:
        result = evaluate_q1(conn, **options)
    except SourceUnavailable as exc:
        if conn is not None and options.get("record", True):
            try:
                exc.fix = write_source_failure(conn, exc)
            except (OSError, psycopg.Error) as err:
                exc.fix_error = f"{type(err).__name__}: {err}"
        raise
    # a dry run writes nothing; a pass writes nothing unless it had flaky jobs (or another category
    # that warns, quality/categories.py), which its artifact names
    if (result.passed and not result.warnings()) or conn is None or not options.get("record", True):
        return GateOutcome(result)
    if result.reported:
        fix = gate_fix_for_run(conn, result.run_id)
        return GateOutcome(result, fix=fix, fix_error=None if fix else (
            f"gate run {result.run_id} (run key {result.run_key!r}) was recorded without a gate_fix"))
    try:
        return GateOutcome(result, fix=write_gate_fix(conn, result))
    except (OSError, psycopg.Error) as exc:
        return GateOutcome(result, fix_error=f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
