"""Hostile jobs against real ``cogo runner`` processes and the embedded Postgres: a 50 MB log,
NUL bytes in the output, a runner killed under its command, a batch behind a long job, and
the default batch size."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cogo_pipelines import settings as settings_module
from cogo_pipelines.queue import capture, jobs
from cogo_pipelines.server import create_app
from cogo_pipelines_tests.processes import alive
from cogo_pipelines_tests.server.conftest import start_server, stop_server

from .conftest import COGO, cogo, start_runner, wait_for

FIFTY_MB = 50 * 1024 * 1024


def _runner_once_max_rss_kb(extra_env: dict | None = None) -> int:
    """``cogo runner --once`` in a wrapper that reports its children's peak RSS (KB)."""
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]);"
            " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    out = subprocess.run([sys.executable, "-c", code, *COGO, "runner", "--executor-id", "cogo-work", "--once"], check=False,
                         capture_output=True, text=True, timeout=300, env={**os.environ, **(extra_env or {})})
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


def test_a_50_mb_log_stores_a_64_kb_tail_in_bounded_memory(aconn, tmp_path):
    small = jobs.enqueue(aconn, "code.debug", {"command": "echo small", "cwd": str(tmp_path)})
    baseline_kb = _runner_once_max_rss_kb()
    line = "x" * 99
    big = jobs.enqueue(aconn, "code.debug", {
        "command": f"yes {line} 2>/dev/null | head -c {FIFTY_MB}; echo 'Tests:       2 passed, 2 total'", "cwd": str(tmp_path)})
    big_kb = _runner_once_max_rss_kb()
    row = jobs.get_job(aconn, big)
    assert jobs.get_job(aconn, small)["status"] == "succeeded"
    assert row["status"] == "succeeded", row["error"]
    result = row["result"]
    assert result["log_bytes"] == FIFTY_MB + len("Tests:       2 passed, 2 total\n")
    assert Path(result["log"]).stat().st_size == result["log_bytes"]  # the whole log is kept as a file
    assert len(result["log_tail"].encode()) <= capture.TAIL_BYTES and result["log_tail_truncated"] is True
    assert result["log_tail"].endswith("Tests:       2 passed, 2 total")
    assert result["summary"]["passed"] == 2  # read from the end of a 50 MB stream
    stored = aconn.execute("SELECT pg_column_size(result) AS n FROM jobs WHERE id = %s", (big,)).fetchone()["n"]
    assert stored <= 80 * 1024
    # Streamed: the runner's peak memory barely moves (it held ~50 MB several times over before).
    assert big_kb - baseline_kb < 40 * 1024, (baseline_kb, big_kb)

    # The case: one 50 MB line (stored whole before: 50 MB in result, 50 MB per GET /api/jobs).
    one_line = jobs.enqueue(aconn, "code.debug", {"command": f"head -c {FIFTY_MB} /dev/zero | tr '\\0' x",
                                                   "cwd": str(tmp_path)})
    assert cogo("runner", "--executor-id", "cogo-work", "--once", timeout=300).returncode == 0
    line_result = jobs.get_job(aconn, one_line)["result"]
    assert line_result["log_bytes"] == FIFTY_MB and line_result["log_tail_truncated"] is True
    assert line_result["log_tail"] == "x" * capture.TAIL_BYTES

    server, thread, url = start_server(create_app(settings_module.get_settings()))
    try:
        import httpx

        body = httpx.get(f"{url}/api/jobs", timeout=30).content
    finally:
        stop_server(server, thread)
    assert len(body) < 200 * 1024, len(body)
    assert str(big) in body.decode()


def test_nul_bytes_and_invalid_utf8_do_not_change_the_outcome(aconn, tmp_path):
    ok = jobs.enqueue(aconn, "code.debug", {"command": r"printf 'a\000b\377\376c\n'; exit 0", "cwd": str(tmp_path)})
    red = jobs.enqueue(aconn, "code.debug", {"command": r"printf 'x\000y\n'; exit 3", "cwd": str(tmp_path)})
    build = jobs.enqueue(aconn, "code.build.test", {"command": r"printf '\000\000'", "cwd": str(tmp_path)})
    for _ in range(3):
        assert cogo("runner", "--executor-id", "cogo-work", "--once").returncode == 0
    row = jobs.get_job(aconn, ok)
    assert row["status"] == "succeeded", row["error"]
    assert row["result"]["exit_code"] == 0 and "\x00" not in row["result"]["log_tail"]
    assert row["result"]["log_tail"].startswith("a\ufffdb")
    assert Path(row["result"]["log"]).read_bytes() == b"a\x00b\xff\xfec\n"  # the file keeps the bytes
    failed = jobs.get_job(aconn, red)
    assert failed["status"] == "failed" and "exited with code 3" in failed["error"]
    assert failed["result"]["log_tail"] == "x\ufffdy"
    assert jobs.get_job(aconn, build)["status"] == "succeeded"


