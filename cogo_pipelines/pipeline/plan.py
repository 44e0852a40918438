"""cogo-plan handlers: decide and enqueue work, never build.

``plan.quality`` payload ``{"targets": [...], "command": "npm test", "timeout_s": N, "reruns": N,
"threshold": 0.7}``; a target is a path or ``{"cwd", "command"?, "timeout_s"?, "reruns"?}`` (``reruns``:
a failing build is run again that many times, and one that then passes is reported as flaky). It enqueues
one ``code.build.test`` per target and a ``quality.q1`` job that depends on all of them, so
the gate is evaluated only once the builds have finished. The gate run is keyed ``plan:<id>``
(or the payload's ``run_key``), so Dagster's ``q1_gate_job`` can show that run, not a second one.
"""

from __future__ import annotations

import psycopg

from cogo_pipelines.pipeline.gate import run_q1_gate
from cogo_pipelines.quality import categories
from cogo_pipelines.quality.gate import GateError, validate_run_key
from cogo_pipelines.queue import jobs
from cogo_pipelines.queue.handlers import Handler, JobContext, JobFailed

DEFAULT_COMMAND = "npm test"


def _targets(ctx: JobContext) -> list[dict]:
    raw = ctx.payload.get("targets", ctx.settings.quality_targets)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise JobFailed(f"plan.quality needs payload.targets (a non-empty list), got {raw!r}")
    out = []
    for item in raw:
        target = {"cwd": item} if isinstance(item, str) else item
        if not isinstance(target, dict) or not isinstance(target.get("cwd"), str) or not target["cwd"]:
            raise JobFailed(f"plan.quality target must be a path or an object with 'cwd', got {item!r}")
        out.append(target)
    return out


def plan_quality(ctx: JobContext) -> dict:
    payload = ctx.payload
    builds = []
    targets, skipped, impact_report = _impact(ctx, _targets(ctx))
    for i, target in enumerate(targets):
        build_payload = {
            "command": target.get("command", payload.get("command", DEFAULT_COMMAND)),
            "cwd": target["cwd"],
            "target": target.get("target", target["cwd"]),
            "plan_job_id": ctx.job.id,
        }
        commit = target.get("commit", payload.get("commit"))
        if commit is not None:
            build_payload["commit"] = commit
        for name in ("timeout_s", "reruns"):
            value = target.get(name, payload.get(name))
            if value is not None:
                build_payload[name] = value
        builds.append(jobs.enqueue(ctx.conn, "code.build.test", build_payload, priority=ctx.job.priority,
                                   dedupe_key=f"plan:{ctx.job.id}:build:{i}"))
    gate_payload = {k: payload[k] for k in ("threshold", "window_days", "job_types", "allow_empty") if k in payload}
    # the plan names its gate run: whoever shows it later (q1_gate_job with this run_key) reports
    # this run instead of recording a second point
    try:
        run_key = validate_run_key(payload.get("run_key")) or f"plan:{ctx.job.id}"
    except GateError as exc:
        raise JobFailed(f"plan.quality {exc}") from None
    gate_payload.update(plan_job_id=ctx.job.id, build_job_ids=builds, run_key=run_key)
    gate = jobs.enqueue(ctx.conn, "quality.q1", gate_payload, priority=ctx.job.priority,
                        dedupe_key=f"plan:{ctx.job.id}:q1", depends_on=builds)
    outcome = {"build_job_ids": builds, "q1_job_id": gate}
    if impact_report is not None:
        outcome.update(skipped_targets=len(skipped), skipped=[t["cwd"] for t in skipped], impact=impact_report)
    return outcome


def _impact(ctx: JobContext, targets: list[dict]) -> tuple[list[dict], list[dict], dict | None]:
    """With ``payload.change`` (``{"diff": "..."}`` or ``{"files": [...]}``) and no ``full``: only the
    targets whose tests reach the changed symbols (``quality/impact.py``); otherwise all of them."""
    change = ctx.payload.get("change")
    if not change or ctx.payload.get("full"):
        return targets, [], None
    from pathlib import Path

    from cogo_pipelines.indexing.sources import repo_id
    from cogo_pipelines.quality import impact
    from cogo_pipelines.store import graph_store

    if isinstance(change, dict) and isinstance(change.get("diff"), str):
        parsed = impact.Change.from_diff(change["diff"])
    elif isinstance(change, dict) and isinstance(change.get("files"), list):
        parsed = impact.Change.from_files([str(f) for f in change["files"]])
    else:
        raise JobFailed("plan.quality change must be {\"diff\": \"...\"} or {\"files\": [...]}")
    indexed = graph_store.graphed_repos(ctx.conn)

    def repo_of(target: dict) -> str | None:
        name = target.get("repo") or repo_id(Path(target["cwd"]))
        return name if name in indexed else None

    return impact.select_targets(ctx.conn, targets, parsed, repo_of)


def quality_q1(ctx: JobContext) -> dict:
    """The gate as a job: a failed gate fails the job and writes the same gate_fix as ``cogo gate q1``
    (``pipeline/gate.run_q1_gate``, the one rule of every face)."""
    options = {k: ctx.payload[k] for k in ("threshold", "window_days", "job_types", "allow_empty", "target",
                                           "run_key") if k in ctx.payload}
    outcome = run_q1_gate(ctx.conn, **options, notify=ctx.payload.get("notify", True) is not False)
    verdict, fix = outcome.result, outcome.fix
    result = {"score": verdict.score, "threshold": verdict.threshold, "passed": verdict.passed,
              **{c.name: verdict.counts.get(c.name, 0) for c in categories.table()},
              "message": verdict.message, "run_id": verdict.run_id, "run_key": verdict.run_key}
    result["build_job_ids"] = ctx.payload.get("build_job_ids", [])
    if verdict.passed:
        if fix is not None:  # passed with flaky builds, named in the artifact
            result.update(gate_fix_id=fix["id"], gate_fix_url=fix["url"])
        return result
    if ctx.conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
        ctx.conn.commit()  # the run and its gate_fix stand; only the job's status says "failed"
    if fix is None:
        raise JobFailed(f"{verdict.message} (gate_fix not written: {outcome.fix_error})", result)
    result.update(gate_fix_id=fix["id"], gate_fix_url=fix["url"])
    raise JobFailed(f"{verdict.message} (gate_fix {fix['id']}: {fix['url']})", result)


HANDLERS = {
    "plan.quality": Handler(plan_quality, transactional=True),
    "quality.q1": Handler(quality_q1),
}
