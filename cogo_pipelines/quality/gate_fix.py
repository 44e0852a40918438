"""gate_fix artifacts: what to look at when the Q1 gate fails.

For each failing job: the failing tests / compiler errors read from its build log
(``build_log``), an excerpt, and code locations ranked by ``locate.GraphLocator`` (stack frames in
the repo's code, then the graph, then knowledge search), each with the reason it was chosen;
the job's target, commit, and a link to its log. A ``signature`` over what failed (and the
target) lets alerts fire once per new failure rather than once per gate run. Written as JSON (for tools and the sidecar) and Markdown (for people, ``gate_fix_markdown``)
under ``$COGO_HOME/artifacts/gate_fix/<id>.{json,md}``, indexed by a ``gate_fixes`` row. A
missing or empty knowledge store degrades the artifact (it says so) instead of failing it.
A passing gate with flaky jobs (failed, then passed on a rerun) gets one listing them by name.
A gate that could not read its job history (``SourceUnavailable``) gets an artifact too, naming
the source, its error and what to check, so the run's artifact is never missing or a traceback.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from cogo_pipelines.quality import categories
from cogo_pipelines.quality.build_log import parse_build_log
from cogo_pipelines.quality.gate import LOG_TAIL_CHARS, GateResult, SourceUnavailable, jsonable
from cogo_pipelines.quality.gate_fix_markdown import render_markdown
from cogo_pipelines.quality.locate import GraphLocator
from cogo_pipelines.quality.outcomes import infra_reason
from cogo_pipelines.quality.terminal import strip_terminal
from cogo_pipelines.settings import get_settings

EXCERPT_LINES = 30
EXCERPT_CHARS = 1500
QUERY_CHARS = 800
_SIGNAL = re.compile(r"error|fail|exception|assert|expected|cannot|undefined|\.tsx?:\d+|\bat\s", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]+:)[^@\s]+@", re.IGNORECASE)
_BLANKS = re.compile(r"(\s+)")  # splits text into words and the blanks between them, both kept
_DIGITS = re.compile(r"\d+")


def scrub(text: str) -> str:
    """Drop configured secrets and URL passwords: artifacts are shared, secrets are not."""
    for secret in get_settings().secret_values():
        text = text.replace(secret, "***")
    if "://" not in text or "@" not in text:
        return text
    # word by word, and only the words that can hold one: the pattern scanned each `x://y:` on to
    # the next `@` or blank, so a log line of them without an `@` was quadratic (48 kB: 0.7 s)
    return "".join(_URL_CREDENTIALS.sub(r"\1***@", word) if "@" in word and "://" in word else word
                   for word in _BLANKS.split(text))


def error_excerpt(error: str | None) -> str:
    lines = [line.rstrip() for line in strip_terminal(scrub(error or "")).splitlines() if line.strip()]
    excerpt = "\n".join(lines[-EXCERPT_LINES:])
    return excerpt[-EXCERPT_CHARS:]


def search_text(excerpt: str) -> str:
    """The part of an error worth embedding: lines that name a failure or a source position."""
    lines = excerpt.splitlines()
    signal = [line.strip() for line in lines if _SIGNAL.search(line)]
    return "\n".join(signal or lines)[:QUERY_CHARS]


def job_log_text(job: dict[str, Any]) -> str:
    """What the build printed: the result's bounded ``log_tail`` (every build job keeps one, so a
    gate on the server reads a dev PC's build), else the tail
    of the log file when this machine can read it, else the job's error text."""
    if job.get("log_tail"):
        return job["log_tail"][-LOG_TAIL_CHARS:]
    path = job.get("log_path")
    if path:
        try:
            with open(path, "rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - LOG_TAIL_CHARS))
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            pass
    return job.get("error") or ""


def job_log_url(job_id: Any) -> str:
    settings = get_settings()
    base = settings.public_base_url or f"http://127.0.0.1:{settings.metrics_port}"
    return f"{base.rstrip('/')}/api/jobs/{job_id}/log"


def _failure_entry(failure: Any) -> dict[str, Any]:
    first = next((f for f in failure.frames if not f.internal), None)
    return {"kind": failure.kind, "name": scrub(failure.name), "message": scrub(failure.message)[:600],
            "file": failure.file, "line": first.line if first and first.path == failure.file else None,
            "frames": [f"{f.function + ' ' if f.function else ''}{f.path}:{f.line}" + (f":{f.column}" if f.column else "")
                       for f in failure.frames if not f.internal][:5]}


def _count(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def flaky_entry(job: dict[str, Any]) -> dict[str, Any]:
    """A job that failed, then passed on a rerun: the tests its failed runs named (read from each
    run's log tail) and every run's outcome, the passing one last."""
    runs, tests = [], []
    for run in job.get("runs") or []:
        build = parse_build_log(scrub(run.get("log_tail") or ""))
        names = [scrub(f.name) for f in build.failures if f.kind == "test"] or [scrub(f.name) for f in build.failures]
        tests += [name for name in names if name not in tests]
        runs.append({"attempt": run.get("attempt"), "outcome": "failed", "exit_code": run.get("exit_code"),
                     "summary": run.get("summary"), "failed_tests": names, "log": run.get("log")})
    runs.append({"attempt": len(runs) + 1, "outcome": "passed", "exit_code": 0, "summary": job.get("summary"),
                 "failed_tests": [], "log": job.get("log_path")})
    return jsonable({"id": job.get("id"), "type": job.get("type"), "executor_id": job.get("executor_id"),
                     "finished_at": job.get("finished_at"), "target": job.get("target") or job.get("cwd"),
                     "command": scrub(job["command"]) if job.get("command") else None, "tests": tests,
                     "runs": runs, "log_url": job_log_url(job.get("id"))})


def infra_entry(job: dict[str, Any]) -> dict[str, Any]:
    """A job that failed for the machine: its reason and its error's first line."""
    return jsonable({"id": job.get("id"), "type": job.get("type"), "executor_id": job.get("executor_id"),
                     "finished_at": job.get("finished_at"), "target": job.get("target") or job.get("cwd"),
                     "reason": infra_reason(job.get("error")) or "infrastructure",
                     "error": scrub((job.get("error") or "").splitlines()[0] if job.get("error") else "")[:300]})


def brief_entry(job: dict[str, Any]) -> dict[str, Any]:
    """A listed job of a category with no entry of its own: who ran it, and its error's first line."""
    return jsonable({"id": job.get("id"), "type": job.get("type"), "executor_id": job.get("executor_id"),
                     "finished_at": job.get("finished_at"), "target": job.get("target") or job.get("cwd"),
                     "error": scrub((job.get("error") or "").splitlines()[0] if job.get("error") else "")[:300]})


# how the jobs of a category (other than ``failed``, whose entries the locator builds) are listed
ENTRIES = {"infra_failed": infra_entry, "flaky": flaky_entry}


def failure_signature(jobs: list[dict[str, Any]], target: str | None, *, empty: bool = False) -> str:
    """What failed, not when: failing tests/errors per target, so a rerun over the same breakage
    has the same signature and a new breakage a new one."""
    import hashlib

    keys = {"empty-window"} if empty else set()
    for job in jobs:
        where = job.get("target") or job.get("cwd") or target or ""
        names = [f"{f['kind']}:{f.get('file') or ''}:{f['name']}" for f in job.get("failures") or []]
        keys.update(f"{where}|{name}" for name in names)
        if not names:  # the excerpt's last line, numbers aside (a job's id or log path is in it)
            last = (job.get("error_excerpt") or "").splitlines()[-1:]
            keys.add(f"{where}|error:{_DIGITS.sub('#', last[0]) if last else ''}")
    return hashlib.sha256("\n".join([target or "", *sorted(keys)]).encode("utf-8")).hexdigest()[:16]


def build_content(result: GateResult, conn: psycopg.Connection, *, k: int = 5) -> dict[str, Any]:
    locator = GraphLocator(conn, k=k)
    jobs = []
    first_with: dict[str, Any] = {}
    for job in result.failing_jobs:
        text = scrub(job_log_text(job))
        build = parse_build_log(text)
        # the log's end says what went wrong even when no parser reads it (`sh: nosuchcmd: not
        # found`); the job's error ("exited with code 127 (log: …)") only when there is no log
        excerpt = error_excerpt(text if text.strip() else job.get("error"))
        failures = [_failure_entry(f) for f in build.failures]
        key = "|".join(f["name"] for f in failures) or excerpt
        same = first_with.setdefault(key, job.get("id")) if key else None
        entry = {name: job.get(name) for name in ("id", "type", "executor_id", "finished_at", "attempts", "target",
                                                  "commit")}
        entry["target"] = entry["target"] or job.get("cwd")
        entry["command"] = scrub(job["command"]) if job.get("command") else None
        entry.update(log_url=job_log_url(job.get("id")), log_path=job.get("log_path"), parsers=build.parsers,
                     failures=failures, failing_tests=[f["name"] for f in failures if f["kind"] == "test"],
                     # the test summary's count when the log tail held only the last of them (10,000
                     # failing tests read as the 40 the tail still had)
                     failures_total=_count(job.get("summary_failed")),
                     log_cut=len(text) if job.get("log_tail_truncated") else None,
                     error_excerpt=excerpt, locations=[], locations_note=None,
                     same_error_as=same if same != job.get("id") else None)
        if entry["same_error_as"] is None:
            try:
                entry["locations"] = locator.locate(build, hints=[job.get("target"), job.get("cwd"), result.target],
                                                    cwd=job.get("cwd"), fallback_text=search_text(excerpt))
            except psycopg.Error as exc:
                entry["locations_note"] = f"code lookup failed: {type(exc).__name__}: {exc}"
            if not entry["locations"] and not entry["locations_note"]:
                entry["locations_note"] = locator.search_note if failures else (
                    "the log names no failing test, compiler error or source position: read the excerpt")
        jobs.append(jsonable(entry))
    return {
        "gate": "q1",
        "source": result.source,
        "quality_run_id": result.run_id if result.source == "db" else None,
        "source_run_id": result.run_id,
        "score": result.score,
        "threshold": result.threshold,
        "passed": result.passed,
        "succeeded": result.succeeded,
        "failed": result.failed,
        "message": result.message,
        "window": {
            "start": result.window_start.isoformat() if result.window_start else None,
            "end": result.window_end.isoformat() if result.window_end else None,
        },
        "job_types": list(result.job_types),
        "target": result.target,
        "signature": failure_signature(jobs, result.target, empty=result.empty),
        "knowledge": {"status": locator.search_status, "note": locator.search_note} if jobs
        else {"status": "skipped", "note": "no failing jobs to search for"},
        "failing_total": result.failed,
        # every category's count and listed jobs, in table order; the failing ones, built above
        **categories.keyed(result.counts, result.jobs, lambda c, listed: jobs if c.name == "failed" else
                           [ENTRIES.get(c.name, brief_entry)(job) for job in listed]),
    }


def gate_fix_dir() -> Path:
    return get_settings().artifacts_dir / "gate_fix"


def gate_fix_url(fix_id: int) -> str:
    settings = get_settings()
    base = settings.public_base_url or f"http://127.0.0.1:{settings.metrics_port}"
    return f"{base.rstrip('/')}/api/gate-fix/{fix_id}"


def write_gate_fix(conn: psycopg.Connection, result: GateResult, *, k: int = 5) -> dict[str, Any]:
    """Write the artifact files and their gate_fixes row; returns the row as ``get_gate_fix`` does."""
    return _store(conn, lambda: build_content(result, conn, k=k))


def source_failure_content(failure: SourceUnavailable) -> dict[str, Any]:
    """The artifact of a gate that could not read its job history: no verdict and no failing
    jobs, but the source, its error and what to check, with the window and types it asked for."""
    query = failure.query
    return {
        "gate": "q1", "source": failure.source, "quality_run_id": None, "source_run_id": None,
        "score": None, "threshold": failure.threshold, "passed": None, "succeeded": None, "failed": None,
        "message": scrub(str(failure)),
        "source_failure": {key: scrub(value) for key, value in failure.as_dict().items()},
        "window": {"start": query.window_start.isoformat() if query else None,
                   "end": query.window_end.isoformat() if query else None},
        "job_types": list(query.job_types) if query else [],
        "target": query.target if query else None,
        "signature": None,
        "knowledge": {"status": "skipped", "note": "the job history could not be read"},
        "failing_total": None, "failing_jobs": [], "infra_failed": 0, "infra_jobs": [],
    }


def write_source_failure(conn: psycopg.Connection, failure: SourceUnavailable) -> dict[str, Any]:
    """The gate_fix of a gate run whose source failed (no quality run: nothing was measured)."""
    return _store(conn, lambda: source_failure_content(failure))


def _store(conn: psycopg.Connection, build: Any) -> dict[str, Any]:
    folder = gate_fix_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with conn.transaction():
        content = build()
        row = conn.execute(
            "INSERT INTO gate_fixes (quality_run_id, content) VALUES (%s, '{}'::jsonb) RETURNING id, created_at",
            (content["quality_run_id"],),
        ).fetchone()
        fix_id = row["id"]
        content = {"id": fix_id, "created_at": row["created_at"].astimezone(UTC).isoformat(), **content}
        json_path, md_path = folder / f"{fix_id}.json", folder / f"{fix_id}.md"
        json_path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        md_path.write_text(render_markdown(content), encoding="utf-8")
        conn.execute(
            "UPDATE gate_fixes SET json_path = %s, markdown_path = %s, content = %s WHERE id = %s",
            (str(json_path), str(md_path), json.dumps(content), fix_id),
        )
    return _as_dict({"id": fix_id, "quality_run_id": content["quality_run_id"], "created_at": row["created_at"],
                     "json_path": str(json_path), "markdown_path": str(md_path), "content": content})


def prune_files(conn: psycopg.Connection, *, older_than_s: float = 86400.0) -> int:
    """Delete the artifact files (``<id>.json``, ``<id>.md``) of gate_fixes the store no longer
    holds (``store/retention.py`` lets them go after a year); returns how many. Only files
    written over ``older_than_s`` ago: a gate_fix's files are written before its row commits."""
    folder = gate_fix_dir()
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    files: dict[int, list[Path]] = {}
    for path in folder.iterdir():
        if path.suffix in (".json", ".md") and path.stem.isdigit() and path.is_file():
            files.setdefault(int(path.stem), []).append(path)
    if not files:
        return 0
    kept = {r["id"] for r in conn.execute("SELECT id FROM gate_fixes WHERE id = ANY(%s)", (list(files),))}
    gone = 0
    for fix_id, paths in files.items():
        for path in paths if fix_id not in kept else ():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone += 1
            except OSError:
                continue
    return gone


def _as_dict(row: dict[str, Any]) -> dict[str, Any]:
    created = row["created_at"]
    return {
        "id": row["id"],
        "quality_run_id": row["quality_run_id"],
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "json_path": row["json_path"],
        "markdown_path": row["markdown_path"],
        "url": gate_fix_url(row["id"]),
        "content": row["content"],
        "markdown": render_markdown(row["content"]) if row["content"] else "",
    }


_SELECT = "SELECT id, quality_run_id, created_at, json_path, markdown_path, content FROM gate_fixes"


def get_gate_fix(conn: psycopg.Connection, fix_id: int) -> dict[str, Any] | None:
    row = conn.execute(f"{_SELECT} WHERE id = %s", (fix_id,)).fetchone()
    return _as_dict(row) if row else None


def gate_fix_for_run(conn: psycopg.Connection, quality_run_id: int | None) -> dict[str, Any] | None:
    """The gate_fix written for one gate run: what a report of that run links, never another run's."""
    if quality_run_id is None:
        return None
    row = conn.execute(f"{_SELECT} WHERE quality_run_id = %s ORDER BY id DESC LIMIT 1", (quality_run_id,)).fetchone()
    return _as_dict(row) if row else None


def latest_gate_fix(conn: psycopg.Connection) -> dict[str, Any] | None:
    row = conn.execute(f"{_SELECT} ORDER BY id DESC LIMIT 1").fetchone()
    return _as_dict(row) if row else None
