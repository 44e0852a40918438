"""``cogo gate q1``, ``cogo snapshot``, ``cogo notify weekly``: argument parsing and display only.

Exit codes of the gate are a CI contract: 0 pass, 1 fail, 2 could not evaluate (bad threshold,
unreachable store or Supabase).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from cogo_pipelines.commands import options
from cogo_pipelines.quality.gate import SOURCES, GateError, GateResult, validate_threshold
from cogo_pipelines.settings import get_settings
from cogo_pipelines.store.db import StoreError

console = Console()
errors = Console(stderr=True, soft_wrap=True)
MAX_WINDOW_DAYS = 36500  # a century: further back than any job, and inside what a date can hold


def _fail(message: str, code: int = 2) -> None:
    errors.print(f"cogo: error: {message}", markup=False, highlight=False)
    raise typer.Exit(code)


def _connect(required: bool) -> psycopg.Connection | None:
    from cogo_pipelines.store import db

    if not required and not get_settings().database_url:
        return None
    try:
        return db.connect()
    except StoreError as exc:
        if required:
            _fail(str(exc))
        errors.print(f"cogo: warning: no store for the gate_fix artifact: {exc}", markup=False)
        return None


def _score(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "n/a"


def gate_table(result: GateResult) -> Table:
    """One fact per row, so it stays readable in a narrow CI log."""
    table = Table(title="Q1 gate", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    verdict = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
    rows = [
        ("result", verdict),
        ("Q1", f"{_score(result.score)}  (threshold {result.threshold:.2f})"),
        ("jobs", f"{result.succeeded} succeeded, {result.failed} failed"
                 + "".join(f" ({category.warns.format(n=n)})" for category, n in result.warnings())),
        ("window", f"{result.window_start:%Y-%m-%d %H:%M} .. {result.window_end:%Y-%m-%d %H:%M} UTC"),
        ("job types", ", ".join(result.job_types) + (f" (target {result.target})" if result.target else "")),
        ("source", f"{result.source}, quality run {result.run_id}"),
    ]
    for field, value in rows:
        table.add_row(field, value)
    return table


def gate_q1(
    threshold: float | None = typer.Option(None, help="Pass when Q1 >= this (0..1); default Q1_THRESHOLD"),
    source: str = typer.Option("db", help="db: SQL on the store; supabase: REST with SUPABASE_URL"),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Pass when no quality job finished"),
    window_days: float | None = typer.Option(None, "--window-days", help="Days of history, at most 36500; default Q1_WINDOW_DAYS",
                                             callback=options.finite("window days", 0, MAX_WINDOW_DAYS, above=True)),
    job_type: Annotated[list[str] | None, typer.Option("--job-type", help="Job types counted; default Q1_JOB_TYPES",
                                                       callback=options.names("job type"))] = None,
    target: str | None = typer.Option(None, help="Only jobs whose payload target is this"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
    notify: bool = typer.Option(False, "--notify", help="Alert NOTIFY_WEBHOOK_URL on failure (once per failure); "
                                "without it the run is a reproduction the alert sensor skips"),
    run_key: str | None = typer.Option(None, "--run-key", help="Names the gate run (e.g. plan:<id>, a CI run id): "
                                       "a run recorded under it is reported, not scored again (one point per run)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Score and print only: no gate run recorded (the Q1 "
                                 "trend and dashboard keep their last verdict), no gate_fix, no alert"),
) -> None:
    """Evaluate the Q1 gate: exit 0 pass, 1 fail, 2 error; a failure writes a gate_fix artifact."""
    from cogo_pipelines.pipeline.gate import run_q1_gate

    if source not in SOURCES:
        _fail(f"--source must be one of {', '.join(SOURCES)}, got {source!r}")
    try:
        if threshold is not None:
            validate_threshold(threshold)
        conn = _connect(required=source == "db")
        outcome = run_q1_gate(conn, threshold=threshold, window_days=window_days, job_types=job_type or None,
                              allow_empty=allow_empty, source=source, target=target, notify=notify and not dry_run,
                              run_key=run_key, record=not dry_run)
    except (GateError, StoreError) as exc:
        # a source that failed is named in its gate_fix too (or why that could not be written)
        fix, fix_error = getattr(exc, "fix", None), getattr(exc, "fix_error", None)
        _fail(str(exc) + (f"; gate_fix {fix['id']}: {fix['markdown_path']}" if fix else "")
              + (f"; gate_fix not written: {fix_error}" if fix_error else ""))
    except psycopg.Error as exc:
        _fail(f"database error while evaluating the gate: {type(exc).__name__}: {exc}")
    result, fix = outcome.result, outcome.fix
    if outcome.fix_error:  # the verdict stands even when its artifact cannot be written
        errors.print(f"cogo: warning: gate_fix artifact not written: {outcome.fix_error}", markup=False)
    alert = _alert(conn, result) if notify and not dry_run and not result.passed else None
    if as_json:
        out: dict[str, Any] = result.as_dict()
        out["gate_fix"] = {k: fix[k] for k in ("id", "json_path", "markdown_path", "url")} if fix else None
        out["notification"] = alert
        print(json.dumps(out, indent=2))
    else:
        console.print(gate_table(result))
        console.print(result.message, markup=False, highlight=False)
        if result.reported:
            console.print(f"reported quality run {result.run_id}, recorded under run key {result.run_key!r}",
                          markup=False, highlight=False)
        elif dry_run:
            console.print("dry run: nothing recorded", markup=False, highlight=False)
        if fix:
            console.print(f"gate_fix {fix['id']}: {fix['markdown_path']}", markup=False, highlight=False)
        if alert:
            console.print(f"alert: {alert['status']} (notification {alert['id']})", markup=False, highlight=False)
    if conn is not None:
        conn.close()
    raise typer.Exit(0 if result.passed else 1)


def _alert(conn: psycopg.Connection | None, result: GateResult) -> dict[str, Any] | None:
    if conn is None or result.run_id is None or result.source != "db":
        return None
    from cogo_pipelines.quality.notify import notify_gate_failure

    try:
        return notify_gate_failure(conn, result.run_id)
    except psycopg.Error as exc:  # the verdict stands even when the alert cannot be recorded
        errors.print(f"cogo: warning: alert not sent: {exc}", markup=False)
        return None


def snapshot(as_json: bool = typer.Option(False, "--json", help="Print the snapshot as JSON")) -> None:
    """Store a snapshot row: Q1, queue stats by executor/status, index sizes."""
    from cogo_pipelines.quality.snapshot import take_snapshot

    conn = _connect(required=True)
    with conn:
        snap = take_snapshot(conn, kind="manual")
    if as_json:
        print(json.dumps(snap, indent=2, default=str))
        return
    content = snap["content"]
    table = Table(title=f"snapshot {snap['id']}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("Q1", _score(snap["q1"]))
    for name, value in content["index"].items():
        table.add_row(f"index {name}", str(value))
    for row in content["queue"]:
        table.add_row(f"jobs {row['executor_id']}/{row['status']}", str(row["count"]))
    console.print(table)


def notify_weekly(dry_run: bool = typer.Option(False, "--dry-run", help="Print the payload, send nothing")) -> None:
    """Build the weekly summary and deliver it to NOTIFY_WEBHOOK_URL (exit 1 when delivery failed)."""
    from cogo_pipelines.quality.notify import deliver, weekly_summary

    conn = _connect(required=True)
    with conn:
        payload = weekly_summary(conn)
        if dry_run:
            print(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        row = deliver(conn, payload, kind="weekly_summary")
    print(json.dumps(row, indent=2), file=sys.stdout)
    if row["status"] == "failed":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    gate = typer.Typer(help="Quality gates.", no_args_is_help=True)
    gate.command("q1")(gate_q1)
    app.add_typer(gate, name="gate")
    app.command("snapshot")(snapshot)
    notify = typer.Typer(help="Notifications.", no_args_is_help=True)
    notify.command("weekly")(notify_weekly)
    app.add_typer(notify, name="notify")
