"""``cogo jobs enqueue|list|reap`` and ``cogo runner``: the queue's CLI. Bad input exits 2 with
one line on stderr and leaves the queue untouched."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import NoReturn

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from cogo_pipelines.commands import options
from cogo_pipelines.queue import jobs, validation
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store import db
from cogo_pipelines.store.db import StoreError

jobs_app = typer.Typer(help="Queue jobs and inspect the queue.", no_args_is_help=True)
LIST_FIELDS = ("id", "type", "executor_id", "status", "attempts", "result", "error")
# A lease is written as an interval and a runner heartbeats within it: under a second is not a
# lease, over a week is a job nobody would notice had died.
LEASE_MAX_SECONDS = 7 * 24 * 3600
BATCH_RANGE = (1, 1000)


def _die(message: str) -> NoReturn:
    print(f"cogo: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


@jobs_app.command("enqueue")
def enqueue(
    type: str = typer.Argument(..., help="Job type, e.g. code.build.test or plan.quality",
                               callback=options.name("job type")),
    executor_id: str = typer.Option(None, "--executor-id", help="Executor; unset = router-select decides",
                                    callback=options.name("executor id")),
    payload: str = typer.Option(None, "--payload", help="Payload as a JSON object (at most 1 MB, 100 levels deep)",
                                callback=options.checked(validation.parse_payload)),
    priority: int = typer.Option(0, "--priority", help="Higher runs first (0-1000)",
                                 callback=options.int_range("priority", validation.PRIORITY_RANGE)),
    dedupe_key: str = typer.Option(None, "--dedupe-key", help="An open job with this key is not queued twice",
                                   callback=options.name("dedupe key")),
    max_attempts: int = typer.Option(3, "--max-attempts", help="Lost leases before the job is dead (1-100)",
                                     callback=options.int_range("max attempts", validation.ATTEMPTS_RANGE)),
    as_json: bool = typer.Option(False, "--json", help="Print {id, executor_id} as JSON"),
) -> None:
    """Queue a job; prints its id (or the open duplicate's id)."""
    try:
        body = jobs.parse_payload(payload)
        with db.session() as conn:
            job_id = jobs.enqueue(conn, type, body, executor_id=executor_id, priority=priority,
                                  dedupe_key=dedupe_key, max_attempts=max_attempts)
            row = jobs.get_job(conn, job_id)
    except jobs.QueueError as exc:
        _die(str(exc))
    from cogo_pipelines.pipeline.handlers import unhandled_warning

    warning = unhandled_warning(row["executor_id"], type)
    if warning:
        print(f"cogo jobs enqueue: warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps({"id": job_id, "executor_id": row["executor_id"], "status": row["status"]}))
    else:
        print(job_id)


@jobs_app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="JSON: [{id, type, executor_id, status, attempts, result, error}]"),
    status: str = typer.Option(None, "--status", help="queued | running | succeeded | failed | dead"),
    executor_id: str = typer.Option(None, "--executor-id", callback=options.name("executor id")),
    type: str = typer.Option(None, "--type", callback=options.name("job type")),
    limit: int = typer.Option(200, "--limit", help="The newest N jobs",
                              callback=options.int_range("limit", (1, validation.INT32_MAX))),
) -> None:
    """List jobs, oldest first."""
    try:
        with db.session() as conn:
            rows = jobs.list_jobs(conn, status=status, executor_id=executor_id, type=type, limit=limit)
    except jobs.QueueError as exc:
        _die(str(exc))
    if as_json:
        print(json.dumps([{k: r[k] for k in LIST_FIELDS} for r in rows], default=str))
        return
    table = Table("id", "type", "executor", "status", "attempts", "error")
    for r in rows:
        table.add_row(str(r["id"]), r["type"], r["executor_id"], r["status"], str(r["attempts"]),
                      (r["error"] or "")[:80])
    Console().print(table)


@jobs_app.command("reap")
def reap() -> None:
    """Re-queue jobs whose lease expired (dead after max attempts); runners also do this."""
    with db.session() as conn:
        moved = jobs.reap(conn)
    print(json.dumps({k: len(v) for k, v in moved.items()}))


def runner(
    executor_id: str = typer.Option(None, "--executor-id", help="cogo-plan | cogo-work (default EXECUTOR_ID)",
                                    callback=options.name("executor id")),
    include_types: str = typer.Option(None, "--include-types", help="Comma-separated types/globs (default LIVE_INCLUDE_TYPES)",
                                      callback=options.names("job type")),
    once: bool = typer.Option(False, "--once", help="Process at most one job, then exit"),
    log_file: Path = typer.Option(None, "--log-file", help="Append logs here (default LOG_FILE)"),  # noqa: B008
    log_format: str = typer.Option(None, "--log-format", help="text | json (default LOG_FORMAT)"),
    lease_seconds: float = typer.Option(None, "--lease-seconds", help="Lease length, 1 s to 7 days (default LEASE_SECONDS)",
                                        callback=options.finite("lease seconds", 1, LEASE_MAX_SECONDS)),
    poll_seconds: float = typer.Option(None, "--poll-seconds", help="Slow-poll fallback (default min(5, lease/2))",
                                       callback=options.finite("poll seconds", 0.05, 3600)),
    batch: int = typer.Option(16, "--batch", help="Most jobs claimed per round trip (grows from 1 while jobs are quick; see the runbook)"),
    exit_when_idle: bool = typer.Option(False, "--exit-when-idle", help="Exit when no job is claimable"),
) -> None:
    """Run jobs for one executor until SIGTERM (or one job with --once)."""
    from cogo_pipelines.queue import command_env, logs

    command_env.reexec_without_secrets()  # a command can read /proc/$PPID/environ: hold no secret there
    from cogo_pipelines.pipeline.handlers import handlers_for
    from cogo_pipelines.queue.runner import Runner, RunnerConfig

    settings = get_settings()
    executor = executor_id or settings.executor_id
    if not executor:
        _die("no executor: pass --executor-id or set EXECUTOR_ID")
    types = [t.strip() for t in include_types.split(",") if t.strip()] if include_types else settings.live_include_types
    try:
        logs.configure(log_format or settings.log_format, log_file or settings.log_file, logging.INFO)
        validation.bounded_int(batch, "--batch", BATCH_RANGE)
        lease = lease_seconds if lease_seconds is not None else settings.lease_seconds
        config = RunnerConfig(executor_id=executor, include_types=types,
                              lease_seconds=lease, poll_seconds=poll_seconds,
                              batch=batch, once=once, exit_when_idle=exit_when_idle)
        worker = Runner(config, settings=settings, handlers=handlers_for(executor))
    except (jobs.QueueError, ValueError, OSError) as exc:
        _die(str(exc))
    worker.install_signal_handlers()
    try:
        worker.run()
    except StoreError:
        raise
    except psycopg.Error as exc:
        _die(f"lost the database connection ({str(exc).strip().splitlines()[0] if str(exc).strip() else exc}); "
             f"held jobs return to the queue when their lease expires")


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
    app.command("runner")(runner)
