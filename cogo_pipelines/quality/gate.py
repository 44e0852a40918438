"""The Q1 gate: succeeded / (succeeded + failed) of quality-relevant jobs in a time window.

The arithmetic and the verdict live here, once; where the job history comes from (SQL on the
store, or Supabase's REST API) is a *source* (``db_source`` / ``supabase_source``) that only
counts jobs and records the run. Only terminal ``succeeded`` / ``failed`` jobs count: ``dead``
jobs are runners that vanished (lease expiry), which says nothing about the code under test;
for the same reason failed jobs that are infrastructure outcomes (``quality/outcomes.py``:
timeout, missing working tree, runner lost) are counted apart, listed, and kept out of Q1.
A *flaky* job (its build failed, then passed when run again: ``payload.reruns``) succeeded and
counts so, but is listed by name with both outcomes, in the message and in a gate_fix even when
the gate passes: a pass that hides a test failing half the time is not a clean pass. These
categories (their counts, rules and labels) are named once, in ``quality/categories.py``.

One gate run is one ``quality_runs`` row, one point of the Q1 trend. Faces that judge the same run
(the queue's ``quality.q1`` job of a plan, then Dagster's ``q1_gate_job`` showing it) share a *run
key*: the first evaluation under a key records the row, a later one reports that row.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import psycopg

from cogo_pipelines.quality import categories
from cogo_pipelines.quality.categories import ByCategory
from cogo_pipelines.settings import get_settings

SOURCES = ("db", "supabase")
FAILING_JOBS_LIMIT = 20
MAX_RUN_KEY_CHARS = 200
ERROR_TAIL_CHARS = 4000
LOG_TAIL_CHARS = 64 * 1024


class GateError(ValueError):
    """The gate could not be evaluated (bad input or unreachable source): exit code 2, not 1."""


class SourceUnavailable(GateError):
    """The job history could not be read: a source timed out, refused, or answered an error.

    The gate then has no verdict (exit 2: not a failing build, and never a pass), and says which
    source, what went wrong and what to check, in one line; where a store is at hand the same
    reason becomes the run's gate_fix (``pipeline/gate``), so the CI log and the artifact name it
    instead of a traceback. ``fix`` / ``fix_error``: that artifact, or why it was not written."""

    def __init__(self, source: str, error: str, check: str) -> None:
        self.source, self.error, self.check = source, error, check
        self.query: GateQuery | None = None  # what was being read, set by evaluate_q1
        self.threshold: float | None = None
        self.fix: dict[str, Any] | None = None
        self.fix_error: str | None = None
        super().__init__(f"{source} source failed: {error} (check: {check})")

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "error": self.error, "check": self.check}


@dataclass(frozen=True)
class GateQuery:
    """Which jobs count: types, the [window_start, window_end] range of finished_at, a target."""

    job_types: tuple[str, ...]
    window_start: datetime
    window_end: datetime
    target: str | None = None
    failing_limit: int = FAILING_JOBS_LIMIT

    @classmethod
    def build(cls, *, window_days: float, job_types: list[str] | tuple[str, ...], target: str | None = None,
              now: datetime | None = None) -> GateQuery:
        if not isinstance(window_days, (int, float)) or not math.isfinite(window_days) or window_days <= 0:
            raise GateError(f"window must be a positive number of days, got {window_days!r}")
        types = tuple(t.strip() for t in job_types if t and t.strip())
        if not types:
            raise GateError("no job types to evaluate (Q1_JOB_TYPES is empty)")
        end = now or datetime.now(UTC)
        return cls(job_types=types, window_start=end - timedelta(days=window_days), window_end=end, target=target)


@dataclass
class JobCounts(ByCategory):
    """What a source read: a count per category of ``quality/categories.py`` (``counts.flaky``),
    and the jobs of the listed ones by category name (``counts.flaky_jobs``)."""

    counts: dict[str, int]
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class JobSource(Protocol):
    name: str

    def count_jobs(self, query: GateQuery) -> JobCounts: ...

    def record_run(self, row: dict[str, Any]) -> int | None: ...

    # the run recorded under a run key; only the db source has it (evaluate_q1 refuses a key elsewhere)
    def recorded_run(self, run_key: str) -> dict[str, Any] | None: ...


@dataclass
class GateResult(ByCategory):
    """A verdict; its counts and listed jobs by category (``result.failed``, ``result.failing_jobs``)."""

    score: float | None
    threshold: float
    passed: bool
    counts: dict[str, int]
    message: str
    run_id: int | None
    source: str = "db"
    window_start: datetime | None = None
    window_end: datetime | None = None
    job_types: list[str] = field(default_factory=list)
    target: str | None = None
    allow_empty: bool = False
    jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notify: bool = True  # False: a reproduction (``cogo gate q1`` without --notify); alerts skip the run
    run_key: str | None = None  # names the gate run: one row per key, whoever evaluates it
    reported: bool = False  # True: the run was recorded earlier under run_key; nothing was evaluated now

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def empty(self) -> bool:
        return self.total == 0

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON: Q1's terms after the verdict, each other category's count and
        every listed category's jobs after the query, in table order."""
        return {
            "score": self.score, "threshold": self.threshold, "passed": self.passed,
            **{c.name: self.counts.get(c.name, 0) for c in categories.table() if c.base},
            "message": self.message, "run_id": self.run_id, "source": self.source,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "job_types": list(self.job_types), "target": self.target, "allow_empty": self.allow_empty,
            **categories.keyed(self.counts, self.jobs, lambda _, jobs: [jsonable(job) for job in jobs]),
            "notify": self.notify, "run_key": self.run_key, "reported": self.reported, "total": self.total,
        }


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def validate_threshold(threshold: float) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise GateError(f"threshold must be a number between 0 and 1, got {threshold!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise GateError(f"threshold must be between 0 and 1, got {threshold!r}")
    return value


def q1_score(succeeded: int, failed: int) -> float | None:
    """None when nothing ran: an empty window has no rate, and 0 would read as "all failed"."""
    total = succeeded + failed
    return succeeded / total if total else None


def judge(succeeded: int, failed: int, threshold: float, allow_empty: bool) -> tuple[float | None, bool, str]:
    """Score, verdict and the one-line reason, shared by every source."""
    score = q1_score(succeeded, failed)
    if score is None:
        if allow_empty:
            return None, True, "no quality jobs finished in the window; passing because empty windows are allowed"
        return None, False, ("no quality jobs finished in the window: nothing to measure "
                             "(run builds/tests first, widen the window, or pass --allow-empty)")
    verdict = "PASS" if score >= threshold else "FAIL"
    relation = ">=" if score >= threshold else "<"
    message = f"{verdict}: Q1 {score:.3f} {relation} threshold {threshold:.2f} ({succeeded} succeeded, {failed} failed)"
    return score, score >= threshold, message


def run_row(result: GateResult) -> dict[str, Any]:
    """The quality_runs row of a result (both sources write the same columns)."""
    return {
        "gate": "q1",
        "source": result.source,
        "score": result.score,
        "threshold": result.threshold,
        "passed": result.passed,
        "succeeded": result.succeeded,
        "failed": result.failed,
        "window_start": result.window_start.isoformat() if result.window_start else None,
        "window_end": result.window_end.isoformat() if result.window_end else None,
        "details": {
            "job_types": list(result.job_types),
            "target": result.target,
            "allow_empty": result.allow_empty,
            "empty": result.empty,
            "message": result.message,
            **categories.keyed(result.counts, result.jobs, lambda _, jobs: [job.get("id") for job in jobs], ids=True),
            "notify": result.notify,
            **({"run_key": result.run_key} if result.run_key is not None else {}),
        },
    }


def recorded_result(row: dict[str, Any]) -> GateResult:
    """The verdict of a recorded run, as its recorder returned it (failing jobs by id only: the
    details are in the run's gate_fix)."""
    details = row.get("details") or {}
    score = row["score"]
    message = details.get("message") or judge(row["succeeded"], row["failed"], row["threshold"],
                                              bool(details.get("allow_empty")))[2]
    return GateResult(  # score and threshold are stored as real: 6 digits are what they hold
        score=round(float(score), 6) if score is not None else None, threshold=round(float(row["threshold"]), 6),
        passed=row["passed"],
        # Q1's terms are columns; every other count is a details key, listed jobs their ids there
        counts={c.name: row[c.name] if c.base else details.get(c.name) or 0 for c in categories.table()},
        message=message, run_id=row["id"],
        source=row.get("source") or "db", window_start=row.get("window_start"), window_end=row.get("window_end"),
        job_types=list(details.get("job_types") or []), target=details.get("target"),
        allow_empty=bool(details.get("allow_empty")),
        jobs={c.name: [{"id": i} for i in details.get(c.ids) or []] for c in categories.table() if c.ids},
        notify=details.get("notify", True) is not False, run_key=details.get("run_key"), reported=True,
    )


def validate_run_key(run_key: Any) -> str | None:
    if run_key is None:
        return None
    if not isinstance(run_key, str) or not run_key.strip() or len(run_key) > MAX_RUN_KEY_CHARS \
            or not run_key.isprintable():
        raise GateError(f"run key must be printable text of 1-{MAX_RUN_KEY_CHARS} characters, got {run_key!r:.80}")
    return run_key.strip()


def open_source(source: str, conn: psycopg.Connection | None) -> JobSource:
    if source == "db":
        if conn is None:
            raise GateError("the db source needs a database connection")
        from cogo_pipelines.quality.db_source import DbJobSource

        return DbJobSource(conn)
    if source == "supabase":
        from cogo_pipelines.quality.supabase_source import SupabaseJobSource

        return SupabaseJobSource.from_settings()
    raise GateError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")


def evaluate_q1(
    conn: psycopg.Connection | None,
    *,
    threshold: float | None = None,
    window_days: float | None = None,
    job_types: list[str] | None = None,
    allow_empty: bool = False,
    source: str = "db",
    target: str | None = None,
    now: datetime | None = None,
    notify: bool = True,
    run_key: str | None = None,
    record: bool = True,
) -> GateResult:
    """Evaluate Q1 and record it as a quality_runs row (in the store, or in Supabase for that source;
    ``record=False``: a dry run, nothing written, ``run_id`` None).

    Unset arguments come from settings (Q1_THRESHOLD, Q1_WINDOW_DAYS, Q1_JOB_TYPES). With the db
    source the reads and the row share ``conn.transaction()``: committed when ``conn`` was idle,
    a savepoint inside the caller's transaction otherwise.

    With ``run_key`` (db source only: the store keeps the keys), a run already recorded under the
    key is reported (``reported``), whatever the other arguments, and nothing is recorded again:
    one gate run, one point of the trend, however many faces show it.
    """
    run_key = validate_run_key(run_key)
    if run_key is not None and source != "db":
        raise GateError(f"a run key needs the db source (the store keeps the keys), not {source!r}")
    settings = get_settings()
    threshold = validate_threshold(settings.q1_threshold if threshold is None else threshold)
    query = GateQuery.build(
        window_days=settings.q1_window_days if window_days is None else window_days,
        job_types=job_types if job_types is not None else settings.q1_job_types,
        target=target,
        now=now,
    )
    job_source = open_source(source, conn)
    try:
        with conn.transaction() if conn is not None else nullcontext():
            if run_key is not None and (recorded := job_source.recorded_run(run_key)) is not None:
                return recorded_result(recorded)
            result = _decide(job_source, query, threshold, allow_empty, target)
            result.notify, result.run_key = notify, run_key
            if not record:
                return result
            result.run_id = job_source.record_run(run_row(result))
            if result.run_id is None and run_key is not None:  # another face recorded the key meanwhile
                recorded = job_source.recorded_run(run_key)
                if recorded is not None:
                    return recorded_result(recorded)
    except SourceUnavailable as exc:  # what was asked, for the artifact that reports it
        exc.query, exc.threshold = query, threshold
        raise
    return result


def _decide(job_source: JobSource, query: GateQuery, threshold: float, allow_empty: bool,
            target: str | None) -> GateResult:
    counts = job_source.count_jobs(query)
    score, passed, message = judge(counts.succeeded, counts.failed, threshold, allow_empty)
    for category in categories.table():
        if category.note and counts.counts.get(category.name):
            message = f"{message}; {category.note.format(n=counts.counts[category.name])}"
    if target:
        message = f"[{target}] {message}"
    return GateResult(
        score=score, threshold=threshold, passed=passed, counts=dict(counts.counts), message=message, run_id=None,
        source=job_source.name, window_start=query.window_start, window_end=query.window_end,
        job_types=list(query.job_types), target=target, allow_empty=allow_empty, jobs=dict(counts.jobs),
    )


def measure_q1(conn: psycopg.Connection, *, window_days: float | None = None, job_types: list[str] | None = None,
               now: datetime | None = None) -> dict[str, Any]:
    """Q1 over a window without recording a gate run (snapshots and trends are readings, not gates)."""
    from cogo_pipelines.quality.db_source import DbJobSource

    settings = get_settings()
    query = GateQuery.build(
        window_days=settings.q1_window_days if window_days is None else window_days,
        job_types=job_types if job_types is not None else settings.q1_job_types,
        now=now,
    )
    counts = DbJobSource(conn).count_jobs(query, with_failing=False)
    return {
        "score": q1_score(counts.succeeded, counts.failed),
        "succeeded": counts.succeeded,
        "failed": counts.failed,
        "window_start": query.window_start.isoformat(),
        "window_end": query.window_end.isoformat(),
        "job_types": list(query.job_types),
    }
