"""cogo-work handlers: run a configured command in a configured working tree.

``code.build.test`` payload ``{"command": "npm test", "cwd": "...", "timeout_s": N, "env": {...},
"reruns": N}`` (``reruns``: a failing command is run again, and one that then passes is *flaky*:
``run_command``); ``code.debug`` takes the same. Both return the log's bounded tail (at most 64 KB) in the result, so
a gate on the server can read a dev PC's failing build without its disk. The whole output goes to
``$COGO_HOME/artifacts/jobs/<id>.log``; a command past its timeout has its process group
killed and the job fails with that reason (the log so far is kept). So does a command whose
output passes ``RUNNER_MAX_LOG_MB`` (256 MiB): a test stuck printing in a loop would otherwise
fill the runner's disk before its timeout; the log keeps its first 256 MiB. Logs older than
``RETENTION_HISTORY_DAYS`` go, once a day per runner, as the store lets their jobs go
(``store/retention.py``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cogo_pipelines.queue import capture, group_guard, validation
from cogo_pipelines.queue.command_env import command_env, known_secrets
from cogo_pipelines.queue.handlers import Handler, JobContext, JobFailed, JobReleased
from cogo_pipelines.queue.jobs import LeaseLost

DEFAULT_TIMEOUT_S = 1800.0
KILL_GRACE_S = 3.0
GUARD = Path(group_guard.__file__).resolve()
PRUNE_EVERY_S = 86400
EARLIER_TAIL_CHARS = 16 * 1024  # of each run that was run again (at most MAX_RERUNS of them)
_pruned_at: dict[Path, float] = {}


def artifact_path(ctx: JobContext) -> Path:
    folder = ctx.settings.artifacts_dir / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    # a job's log file is kept as long as the store keeps the finished job (RETENTION_HISTORY_DAYS)
    prune_old_logs(folder, keep_s=ctx.settings.retention_history_days * 86400)
    return (folder / f"{ctx.job.id}.log").resolve()


def prune_old_logs(folder: Path, *, keep_s: float, now: float | None = None) -> int:
    """Delete the job logs in ``folder`` last written over ``keep_s`` seconds ago, at most once
    per ``PRUNE_EVERY_S`` per folder in this process (a listing of thousands of files per job
    would cost more than it saves); returns how many went."""
    now = time.time() if now is None else now
    if now - _pruned_at.get(folder, float("-inf")) < PRUNE_EVERY_S:
        return 0
    _pruned_at[folder] = now
    gone = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                if entry.name.endswith(".log") and entry.is_file(follow_symlinks=False) \
                        and entry.stat(follow_symlinks=False).st_mtime < now - keep_s:
                    os.unlink(entry.path)
                    gone += 1
            except OSError:  # gone meanwhile, or not ours to delete: the next day's pass tries again
                continue
    return gone


def _working_tree(ctx: JobContext) -> Path:
    """``payload.cwd`` (else ``RUNNER_WORK_DIR``, else the runner's folder). With
    ``RUNNER_WORK_DIR`` set, a relative ``cwd`` is below it and the resolved folder must stay
    there (``../../etc``, ``/etc`` or a link out of it are refused)."""
    base = ctx.settings.runner_work_dir
    given = ctx.payload.get("cwd")
    cwd = Path(given) if given else (base or Path.cwd())
    if not cwd.is_absolute() and base:
        cwd = base / cwd
    if not cwd.is_dir():
        raise JobFailed(f"working tree {cwd} does not exist on this runner (set payload cwd or RUNNER_WORK_DIR)")
    cwd = cwd.resolve()
    if base is not None and not cwd.is_relative_to(base.resolve()):
        raise JobFailed(f"working tree {given!r} is outside RUNNER_WORK_DIR ({base})")
    return cwd


def _command(ctx: JobContext) -> list[str]:
    command = ctx.payload.get("command")
    return ["/bin/sh", "-c", command] if isinstance(command, str) else command


def _checked(ctx: JobContext) -> None:
    """The payload's rules (``validation.command_payload``) again: a job can be queued by SQL,
    or by a version of cogo that checked less."""
    try:
        validation.command_payload(ctx.payload)
    except validation.QueueError as exc:
        raise JobFailed(f"{ctx.job.type}: {exc}") from None


def _timeout(ctx: JobContext) -> float:
    return float(ctx.payload.get("timeout_s", DEFAULT_TIMEOUT_S))


def _child_env(ctx: JobContext) -> dict[str, str]:
    """An allow-list of the runner's environment (command_env), never its secrets."""
    return command_env(os.environ, ctx.settings.runner_pass_env, ctx.payload.get("env") or {})


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
    # -I: the guard's own Python ignores PYTHON* variables (a payload's PYTHONPATH could load code
    # into it and undo its parent-death signal; PYTHONHOME broke it), which the command still gets
    return [sys.executable, "-I", "-S", str(GUARD), str(os.getpid()), f"{KILL_GRACE_S:g}", "--", *argv]


@dataclass
class _Run:
    """One run of the command: how it ended and its log, digested."""

    exit_code: int | None
    duration_s: float
    timed_out: bool
    overflowed: bool
    log_path: Path
    digest: capture.LogDigest


def _run_once(ctx: JobContext, argv: list[str], cwd: Path, env: dict[str, str], timeout: float,
              log_path: Path) -> _Run:
    """Run the guarded command once, its output streamed to ``log_path``. Raises JobFailed /
    JobReleased / LeaseLost."""
    guarded = _guarded(argv, cwd, env)
    started = time.monotonic()
    timed_out = stopped = lost = overflowed = False
    max_log = int(ctx.settings.runner_max_log_mb * (1 << 20))
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
            elif os.fstat(out.fileno()).st_size > max_log:
                overflowed = True
            if stopped or timed_out or lost or overflowed:
                _kill_group(proc)
                break
            try:
                proc.wait(0.2)
            except subprocess.TimeoutExpired:
                pass
        if os.fstat(out.fileno()).st_size > max_log:  # written since the last poll (or before the
            # command ended on its own, which keeps its outcome): the file is cut at the cap
            out.truncate(max_log)
            out.seek(max_log)
            ending = "the command was stopped" if overflowed else "the command ended on its own"
            out.write(f"\n[cogo: output cut at {ctx.settings.runner_max_log_mb:g} MiB; {ending}]\n".encode())
    duration = round(time.monotonic() - started, 3)
    if stopped:
        raise JobReleased("runner stopping; command interrupted", counted=True)
    if lost:
        raise LeaseLost(f"job {ctx.job.id}: lease lost while its command ran; the command's process group was killed")
    digest = capture.digest_log(log_path, known_secrets(ctx.settings, os.environ))
    return _Run(None if timed_out or overflowed else proc.returncode, duration, timed_out, overflowed, log_path,
                digest)


def _earlier(run: _Run, attempt: int) -> dict:
    """What a failed run that was run again leaves in the result: its outcome, summary, log and
    the end of that log (``EARLIER_TAIL_CHARS``: the failing tests' report, for the gate)."""
    return {"attempt": attempt, "exit_code": run.exit_code, "duration_s": run.duration_s,
            "summary": run.digest.summary, "log": str(run.log_path),
            "log_tail": run.digest.tail[-EARLIER_TAIL_CHARS:],
            "log_tail_truncated": run.digest.tail_truncated or len(run.digest.tail) > EARLIER_TAIL_CHARS}


def run_command(ctx: JobContext) -> dict:
    """Run the payload's command; returns its result. Raises JobFailed / JobReleased / LeaseLost.

    Output streams to the log file; the result holds the exit status, the log's size, the test
    summary and at most ``capture.TAIL_BYTES`` of the log's end. The job's outcome is
    the exit status: what the command printed (NUL bytes, invalid UTF-8) never changes it.

    ``payload.reruns`` (0-``validation.MAX_RERUNS``, default 0): a command that exits non-zero is
    run again, up to that many times, each run with the whole ``timeout_s``; a timeout or a
    stop is never run again (it says nothing of the tests). The last run decides the outcome
    and owns ``<id>.log``; each earlier run keeps its log as ``<id>.run<N>.log`` and is listed in
    ``result.attempts``. A job that passed only on a rerun is ``flaky``: it succeeded, and says
    so (the gate reports it by name instead of counting a plain pass)."""
    _checked(ctx)
    argv, cwd, timeout, env = _command(ctx), _working_tree(ctx), _timeout(ctx), _child_env(ctx)
    log_path = artifact_path(ctx)
    runs = 1 + int(ctx.payload.get("reruns") or 0)
    earlier: list[dict] = []
    for attempt in range(1, runs + 1):
        run = _run_once(ctx, argv, cwd, env, timeout, log_path)
        if run.exit_code in (0, None) or attempt == runs:
            break
        kept = log_path.with_name(f"{ctx.job.id}.run{attempt}.log")
        os.replace(log_path, kept)
        run.log_path = kept
        earlier.append(_earlier(run, attempt))
    digest = run.digest
    result = {
        "command": ctx.payload.get("command"),
        "cwd": str(cwd),
        "exit_code": run.exit_code,
        "duration_s": run.duration_s,
        "timed_out": run.timed_out,
        "log": str(log_path),
        "log_bytes": digest.log_bytes,
        "summary": digest.summary,
        "log_tail": digest.tail,
        "log_tail_truncated": digest.tail_truncated,
    }
    if earlier:
        result.update(attempts=earlier, flaky=run.exit_code == 0)
    if run.timed_out:
        raise JobFailed(f"command timed out after {timeout:g} s; its process group was killed (log: {log_path})", result)
    if run.overflowed:
        raise JobFailed(f"command wrote more than {ctx.settings.runner_max_log_mb:g} MiB of output; its process group "
                        f"was killed (RUNNER_MAX_LOG_MB; log: {log_path})", result)
    if run.exit_code != 0:
        summary = result["summary"]
        counts = f" ({summary['failed']} failed, {summary['passed']} passed)" if summary else ""
        again = f" on each of {runs} runs" if runs > 1 else ""
        raise JobFailed(f"command exited with code {run.exit_code}{counts}{again} (log: {log_path})", result)
    return result


def build_test(ctx: JobContext) -> dict:
    return run_command(ctx)


def debug(ctx: JobContext) -> dict:
    return run_command(ctx)


HANDLERS = {"code.build.test": Handler(build_test), "code.debug": Handler(debug)}
