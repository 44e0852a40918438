"""`make stop` stops every process `make run` started, even where SIGTERM is ignored."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is gone for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def test_make_stop_kills_the_whole_group_when_sigterm_is_ignored(tmp_path):
    home = tmp_path / "cogo"
    (home / "run").mkdir(parents=True)
    # a service started as `make run` starts it (its own session), whose children ignore SIGTERM,
    # as they do when the shell that started them inherited SIG_IGN
    leader = subprocess.Popen(
        ["setsid", "bash", "-c", "trap '' TERM; sleep 300 & sleep 300 & echo $! > child.pid; wait"],
        cwd=tmp_path, preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 10
    while not (tmp_path / "child.pid").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int((tmp_path / "child.pid").read_text())
    (home / "run" / "service.pid").write_text(str(leader.pid))
    started = time.monotonic()
    done = subprocess.run(["make", "--no-print-directory", "stop", f"COGO_HOME={home}"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    leader.wait(timeout=5)
    assert not _alive(child), "a child of the service outlived make stop"
    assert not (home / "run" / "service.pid").exists()
    assert time.monotonic() - started < 20
