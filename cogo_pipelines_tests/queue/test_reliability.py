"""kill -9 a runner in the middle of a job: every job still ends exactly once (succeeded or
dead), none is lost, none is completed twice. Real Postgres, real ``cogo runner`` processes."""

import os
import signal
import subprocess

import pytest

from cogo_pipelines.queue import jobs

from .conftest import start_runner, wait_for

BULK = 300
LEASE = {"LEASE_SECONDS": "2"}


def _holder_pid(aconn, job_id):
    row = jobs.get_job(aconn, job_id)
    return int(row["lease_owner"].split("/")[2]) if row["status"] == "running" else None


@pytest.mark.slow
def test_kill_9_mid_job_loses_nothing_and_completes_nothing_twice(aconn, tmp_path):
    # Long, high-priority jobs: the first runners up take them, and we kill their holders mid-job.
    retried = jobs.enqueue(aconn, "noop", {"sleep_s": 3}, priority=10, max_attempts=3)
    doomed = jobs.enqueue(aconn, "noop", {"sleep_s": 3}, priority=10, max_attempts=1)
    with aconn.transaction():
        bulk = [jobs.enqueue(aconn, "noop", {"sleep_s": 0.02}) for _ in range(BULK - 10)]
        bulk += [jobs.enqueue(aconn, "code.build.test", {"command": "true", "cwd": str(tmp_path)}) for _ in range(10)]
    every = [retried, doomed, *bulk]

    runner_args = ("--executor-id", "cogo-work", "--poll-seconds", "0.5")
    procs = {}
    for _ in range(4):
        p = start_runner(*runner_args, env=LEASE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs[p.pid] = p
    killed = []
    try:
        for victim in (doomed, retried):
            pid = wait_for(lambda v=victim: _holder_pid(aconn, v), timeout=40)
            assert pid in procs, "the lease owner must be one of our runner processes"
            os.kill(pid, signal.SIGKILL)
            procs[pid].wait(10)
            killed.append(pid)
        replacement = start_runner(*runner_args, env=LEASE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs[replacement.pid] = replacement

        def all_settled():
            row = aconn.execute("SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')").fetchone()
            return row["n"] == 0

        wait_for(all_settled, timeout=60, every=0.2)
    finally:
        for pid, p in procs.items():
            if pid not in killed:
                p.send_signal(signal.SIGTERM)
        exits = {pid: p.wait(20) for pid, p in procs.items() if pid not in killed}
    assert set(exits.values()) == {0}
    assert len(killed) == 2

    rows = {r["id"]: r for r in aconn.execute("SELECT * FROM jobs").fetchall()}
    assert sorted(rows) == sorted(every), "no job lost, none invented"
    assert {r["status"] for r in rows.values()} <= {"succeeded", "dead"}

    terminal = aconn.execute(
        "SELECT job_id, count(*) AS n, max(event) AS event, max(owner) AS owner FROM job_events"
        " WHERE event IN ('succeeded', 'failed', 'dead') GROUP BY job_id").fetchall()
    assert len(terminal) == len(every)
    assert all(t["n"] == 1 for t in terminal), "a job was completed twice"
    assert all(t["event"] == rows[t["job_id"]]["status"] for t in terminal)

    # The killed holders' jobs: one re-queued and finished by another runner, one out of attempts.
    assert rows[doomed]["status"] == "dead" and rows[doomed]["attempts"] == 1
    assert "lease of" in rows[doomed]["error"] and f"/{killed[0]}/" in rows[doomed]["error"]
    assert rows[retried]["status"] == "succeeded" and rows[retried]["attempts"] >= 2
    events = [e["event"] for e in jobs.job_events(aconn, retried)]
    assert events[:3] == ["claimed", "requeued", "claimed"] and events[-1] == "succeeded"
    assert f"/{killed[1]}/" in jobs.job_events(aconn, retried)[0]["owner"]
    assert f"/{killed[1]}/" not in rows[retried]["result"]["owner"]

    # Every success was recorded by the runner that held the job at that moment.
    for t in terminal:
        if t["event"] == "succeeded" and rows[t["job_id"]]["type"] == "noop":
            assert rows[t["job_id"]]["result"]["owner"] == t["owner"]
    assert sum(r["status"] == "succeeded" for r in rows.values()) == len(every) - 1