def test_a_result_with_nul_and_lone_surrogates_is_stored(aconn):
    job_id = jobs.enqueue(aconn, "noop")
    [job] = jobs.claim(aconn, "cogo-work", "me", limit=1)
    assert job.id == job_id
    jobs.complete(aconn, job_id, "me", {"out": "a\x00b\ud800c", "k\x00": ["\udfff"], "long": "z" * 200_000})
    result = jobs.get_job(aconn, job_id)["result"]
    assert result["out"] == "a\ufffdb\ufffdc" and result["k\ufffd"] == ["\ufffd"]
    assert len(result["long"]) < 70_000 and result["long"].startswith("… (")


def test_kill_9_of_the_runner_takes_its_command_down(aconn, tmp_path):
    pid_file = tmp_path / "pids"
    # The command and a background grandchild in its process group, both long-lived.
    cmd = f"sleep 120 & echo $! >> {pid_file}; echo $$ >> {pid_file}; wait"
    job_id = jobs.enqueue(aconn, "code.build.test", {"command": cmd, "cwd": str(tmp_path), "timeout_s": 300})
    proc = start_runner("--executor-id", "cogo-work", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: pid_file.exists() and len(pid_file.read_text().split()) == 2, timeout=30)
        pids = [int(p) for p in pid_file.read_text().split()]
        assert all(alive(p) for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        killed = time.monotonic()
        wait_for(lambda: not any(alive(p) for p in pids), timeout=10)
        assert time.monotonic() - killed < 6  # SIGTERM at once, SIGKILL after the 3 s grace at most
    finally:
        if proc.poll() is None:
            proc.kill()
    assert jobs.get_job(aconn, job_id)["status"] == "running"  # until its lease expires


def test_lease_loss_kills_the_command(aconn, tmp_path):
    marker = tmp_path / "still-running"
    cmd = f"sleep 3; touch {marker}"
    job_id = jobs.enqueue(aconn, "code.build.test", {"command": cmd, "cwd": str(tmp_path)})
    proc = start_runner("--executor-id", "cogo-work", "--lease-seconds", "1", stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: jobs.get_job(aconn, job_id)["status"] == "running", timeout=30)
        # Another party takes the job over (as a reaper would after an outage).
        aconn.execute("UPDATE jobs SET lease_owner = 'someone-else', lease_expires_at = now() + interval '1 hour'"
                      " WHERE id = %s", (job_id,))
        time.sleep(4)
    finally:
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=20)[1]
    assert not marker.exists(), "the command ran on after its lease was lost"
    assert "lease lost" in err


def test_unstarted_jobs_are_handed_back_behind_a_long_job(aconn):
    # Before: one runner's batch held the short jobs while its long one ran, and the other
    # runner idled. Now they are handed back once the job ahead runs past SLOW_JOB_S.
    first = start_runner("--executor-id", "cogo-work", "--batch", "16", stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    second = None
    try:
        with aconn.transaction():  # quick jobs first: the runner's claim size grows to 16
            warmup = [jobs.enqueue(aconn, "noop") for _ in range(40)]
        wait_for(lambda: all(jobs.get_job(aconn, j)["status"] == "succeeded" for j in warmup), timeout=60)
        second = start_runner("--executor-id", "cogo-work", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # both idle on LISTEN
        with aconn.transaction():
            long_job = jobs.enqueue(aconn, "noop", {"sleep_s": 4}, priority=9)
            shorts = [jobs.enqueue(aconn, "noop", {"sleep_s": 0.01}, priority=5) for _ in range(8)]
        wait_for(lambda: jobs.get_job(aconn, long_job)["status"] == "succeeded", timeout=40)
        long_done = jobs.get_job(aconn, long_job)["finished_at"]
        wait_for(lambda: all(jobs.get_job(aconn, s)["status"] == "succeeded" for s in shorts), timeout=20)
        finished = [jobs.get_job(aconn, s) for s in shorts]
    finally:
        for p in (first, second):
            if p is not None:
                p.send_signal(signal.SIGTERM)
                p.wait(20)
    assert all(r["finished_at"] < long_done for r in finished), "short jobs waited behind the long one"


def test_the_default_runner_claims_in_batches(aconn):
    with aconn.transaction():
        for _ in range(200):
            jobs.enqueue(aconn, "noop")
    out = cogo("runner", "--executor-id", "cogo-work", "--exit-when-idle", timeout=120)
    assert out.returncode == 0, out.stderr
    claims = aconn.execute("SELECT count(DISTINCT at) AS n FROM job_events WHERE event = 'claimed'").fetchone()["n"]
    assert claims < 40, f"{claims} claim round trips for 200 jobs"
    assert aconn.execute("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'").fetchone()["n"] == 200
