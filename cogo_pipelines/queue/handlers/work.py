"""cogo-work handlers: run a configured command in a configured working tree.

``code.build.test`` payload ``{"command": "npm test", "cwd": "...", "timeout_s": N, "env": {...}}``;
``code.debug`` takes the same. Both return the log's bounded tail (at most 64 KB) in the result, so
a gate on the server can read a dev PC's failing build without its disk. The whole output goes to
``$COGO_HOME/artifacts/jobs/<id>.log``; a command past its timeout has its process group
killed and the job fails with that reason (the log so far is kept).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from cogo_pipelines.queue import capture, group_guard
from cogo_pipelines.queue.command_env import command_env
from cogo_pipelines.queue.handlers import Handler, JobContext, JobFailed, JobReleased
from cogo_pipelines.queue.jobs import LeaseLost

DEFAULT_TIMEOUT_S = 1800.0
KILL_GRACE_S = 3.0
GUARD = Path(group_guard.__file__).resolve()


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


def _guarded(argv: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """``argv`` behind the process-group guard (see ``group_guard``): it dies with the runner."""
    program = argv[0]
    if os.sep not in program and shutil.which(program, path=env.get("PATH")) is None:
        raise JobFailed(f"could not start {program!r}: not found on PATH")
    if os.sep in program and not os.access(cwd / program, os.X_OK):
        raise JobFailed(f"could not start {program!r}: not an executable file")
    return [sys.executable, "-S", str(GUARD), str(os.getpid()), f"{KILL_GRACE_S:g}", "--", *argv]


def run_command(ctx: JobContext) -> dict:
    """Run the payload's command; returns its result. Raises JobFailed / JobReleased / LeaseLost.

    Output streams to the log file; the result holds the exit status, the log's size, the test
    summary and at most ``capture.TAIL_BYTES`` of the log's end. The job's outcome is
    the exit status: what the command printed (NUL bytes, invalid UTF-8) never changes it."""
    argv, cwd, timeout, env = _command(ctx), _working_tree(ctx), _timeout(ctx), _child_env(ctx)
    log_path = artifact_path(ctx)
    guarded = _guarded(argv, cwd, env)
    started = time.monotonic()
    timed_out = stopped = lost = False
    with log_path.open("wb") as out:
        try:
            proc = subprocess.Popen(guarded, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise JobFailed(f"could not start {argv[0]!r}: {exc.strerror or exc}") from exc
        deadline = started + timeout
        while proc.poll() is None:
            if ctx.stopping.is_set():
                stopped = True
            elif ctx.lease_lost.is_set():
                lost = True
            elif time.monotonic() >= deadline:
                timed_out = True
            if stopped or timed_out or lost:
                _kill_group(proc)
                break
            try:
                proc.wait(0.2)
            except subprocess.TimeoutExpired:
                pass
    duration = round(time.monotonic() - started, 3)
    if stopped:
        raise JobReleased("runner stopping; command interrupted")
    if lost:
        raise LeaseLost(f"job {ctx.job.id}: lease lost while its command ran; the command's process group was killed")
    digest = capture.digest_log(log_path, ctx.settings.secret_values())
    result = {
        "command": ctx.payload.get("command"),
        "cwd": str(cwd),
        "exit_code": None if timed_out else proc.returncode,
        "duration_s": duration,
        "timed_out": timed_out,
        "log": str(log_path),
        "log_bytes": digest.log_bytes,
        "summary": digest.summary,
        "log_tail": digest.tail,
        "log_tail_truncated": digest.tail_truncated,
    }
    if timed_out:
        raise JobFailed(f"command timed out after {timeout:g} s; its process group was killed (log: {log_path})", result)
    if proc.returncode != 0:
        summary = result["summary"]
        counts = f" ({summary['failed']} failed, {summary['passed']} passed)" if summary else ""
        raise JobFailed(f"command exited with code {proc.returncode}{counts} (log: {log_path})", result)
    return result


def build_test(ctx: JobContext) -> dict:
    return run_command(ctx)


def debug(ctx: JobContext) -> dict:
    return run_command(ctx)


HANDLERS = {"code.build.test": Handler(build_test), "code.debug": Handler(debug)}
