"""The gate's job-result categories, each named once: what it counts, how a job row falls into it,
and how reports call it.

Counts, the recorded row, the JSON, the gate_fix and every face's summary are built by walking
``CATEGORIES``, so a new category is one ``Category(...)`` line here (plus, for the Supabase
source, its rule as a PostgREST filter, and for a category apart the same rule in Python, which
lists its base without its jobs). Before this table, "flaky" had to be added by hand to two
dataclasses, the recorded row, its reader and both sources.

Three kinds, by ``rule`` and ``apart``:

* a *base* category (``rule`` None: ``succeeded``, ``failed``) holds every job of its status that
  no category ``apart`` took; the two are Q1's terms and ``quality_runs`` columns;
* a category ``apart`` (``infra_failed``) takes its jobs *out* of its status' base: counted and
  listed on their own, never in Q1;
* any other category (``flaky``) *marks* jobs its base still counts, and lists them apart.

The order of the table is the order of the JSON keys (and of the message's clauses); reports
list the marked jobs (what Q1 counted) before the jobs kept out of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cogo_pipelines.quality.outcomes import INFRA_RESULT_KEYS, infra_rest, infra_sql, is_infra


@dataclass(frozen=True)
class Category:
    name: str  # its count: the result's attribute, its JSON key, its quality_runs column or details key
    status: str  # the terminal job status its jobs have
    rule: str | None = None  # db: SQL over a jobs row of that status (``%`` doubled); None: a base category
    rest: tuple[str, str] | None = None  # supabase: a PostgREST ``eq`` filter (column, value)
    rest_any: str | None = None  # supabase: PostgREST ``or`` conditions, any true (neither filter: not read there)
    # supabase, a category apart: its rule in Python over a row's error and result (``reads``: the
    # result keys it needs), so its base's jobs are listed without its own (see supabase_source)
    claims: Callable[[str | None, dict[str, Any]], bool] | None = None
    reads: tuple[str, ...] = ()
    apart: bool = False  # counted instead of its status' base (kept out of Q1), not as well
    jobs: str | None = None  # the key its listed jobs go under; None: counted, not listed
    columns: str = "failure"  # what a listed job is read with: "failure" (its log and error), "rerun" (its runs)
    note: str | None = None  # the gate message's clause when it has jobs, ``{n}`` their count
    summary: str | None = None  # the gate_fix's summary line, ``{n}`` the count
    heading: str | None = None  # the gate_fix section that lists its jobs
    warns: str | None = None  # a pass with such jobs is not clean: it writes a gate_fix and says so (CLI: this)

    @property
    def base(self) -> bool:
        return self.rule is None

    @property
    def rested(self) -> bool:
        """Whether the Supabase source reads it: a base category, or one with a PostgREST filter."""
        return self.base or self.rest is not None or self.rest_any is not None

    @property
    def ids(self) -> str | None:
        """The details key of its job ids in a recorded run (``failing_jobs`` -> ``failing_job_ids``)."""
        return f"{self.jobs.removesuffix('_jobs')}_job_ids" if self.jobs else None


CATEGORIES: tuple[Category, ...] = (
    Category("succeeded", "succeeded"),
    Category("failed", "failed", jobs="failing_jobs"),
    Category("infra_failed", "failed", infra_sql(), rest_any=infra_rest(), claims=is_infra, reads=INFRA_RESULT_KEYS,
             apart=True, jobs="infra_jobs",
             note="{n} infrastructure failure(s) (timeout, missing working tree, runner lost) not counted",
             summary="infrastructure failures (not in Q1): {n}", heading="Infrastructure failures (not counted in Q1)"),
    Category("flaky", "succeeded", "(result->>'flaky') = 'true'", rest=("result->>flaky", "true"), jobs="flaky_jobs",
             columns="rerun", note="{n} flaky (failed, then passed on a rerun; counted as succeeded)",
             heading="Flaky: failed, then passed on a rerun (counted as succeeded)", warns="{n} flaky: passed on a rerun"),
)


def table() -> tuple[Category, ...]:
    """The categories, read at each call (a test may extend the table)."""
    return CATEGORIES


def named(name: str) -> Category:
    return next(c for c in table() if c.name == name)


def statuses() -> tuple[str, ...]:
    """The terminal statuses the gate reads, in table order."""
    return tuple(dict.fromkeys(c.status for c in table()))


def base_of(category: Category) -> Category:
    """The base category of its status (itself for a base one)."""
    return next(c for c in table() if c.base and c.status == category.status)


def sql_condition(category: Category) -> str:
    """The category's full SQL condition over a jobs row: its status, its rule, and for a base
    category "none of the categories apart from it" (a rule that reads a missing key is NULL,
    which ``NOT`` leaves NULL: without the coalesce a row no rule matched fell out of its base)."""
    status = f"status = '{category.status}'"
    if not category.base:
        return f"{status} AND {category.rule}"
    apart = [c.rule for c in table() if c.apart and c.status == category.status]
    return " AND ".join([status, *(f"NOT coalesce({rule}, false)" for rule in apart)])


def report_order() -> list[Category]:
    """Categories with a gate_fix section, as reports list them: what Q1 counted, then what it left out."""
    sectioned = [c for c in table() if c.heading and c.jobs]
    return [c for c in sectioned if not c.apart] + [c for c in sectioned if c.apart]


def keyed(counts: dict[str, int], jobs: dict[str, list[Any]], each: Callable[[Category, list[Any]], Any], *,
          ids: bool = False) -> dict[str, Any]:
    """The per-category keys of a result, its gate_fix and (``ids``: jobs under ``c.ids``) its
    recorded details, in table order: a base category's count is already a column of its own
    (Q1's terms), so only its jobs; any other, its count then its jobs. ``each(category, jobs)``
    gives what its jobs key holds."""
    out: dict[str, Any] = {}
    for c in table():
        if not c.base:
            out[c.name] = counts.get(c.name, 0)
        if c.jobs:
            out[c.ids if ids else c.jobs] = each(c, jobs.get(c.name, []))
    return out


class ByCategory:
    """Counts and listed jobs by category name, read as attributes too: ``result.flaky`` is
    ``counts["flaky"]``, ``result.flaky_jobs`` is ``jobs["flaky"]`` (for a category the table holds)."""

    counts: dict[str, int]
    jobs: dict[str, list[dict[str, Any]]]

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__  # not self.counts: that would recurse before __init__ sets it
        for c in table():
            if name == c.name and "counts" in state:
                return state["counts"].get(name, 0)
            if name == c.jobs and "jobs" in state:
                return state["jobs"].get(c.name, [])
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def warnings(self) -> list[tuple[Category, int]]:
        """The categories whose jobs keep a pass from being clean, with their counts (non-zero only)."""
        return [(c, self.counts.get(c.name, 0)) for c in table() if c.warns and self.counts.get(c.name, 0)]
