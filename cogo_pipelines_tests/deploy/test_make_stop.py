"""`make stop` stops every process `make run` started: SIGINT to each group (as Ctrl-C), SIGKILL
after 10 s where it is ignored."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from cogo_pipelines_tests.processes import alive

REPO_ROOT = Path(__file__).resolve().parents[2]



def test_make_stop_kills_the_whole_group_when_sigint_is_ignored(tmp_path):
    home = tmp_path / "cogo"
    (home / "run").mkdir(parents=True)
    # a service in a process group of its own whose processes ignore SIGINT (as every background
    # job of a shell without job control does)
    leader = subprocess.Popen(
        ["setsid", "bash", "-c", "trap '' INT; sleep 300 & sleep 300 & echo $! > child.pid; wait"],
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 10
    while not (tmp_path / "child.pid").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int((tmp_path / "child.pid").read_text())
    (home / "run" / "service.pid").write_text(str(leader.pid))
    started = time.monotonic()
    done = subprocess.run(["make", "--no-print-directory", "stop", f"COGO_HOME={home}"], cwd=REPO_ROOT, check=False,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"killed service (process group {leader.pid})"
    leader.wait(timeout=5)
    assert not alive(child), "a child of the service outlived make stop"
    assert not (home / "run" / "service.pid").exists()
    assert time.monotonic() - started < 20
