"""The leader of a job command's process group: the command must not outlive its runner.

``work.run_command`` starts ``python -S group_guard.py RUNNER_PID GRACE -- argv...`` in a new
session; this file is run as a script (standard library only, no package import: ~20 ms). It

1. asks the kernel for ``SIGTERM`` when its parent dies (``prctl(PR_SET_PDEATHSIG)``), then
   checks the parent is still the runner (it may have died before the ``prctl``);
2. starts the command in its own process group (the command's children stay in it);
3. on ``SIGTERM``/``SIGINT``/``SIGHUP`` (the runner's death, a timeout, a stop, a lost lease)
   sends ``SIGTERM`` to the whole group, waits ``GRACE`` seconds, then ``SIGKILL``s the group,
   itself included;
4. when the command exits on its own, sends ``SIGTERM`` to what it left behind in the group and
   exits with the command's status (a signal death is re-raised on itself).

So ``kill -9`` of a runner takes its command down within ``GRACE`` seconds, instead of the
command running on, re-parented to PID 1, while the job's lease expires and another runner
starts it a second time. Limit: a grandchild that leaves the group (``setsid``, a daemonising
server) escapes, as it would from any process-group kill; so does one that ignores SIGTERM when
the command exits normally.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1


class _Stop(Exception):
    pass


def _on_signal(signum, frame):
    raise _Stop(signum)


def _set_parent_death_signal(runner_pid: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the runner's own kills still apply
        pass
    if os.getppid() != runner_pid:  # the runner died before the prctl took effect
        raise _Stop(signal.SIGTERM)


def _stop_group(child: int | None, grace: float) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while child is not None and time.monotonic() < deadline:
        try:
            if os.waitpid(child, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            break
        time.sleep(0.05)
    os.killpg(0, signal.SIGKILL)  # the group, this process included


def main(argv: list[str]) -> int:
    runner_pid, grace, command = int(argv[1]), float(argv[2]), argv[4:]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    child = None
    try:
        _set_parent_death_signal(runner_pid)
        try:
            child = os.posix_spawnp(command[0], command, os.environ)
        except OSError as exc:
            print(f"cogo: could not start {command[0]!r}: {exc.strerror or exc}", file=sys.stderr, flush=True)
            return 127
        status = os.waitpid(child, 0)[1]
    except _Stop:
        _stop_group(child, grace)
        return 143
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)  # leftovers of a command that has exited
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
