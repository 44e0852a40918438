"""Quality in Dagster: the Q1 gate job, nightly snapshot, weekly plan and summary, failure alerts.

Thin wiring over ``cogo_pipelines.pipeline.gate`` and ``cogo_pipelines.quality``. ``q1_gate_job``
raises ``dg.Failure`` on a failed gate so ``dagster job execute -m cogo_pipelines.definitions -j
q1_gate_job`` exits non-zero in CI. That exit is 1 whatever failed the run, so the failure's
description starts with which it was, as ``cogo gate q1`` tells them apart by exit code (1 or 2):
``Q1 gate failed:`` for the gate's verdict (Q1 below the threshold, or no data: DESIGN §5),
``Q1 gate not evaluated:`` for a gate that could not be computed (bad config, store unreachable,
a broken job history); ``.ci/gate-verdict`` turns them back into exit codes 1 and 2.

Their schedules and sensor are in ``schedules.py`` and ``sensors.py`` next to this module; they
start STOPPED (Dagster's default) unless ``COGO_SCHEDULES_RUNNING=1``: loading the definitions
on a laptop must not start posting alerts or queueing builds.
"""

from contextlib import nullcontext

import dagster as dg
import psycopg

from cogo_pipelines.defs.shared.resources import PostgresResource
from cogo_pipelines.pipeline.gate import run_q1_gate
from cogo_pipelines.quality import categories, gate, notify, snapshot, weekly
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store.db import StoreError


class Q1GateConfig(dg.Config):
    threshold: float | None = None
    allow_empty: bool = False
    window_days: float | None = None
    source: str = "db"
    target: str | None = None
    # names the gate run: a run already recorded under it (the queue's quality.q1 job of plan N
    # keys its run "plan:N") is reported, not evaluated and recorded a second time
    run_key: str | None = None


FAILED = "Q1 gate failed"  # the gate's verdict: `cogo gate q1` exits 1
NOT_EVALUATED = "Q1 gate not evaluated"  # no verdict, an error: `cogo gate q1` exits 2


def _not_evaluated(reason: str) -> dg.Failure:
    """One line that says what is missing; no quality run was recorded, no gate_fix written."""
    return dg.Failure(description=f"{NOT_EVALUATED}: {reason}", metadata={"outcome": "error"})


@dg.op(description="Evaluate Q1 (or report the gate run recorded under run_key); on failure write a gate_fix "
       "artifact (or link the recorded one) and fail the run.")
def q1_gate(context: dg.OpExecutionContext, config: Q1GateConfig, postgres: PostgresResource) -> dg.Output[dict]:
    try:
        conn = postgres.connect() if config.source == "db" or get_settings().database_url else None
    except StoreError as exc:
        raise _not_evaluated(str(exc)) from None
    with conn if conn is not None else nullcontext():
        try:
            outcome = run_q1_gate(conn, threshold=config.threshold, window_days=config.window_days,
                                  allow_empty=config.allow_empty, source=config.source, target=config.target,
                                  run_key=config.run_key)
        except gate.GateError as exc:
            fix = getattr(exc, "fix", None)  # a failed source's gate_fix: the reason, for people
            failure = _not_evaluated(str(exc) + (
                f"; gate_fix {fix['id']} at {fix['markdown_path']} ({fix['url']})" if fix else ""))
            if fix:
                failure.metadata.update(gate_fix_id=dg.MetadataValue.text(fix["id"]),
                                        gate_fix_url=dg.MetadataValue.url(fix["url"]))
            raise failure from None
        except psycopg.Error as exc:  # the store answered, but not with a job history (a table gone, no rights)
            detail = (str(exc).strip().splitlines() or [""])[0]
            raise _not_evaluated(f"database error while evaluating the gate: {type(exc).__name__}: {detail}") from None
    result, fix = outcome.result, outcome.fix
    context.log.info(result.message)
    if result.reported:
        context.log.info(f"reported gate run {result.run_id}, recorded under run key {result.run_key!r}: "
                         "not evaluated again")
    metadata = _gate_metadata(result)
    if fix:
        metadata.update(gate_fix_id=fix["id"], gate_fix=dg.MetadataValue.path(fix["markdown_path"]),
                        gate_fix_url=dg.MetadataValue.url(fix["url"]))
    if outcome.fix_error:
        context.log.warning(f"gate_fix artifact not written: {outcome.fix_error}")
    if result.passed:
        if fix:  # passed with flaky jobs (or another category that warns): named in the artifact
            jobs = ", ".join(f"{n} {category.name} job(s)" for category, n in result.warnings())
            context.log.warning(f"{jobs}: gate_fix {fix['id']} at {fix['markdown_path']}")
        return dg.Output(result.as_dict(), metadata=metadata)
    metadata["outcome"] = "failed"
    description = f"{FAILED}: {result.message}"
    if outcome.fix_error:
        description += f"; no gate_fix artifact: {outcome.fix_error}"
    if fix:
        # in the console too: a CI log shows the failure's description, not the step's metadata
        description += f"; what to fix: gate_fix {fix['id']} at {fix['markdown_path']} ({fix['url']})"
        context.log.error(f"gate_fix {fix['id']}: {fix['markdown_path']} ({fix['url']}): the failing jobs, "
                          "their first error lines and the code they point at")
    raise dg.Failure(description=description, metadata=metadata)


