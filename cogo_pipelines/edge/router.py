"""router-select: which executor (and, for model-backed work, which provider/model) a job goes to.

Pure logic so that the local edge function, the queue's ``enqueue`` and tests all decide the
same way. Rules are globs on the job type; the highest priority match wins, ties keep table
order, and a type no rule matches goes to the default executor (whose runner then fails it
with a clear "unknown job type" error rather than the job vanishing).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

PLAN_EXECUTOR = "cogo-plan"
WORK_EXECUTOR = "cogo-work"
DEFAULT_EXECUTOR = WORK_EXECUTOR


@dataclass(frozen=True)
class RouteRule:
    pattern: str
    executor_id: str
    provider: str | None = None
    model: str | None = None
    priority: int = 0

    def matches(self, task_type: str) -> bool:
        return fnmatch.fnmatchcase(task_type, self.pattern)


@dataclass(frozen=True)
class RouteDecision:
    executor_id: str
    provider: str | None
    model: str | None
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_RULES: tuple[RouteRule, ...] = (
    RouteRule("plan.*", PLAN_EXECUTOR),
    RouteRule("quality.*", PLAN_EXECUTOR),
    RouteRule("code.*", WORK_EXECUTOR),
)


class RouteError(ValueError):
    """A malformed rule or request; callers turn it into a 4xx / exit 2."""


def rules_from_dicts(items: Iterable[Mapping]) -> list[RouteRule]:
    """Rules from JSON-like dicts ``{"pattern", "executor_id", "provider"?, "model"?, "priority"?}``."""
    rules = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not item.get("pattern") or not item.get("executor_id"):
            raise RouteError(f"rule #{i} needs 'pattern' and 'executor_id': {item!r}")
        try:
            priority = int(item.get("priority", 0))
        except (TypeError, ValueError) as exc:
            raise RouteError(f"rule #{i}: priority must be an integer") from exc
        rules.append(RouteRule(str(item["pattern"]), str(item["executor_id"]),
                               item.get("provider"), item.get("model"), priority))
    return rules


def known_executors(rules: Iterable[RouteRule] | None = None) -> set[str]:
    return {r.executor_id for r in (DEFAULT_RULES if rules is None else rules)} | {DEFAULT_EXECUTOR}


def select_route(task_type: str, hints: dict | None = None, rules: list[RouteRule] | None = None) -> RouteDecision:
    """Pick the route for ``task_type``.

    ``hints`` may pin ``executor_id`` (an explicit caller choice beats the table) and override
    ``provider`` / ``model`` of the matched rule.
    """
    if not isinstance(task_type, str) or not task_type.strip():
        raise RouteError("task type must be a non-empty string")
    hints = dict(hints or {})
    table = list(DEFAULT_RULES if rules is None else rules)
    ranked = sorted(enumerate(table), key=lambda pair: (-pair[1].priority, pair[0]))
    rule = next((r for _, r in ranked if r.matches(task_type)), None)
    if rule is None:
        executor, provider, model = DEFAULT_EXECUTOR, None, None
        reason = f"no rule matches {task_type!r}; default executor"
    else:
        executor, provider, model = rule.executor_id, rule.provider, rule.model
        reason = f"rule {rule.pattern!r} (priority {rule.priority})"
    if hints.get("executor_id"):
        executor = str(hints["executor_id"])
        reason = f"executor pinned by hint; {reason}"
    return RouteDecision(
        executor_id=executor,
        provider=hints.get("provider") or provider,
        model=hints.get("model") or model,
        reason=reason,
    )
