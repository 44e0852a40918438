"""The leader of a job command's process group: the command must not outlive its runner.

``work.run_command`` starts ``python -S group_guard.py RUNNER_PID GRACE -- argv...`` in a new
session; this file is run as a script (standard library only, no package import: ~20 ms). It

1. asks the kernel for ``SIGTERM`` when its parent dies (``prctl(PR_SET_PDEATHSIG)``), then
   checks the parent is still the runner (it may have died before the ``prctl``);
2. starts the command in its own process group (the command's children stay in it);
3. on ``SIGTERM``/``SIGINT``/``SIGHUP`` (the runner's death, a timeout, a stop, a lost lease)
   sends ``SIGTERM`` to the whole group, waits ``GRACE`` seconds, then ``SIGKILL``s the group,
   itself included;
4. when the command exits on its own, sends ``SIGTERM`` to what it left behind, ``SIGKILL``
   after ``GRACE`` seconds to what is still there, and exits with the command's status (a signal
   death is re-raised on itself).

"What it left behind" is the group and every process below the guard: the guard is a child
subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so a daemon that left the group (``setsid``, a
double fork) is re-parented to it rather than to PID 1, and is found in ``/proc`` as its
descendant. So ``kill -9`` of a runner takes its command down within ``GRACE`` seconds, instead
of the command running on while the job's lease expires and another runner starts it a second
time, and no test server a build started outlives its job. Limit: a process that both leaves the
group and is adopted elsewhere (a ``systemd-run``, a container started through a daemon) is not
the guard's to find.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


class _Stop(Exception):
    pass


def _on_signal(signum, frame):
    raise _Stop(signum)


def _set_parent_death_signal(runner_pid: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the runner's own kills still apply
        pass
    if os.getppid() != runner_pid:  # the runner died before the prctl took effect
        raise _Stop(signal.SIGTERM)


def _left_behind() -> list[int]:
    """The live processes of this group but this one, and every live process below this one
    (children, the orphans it adopted as subreaper, and theirs), from ``/proc``."""
    me, group = os.getpid(), os.getpgid(0)
    children: dict[int, list[int]] = {}
    live, in_group = set(), set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                state, ppid, pgrp = f.read().rpartition(b")")[2].split()[:3]
        except (OSError, ValueError):
            continue  # gone meanwhile
        pid = int(name)
        children.setdefault(int(ppid), []).append(pid)
        if state != b"Z":  # a zombie is dead already: reaped below
            live.add(pid)
            if int(pgrp) == group:
                in_group.add(pid)
    below, frontier = set(), [me]
    while frontier:
        for pid in children.get(frontier.pop(), ()):
            if pid not in below:
                below.add(pid)
                frontier.append(pid)
    return sorted((in_group | (below & live)) - {me})


def _reap() -> None:
    """Collect the exit of every child that ended (adopted orphans included)."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _end_left_behind(grace: float) -> None:
    """``SIGTERM`` to what the command left behind, ``SIGKILL`` after ``grace`` to what stays."""
    left = _left_behind()
    if not left:
        return
    _signal_all(left, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        _reap()
        left = _left_behind()
    _signal_all(left, signal.SIGKILL)
    _reap()


def _stop_group(child: int | None, grace: float) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    _signal_all(_left_behind(), signal.SIGTERM)  # the daemons outside the group too
    deadline = time.monotonic() + grace
    while child is not None and time.monotonic() < deadline:
        try:
            if os.waitpid(child, os.WNOHANG)[0]:
                break
        except ChildProcessError:
            break
        time.sleep(0.05)
    _signal_all(_left_behind(), signal.SIGKILL)
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
    _end_left_behind(grace)  # leftovers of a command that has exited
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return 128 + sig
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