def _gate_metadata(result: gate.GateResult) -> dict:
    return {
        "score": dg.MetadataValue.float(result.score) if result.score is not None else dg.MetadataValue.null(),
        "threshold": result.threshold,
        "succeeded": result.succeeded,
        "failed": result.failed,
        **{c.name: result.counts.get(c.name, 0) for c in categories.table() if c.warns},
        "passed": result.passed,
        "quality_run_id": result.run_id if result.run_id is not None else dg.MetadataValue.null(),
        "run_key": result.run_key if result.run_key is not None else dg.MetadataValue.null(),
        "reported": result.reported,
        "source": result.source,
        "message": result.message,
    }


@dg.job(description="The Q1 quality gate (fails when Q1 < threshold or no data).", tags={"cogo/area": "quality"})
def q1_gate_job():
    q1_gate()


@dg.op(description="Store Q1, queue stats and index sizes as a snapshots row.")
def nightly_snapshot(postgres: PostgresResource) -> dg.Output[dict]:
    with postgres.connect() as conn:
        snap = snapshot.take_snapshot(conn, kind="nightly")
    index = snap["content"]["index"]
    return dg.Output(snap, metadata={
        "snapshot_id": snap["id"],
        "q1": dg.MetadataValue.float(snap["q1"]) if snap["q1"] is not None else dg.MetadataValue.null(),
        **{f"index_{key}": value for key, value in index.items()},
        "queue": dg.MetadataValue.json(snap["content"]["queue"]),
    })


@dg.job(tags={"cogo/area": "quality"})
def nightly_snapshot_job():
    nightly_snapshot()


class WeeklyQueueConfig(dg.Config):
    week: str | None = None  # ISO week like 2025-W03; unset = the current week


@dg.op(description="Queue the week's plan.quality job for QUALITY_TARGETS (once per ISO week).")
def weekly_queue(context: dg.OpExecutionContext, config: WeeklyQueueConfig, postgres: PostgresResource) -> dg.Output[dict]:
    with postgres.connect() as conn:
        outcome = weekly.enqueue_weekly(conn, week=config.week)
    context.log.info(f"{'queued' if outcome['created'] else 'already queued'} job {outcome['job_id']} "
                     f"for {outcome['week']}")
    return dg.Output(outcome, metadata={"job_id": outcome["job_id"], "created": outcome["created"],
                                        "week": outcome["week"], "targets": ", ".join(outcome["targets"])})


@dg.job(tags={"cogo/area": "quality"})
def weekly_queue_job():
    weekly_queue()


class WeeklySummaryConfig(dg.Config):
    dry_run: bool = False


@dg.op(description="Build the weekly summary and post it to NOTIFY_WEBHOOK_URL.")
def weekly_summary(context: dg.OpExecutionContext, config: WeeklySummaryConfig,
                   postgres: PostgresResource) -> dg.Output[dict]:
    with postgres.connect() as conn:
        if config.dry_run:
            payload = notify.weekly_summary(conn)
            return dg.Output(payload, metadata={"text": payload["text"], "delivered": False})
        row = notify.send_weekly_summary(conn)
    if row["status"] == "failed":
        raise dg.Failure(description=f"weekly summary not delivered: {row['error']}",
                         metadata={"notification_id": row["id"], "attempts": row["attempts"]})
    context.log.info(f"weekly summary {row['status']} (notification {row['id']})")
    return dg.Output(row, metadata={"notification_id": row["id"], "status": row["status"], "attempts": row["attempts"]})


@dg.job(tags={"cogo/area": "quality"})
def weekly_summary_job():
    weekly_summary()


class GateFailureConfig(dg.Config):
    quality_run_id: int


@dg.op(description="Alert the webhook about one failed Q1 gate run.")
def notify_gate_failure(config: GateFailureConfig, postgres: PostgresResource) -> dg.Output[dict]:
    with postgres.connect() as conn:
        row = notify.notify_gate_failure(conn, config.quality_run_id)
    if row["status"] == "failed":
        raise dg.Failure(description=f"gate failure alert not delivered: {row['error']}")
    return dg.Output(row, metadata={"notification_id": row["id"], "status": row["status"]})


@dg.job(tags={"cogo/area": "quality"})
def gate_failure_notify_job():
    notify_gate_failure()


defs = dg.Definitions(
    jobs=[q1_gate_job, nightly_snapshot_job, weekly_queue_job, weekly_summary_job, gate_failure_notify_job],
)
