"""cogo-work handlers: run a configured command in a configured working tree.

``code.build.test`` payload ``{"command": "npm test", "cwd": "...", "timeout_s": N, "env": {...}}``;
``code.debug`` takes the same and also returns the log's tail. The whole output goes to
``$COGO_HOME/artifacts/jobs/<id>.log``; a command past its timeout has its process group
killed and the job fails with that reason (the log so far is kept).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from cogo_pipelines.queue.command_env import command_env
from cogo_pipelines.queue.handlers import Handler, JobContext, JobFailed, JobReleased
from cogo_pipelines.queue.handlers.summaries import parse_test_summary

DEFAULT_TIMEOUT_S = 1800.0
KILL_GRACE_S = 3.0
TAIL_LINES = 60


def artifact_path(ctx: JobContext) -> Path:
    folder = ctx.settings.artifacts_dir / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return (folder / f"{ctx.job.id}.log").resolve()


def _working_tree(ctx: JobContext) -> Path:
    base = ctx.settings.runner_work_dir
    given = ctx.payload.get("cwd")
    if given is not None and not isinstance(given, str):
        raise JobFailed(f"cwd must be a string path, got {given!r}")
    cwd = Path(given) if given else (base or Path.cwd())
    if not cwd.is_absolute() and base:
        cwd = base / cwd
    if not cwd.is_dir():
        raise JobFailed(f"working tree {cwd} does not exist on this runner (set payload cwd or RUNNER_WORK_DIR)")
    return cwd.resolve()


def _command(ctx: JobContext) -> list[str]:
    command = ctx.payload.get("command")
    if isinstance(command, str) and command.strip():
        return ["/bin/sh", "-c", command]
    if isinstance(command, list) and command and all(isinstance(p, str) for p in command):
        return command
    raise JobFailed(f"{ctx.job.type} needs payload.command (a string or a list of strings), got {command!r}")


def _timeout(ctx: JobContext) -> float:
    value = ctx.payload.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise JobFailed(f"timeout_s must be a positive number, got {value!r}")
    return float(value)


def _child_env(ctx: JobContext) -> dict[str, str]:
    """An allow-list of the runner's environment (command_env), never its secrets."""
    extra = ctx.payload.get("env") or {}
    if not isinstance(extra, dict):
        raise JobFailed("env must be an object of strings")
    return command_env(os.environ, ctx.settings.runner_pass_env, {str(k): str(v) for k, v in extra.items()})


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(KILL_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue


def _scrub(path: Path, secrets: list[str]) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if any(s and s in text for s in secrets):
        for s in secrets:
            text = text.replace(s, "***") if s else text
        path.write_text(text, encoding="utf-8")
    return text


def run_command(ctx: JobContext) -> tuple[dict, str]:
    """Run the payload's command; returns (result, log text). Raises JobFailed / JobReleased."""
    argv, cwd, timeout, env = _command(ctx), _working_tree(ctx), _timeout(ctx), _child_env(ctx)
    log_path = artifact_path(ctx)
    started = time.monotonic()
    timed_out = stopped = False
    with log_path.open("wb") as out:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise JobFailed(f"could not start {argv[0]!r}: {exc.strerror or exc}") from exc
        deadline = started + timeout
        while proc.poll() is None:
            if ctx.stopping.is_set():
                stopped = True
            elif time.monotonic() >= deadline:
                timed_out = True
            if stopped or timed_out:
                _kill_group(proc)
                break
            try:
                proc.wait(0.2)
            except subprocess.TimeoutExpired:
                pass
    duration = round(time.monotonic() - started, 3)
    if stopped:
        raise JobReleased("runner stopping; command interrupted")
    text = _scrub(log_path, ctx.settings.secret_values())
    result = {
        "command": ctx.payload.get("command"),
        "cwd": str(cwd),
        "exit_code": None if timed_out else proc.returncode,
        "duration_s": duration,
        "timed_out": timed_out,
        "log": str(log_path),
        "summary": parse_test_summary(text),
    }
    if timed_out:
        raise JobFailed(f"command timed out after {timeout:g} s; its process group was killed (log: {log_path})", result)
    if proc.returncode != 0:
        summary = result["summary"]
        counts = f" ({summary['failed']} failed, {summary['passed']} passed)" if summary else ""
        raise JobFailed(f"command exited with code {proc.returncode}{counts} (log: {log_path})", result)
    return result, text


def build_test(ctx: JobContext) -> dict:
    return run_command(ctx)[0]


def debug(ctx: JobContext) -> dict:
    try:
        result, text = run_command(ctx)
    except JobFailed as exc:
        if exc.result is not None:
            exc.result["log_tail"] = _tail(Path(exc.result["log"]))
        raise
    result["log_tail"] = "\n".join(text.splitlines()[-TAIL_LINES:])
    return result


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-TAIL_LINES:])
    except OSError:
        return ""


HANDLERS = {"code.build.test": Handler(build_test), "code.debug": Handler(debug)}
