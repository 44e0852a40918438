"""``cogo runner`` as a real process: handlers, --once, include types, NOTIFY wake-up, SIGTERM,
timeouts, structured logs and the bad-input paths."""

import importlib.util
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from cogo_pipelines.queue import jobs
from cogo_pipelines_tests.processes import alive

from .conftest import cogo, start_runner, wait_for


def _once(executor="cogo-work", *extra):
    out = cogo("runner", "--executor-id", executor, "--once", *extra)
    assert out.returncode == 0, out.stderr
    return out


def test_once_runs_one_noop_and_exits(aconn):
    a = jobs.enqueue(aconn, "noop", {"sleep_s": 0.01})
    b = jobs.enqueue(aconn, "noop")
    _once()
    assert jobs.get_job(aconn, a)["status"] == "succeeded"
    assert jobs.get_job(aconn, b)["status"] == "queued"
    _once()
    _once()  # nothing left: exits 0 at once
    assert jobs.get_job(aconn, b)["status"] == "succeeded"


def test_unknown_type_is_failed_with_a_clear_error(aconn):
    job_id = jobs.enqueue(aconn, "code.teleport")
    _once()
    row = jobs.get_job(aconn, job_id)
    assert row["status"] == "failed"
    assert "unknown job type 'code.teleport' for executor 'cogo-work'" in row["error"]


def test_build_test_captures_exit_code_summary_and_log(aconn, tmp_path):
    script = "echo building; echo 'Tests:       1 failed, 3 passed, 4 total'; exit 1"
    red = jobs.enqueue(aconn, "code.build.test", {"command": script, "cwd": str(tmp_path), "timeout_s": 30})
    green = jobs.enqueue(aconn, "code.build.test",
                         {"command": "printf '# tests 2\\n# pass 2\\n# fail 0\\n'", "cwd": str(tmp_path)})
    _once()
    _once()
    row = jobs.get_job(aconn, red)
    assert row["status"] == "failed" and "exited with code 1 (1 failed, 3 passed)" in row["error"]
    result = row["result"]
    assert result["exit_code"] == 1 and result["duration_s"] >= 0 and not result["timed_out"]
    assert result["summary"] == {"framework": "jest", "passed": 3, "failed": 1, "skipped": 0, "total": 4}
    log = Path(result["log"])
    assert log == Path(os.environ["COGO_HOME"]).resolve() / "artifacts" / "jobs" / f"{red}.log"
    assert "building" in log.read_text()
    # the server's gate reads a dev PC's failing build from the result, not from the PC's disk
    assert result["log_tail"].startswith("building\n") and "1 failed, 3 passed" in result["log_tail"]
    assert result["log_tail_truncated"] is False
    ok = jobs.get_job(aconn, green)
    assert ok["status"] == "succeeded" and ok["result"]["exit_code"] == 0
    assert ok["result"]["summary"]["framework"] == "node" and ok["result"]["summary"]["passed"] == 2


def test_command_past_its_timeout_is_killed_and_failed(aconn, tmp_path):
    pid_file = tmp_path / "child.pid"
    cmd = f"sleep 30 & echo $! > {pid_file}; echo started; wait"
    job_id = jobs.enqueue(aconn, "code.debug", {"command": cmd, "cwd": str(tmp_path), "timeout_s": 1})
    started = time.monotonic()
    _once()
    assert time.monotonic() - started < 15
    row = jobs.get_job(aconn, job_id)
    assert row["status"] == "failed" and "timed out after 1 s" in row["error"]
    assert row["result"]["timed_out"] and row["result"]["exit_code"] is None
    assert "started" in row["result"]["log_tail"]
    assert not alive(int(pid_file.read_text()))


@pytest.mark.parametrize("ending", ["exit 0", "sleep 30"])  # on its own, or killed at its timeout
def test_daemons_a_command_leaves_behind_do_not_outlive_its_job(aconn, tmp_path, ending):
    """A build that starts a server with ``setsid`` (a new session: out of the job's process
    group) or a child that ignores SIGTERM left them running after the job ended, outside any
    lease. The guard is now their subreaper and ends whatever is below it."""
    daemon, stubborn = tmp_path / "daemon.pid", tmp_path / "stubborn.pid"
    command = (f"setsid sh -c 'echo $$ > {daemon}; exec sleep 1033' & "
               f"sh -c 'trap \"\" TERM; echo $$ > {stubborn}; exec sleep 1034' & "
               f"while [ ! -s {daemon} ] || [ ! -s {stubborn} ]; do sleep 0.05; done; {ending}")
    timeout = 30 if ending == "exit 0" else 3  # (the stubborn one costs the guard's grace after the exit)
    job_id = jobs.enqueue(aconn, "code.build.test", {"command": command, "cwd": str(tmp_path), "timeout_s": timeout})
    _once()
    row = jobs.get_job(aconn, job_id)
    assert row["status"] == ("succeeded" if ending == "exit 0" else "failed"), row["error"]
    pids = [int(daemon.read_text()), int(stubborn.read_text())]
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout=10)


def test_a_working_tree_outside_runner_work_dir_is_refused_and_python_settings_reach_the_command_only(
        aconn, tmp_path):
    """With ``RUNNER_WORK_DIR`` set, ``cwd`` is below it (``/etc``, ``../..`` or a link out of it
    ran there before). A payload's ``PYTHONPATH``/``PYTHONHOME`` are the command's: they loaded
    code into the runner's own guard process (or broke it: exit 1, a red build)."""
    base = tmp_path / "work"
    (base / "repo").mkdir(parents=True)
    (base / "out").symlink_to(tmp_path)
    refused = [jobs.enqueue(aconn, "code.build.test", {"command": "pwd", "cwd": cwd})
               for cwd in ("/etc", "../..", "out")]
    inside = jobs.enqueue(aconn, "code.build.test", {"command": "echo home=$PYTHONHOME", "cwd": "repo",
                                                     "env": {"PYTHONHOME": "/nonexistent", "PYTHONPATH": "/x"}})
    out = cogo("runner", "--executor-id", "cogo-work", "--batch", "4", "--exit-when-idle",
               env={"RUNNER_WORK_DIR": str(base)})
    assert out.returncode == 0, out.stderr
    for job_id in refused:
        row = jobs.get_job(aconn, job_id)
        assert row["status"] == "failed" and "is outside RUNNER_WORK_DIR" in row["error"], row["error"]
    row = jobs.get_job(aconn, inside)
    assert row["status"] == "succeeded", row["error"]
    assert row["result"]["cwd"] == str((base / "repo").resolve()) and "home=/nonexistent" in row["result"]["log_tail"]


def test_missing_working_tree_fails_the_job_not_the_runner(aconn, tmp_path):
    job_id = jobs.enqueue(aconn, "code.build.test", {"command": "true", "cwd": str(tmp_path / "nope")})
    _once()
    row = jobs.get_job(aconn, job_id)
    assert row["status"] == "failed" and "does not exist on this runner" in row["error"]


def test_include_types_restrict_what_a_runner_takes(aconn):
    build = jobs.enqueue(aconn, "code.build.test", {"command": "true"}, priority=9)
    debug = jobs.enqueue(aconn, "noop")
    _once("cogo-work", "--include-types", "noop,code.debug")
    assert jobs.get_job(aconn, debug)["status"] == "succeeded"
    assert jobs.get_job(aconn, build)["status"] == "queued"
    out = cogo("runner", "--executor-id", "cogo-work", "--once", env={"LIVE_INCLUDE_TYPES": "code.debug"})
    assert out.returncode == 0 and jobs.get_job(aconn, build)["status"] == "queued"


def test_plan_quality_enqueues_builds_then_a_gated_q1(aconn, tmp_path):
    plan = jobs.enqueue(aconn, "plan.quality", {"targets": [str(tmp_path), {"cwd": str(tmp_path), "command": "false"}],
                                                "command": "true", "threshold": 0.4})
    _once("cogo-plan")
    result = jobs.get_job(aconn, plan)["result"]
    builds, q1 = result["build_job_ids"], result["q1_job_id"]
    assert [jobs.get_job(aconn, b)["executor_id"] for b in builds] == ["cogo-work", "cogo-work"]
    assert jobs.get_job(aconn, builds[1])["payload"]["command"] == "false"
    gate = jobs.get_job(aconn, q1)
    assert gate["executor_id"] == "cogo-plan" and gate["depends_on"] == builds
    _once("cogo-plan")  # the gate waits for its builds; the planner never builds
    assert jobs.get_job(aconn, q1)["status"] == "queued"
    assert all(jobs.get_job(aconn, b)["status"] == "queued" for b in builds)
    _once("cogo-work")
    _once("cogo-work")
    assert [jobs.get_job(aconn, b)["status"] for b in builds] == ["succeeded", "failed"]
    _once("cogo-plan")
    gate = jobs.get_job(aconn, q1)
    if importlib.util.find_spec("cogo_pipelines.quality.gate") is None:
        assert gate["status"] == "failed" and "needs cogo_pipelines.quality.gate" in gate["error"]
    else:
        assert gate["status"] == "succeeded", gate["error"]
        assert gate["result"]["score"] == pytest.approx(0.5) and gate["result"]["passed"] is True


def test_idle_runner_wakes_on_notify_not_on_poll(aconn, tmp_path):
    log_file = tmp_path / "runner.log"
    proc = start_runner("--executor-id", "cogo-work", "--poll-seconds", "60", "--log-file", str(log_file),
                        "--log-format", "json")
    try:
        wait_for(lambda: log_file.exists() and "runner started" in log_file.read_text(), timeout=30)
        time.sleep(0.3)  # let it reach its LISTEN wait
        job_id = jobs.enqueue(aconn, "noop")
        enqueued = time.monotonic()
        wait_for(lambda: jobs.get_job(aconn, job_id)["status"] == "succeeded", timeout=10, every=0.02)
        assert time.monotonic() - enqueued < 5  # far below the 60 s poll
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    done = [entry for entry in lines if entry.get("status") == "succeeded"]
    assert done and done[0]["job_id"] == job_id and done[0]["job_type"] == "noop"
    assert done[0]["executor"] == "cogo-work" and "duration_s" in done[0]


@pytest.mark.parametrize("payload", [{"sleep_s": 60}, {"command": "sleep 60", "timeout_s": 120}])
def test_sigterm_releases_the_current_job(aconn, tmp_path, payload):
    job_type = "noop" if "sleep_s" in payload else "code.build.test"
    job_id = jobs.enqueue(aconn, job_type, {**payload, "cwd": str(tmp_path)} if job_type != "noop" else payload)
    proc = start_runner("--executor-id", "cogo-work", stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: jobs.get_job(aconn, job_id)["status"] == "running", timeout=30)
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, proc.stderr.read()
    row = jobs.get_job(aconn, job_id)
    # a command had started (its effects may have happened): that attempt counts; a sleep does not
    assert row["status"] == "queued" and row["attempts"] == (1 if job_type != "noop" else 0)
    assert row["error"].startswith("released")
    assert [e["event"] for e in jobs.job_events(aconn, job_id)] == ["claimed", "released"]


def test_a_command_that_stops_its_own_runner_runs_at_most_max_attempts_times(aconn, tmp_path):
    """A command can find its runner (its grandparent) and SIGTERM it. Released with the attempt
    given back, such a job ran again on every runner of its executor, stopping each, for ever."""
    marker = tmp_path / "runs"
    command = f"echo run >> {marker}; kill -TERM $(cut -d' ' -f4 /proc/$PPID/stat); sleep 30"
    job_id = jobs.enqueue(aconn, "code.build.test", {"command": command, "cwd": str(tmp_path), "timeout_s": 60},
                          max_attempts=2)
    for _ in range(4):
        out = cogo("runner", "--executor-id", "cogo-work", "--once")
        assert out.returncode == 0, out.stderr
    row = jobs.get_job(aconn, job_id)
    assert marker.read_text().splitlines() == ["run", "run"]
    assert row["status"] == "dead" and row["attempts"] == 2 and "released: runner stopping" in row["error"]


def test_runner_rejects_unknown_executor(database_url):
    out = cogo("runner", "--executor-id", "cogo-mars", "--once")
    assert out.returncode == 2 and "unknown executor id 'cogo-mars'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_runner_on_a_database_without_schema_gives_one_clear_line(pg_server, tmp_path):
    admin = pg_server.get_uri()
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS q_noschema WITH (FORCE)")
        c.execute("DROP ROLE IF EXISTS q_reader")
        c.execute("CREATE ROLE q_reader LOGIN")
        c.execute("CREATE DATABASE q_noschema")
    url = psycopg.conninfo.make_conninfo(pg_server.get_uri("q_noschema"), user="q_reader")
    try:
        out = cogo("runner", "--executor-id", "cogo-work", "--once",
                   env={"DATABASE_URL": url, "COGO_HOME": str(tmp_path)})
        assert out.returncode == 2, out.stderr
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "no cogo schema" in lines[0] and "Traceback" not in out.stderr
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS q_noschema WITH (FORCE)")
            c.execute("DROP ROLE IF EXISTS q_reader")


def test_batch_runner_drains_the_queue_and_exits_when_idle(aconn):
    with aconn.transaction():
        ok = [jobs.enqueue(aconn, "noop") for _ in range(20)]
        bad = jobs.enqueue(aconn, "noop", {"fail": "on purpose"})
        alien = jobs.enqueue(aconn, "code.nothing")
    out = cogo("runner", "--executor-id", "cogo-work", "--batch", "8", "--exit-when-idle")
    assert out.returncode == 0, out.stderr
    assert {jobs.get_job(aconn, j)["status"] for j in ok} == {"succeeded"}
    assert jobs.get_job(aconn, bad)["error"] == "noop asked to fail: on purpose"
    assert "unknown job type 'code.nothing'" in jobs.get_job(aconn, alien)["error"]
    events = aconn.execute("SELECT event, count(*) AS n FROM job_events GROUP BY event ORDER BY event").fetchall()
    assert {e["event"]: e["n"] for e in events} == {"claimed": 22, "failed": 2, "succeeded": 20}


def test_secrets_a_command_is_given_or_quotes_are_masked_in_what_is_stored(aconn, tmp_path):
    """``RUNNER_PASS_ENV`` hands a secret to builds on purpose (an ``NPM_TOKEN``): the command
    may use it, but the log, the result (which repeats the command and its working tree) and
    the error kept it in clear; nor was the notification webhook (its URL is its key) a secret."""
    token, webhook = "npm-SECRET-4242", "https://hooks.example/T0/B0/abcdef"
    command = f"echo npm=$NPM_TOKEN; echo arg={token}; echo hook={webhook}; exit 3"
    failed = jobs.enqueue(aconn, "code.build.test", {"command": command, "cwd": str(tmp_path)})
    gone = jobs.enqueue(aconn, "code.build.test", {"command": "true", "cwd": str(tmp_path / f"no-{token}")})
    out = cogo("runner", "--executor-id", "cogo-work", "--batch", "2", "--exit-when-idle",
               env={"NPM_TOKEN": token, "RUNNER_PASS_ENV": "NPM_TOKEN", "NOTIFY_WEBHOOK_URL": webhook})
    assert out.returncode == 0, out.stderr
    row, missing = jobs.get_job(aconn, failed), jobs.get_job(aconn, gone)
    stored = json.dumps([row["result"], row["error"], missing["result"], missing["error"],
                         [e["detail"] for e in jobs.job_events(aconn, failed) + jobs.job_events(aconn, gone)]])
    log = Path(row["result"]["log"]).read_text()
    for secret in (token, webhook):
        assert secret not in stored and secret not in log and secret not in out.stderr
    assert "npm=***" in row["result"]["log_tail"] and "hook=***" in log and "no-***" in missing["error"]


def test_secrets_never_reach_a_job_log(aconn, tmp_path):
    secret = "sk-service-role-0123456789"
    cmd = f"echo role=$SUPABASE_SERVICE_ROLE_KEY db=$DATABASE_URL; echo literal {secret}"
    job_id = jobs.enqueue(aconn, "code.debug", {"command": cmd, "cwd": str(tmp_path)})
    out = cogo("runner", "--executor-id", "cogo-work", "--once", env={"SUPABASE_SERVICE_ROLE_KEY": secret})
    assert out.returncode == 0, out.stderr
    row = jobs.get_job(aconn, job_id)
    text = Path(row["result"]["log"]).read_text()
    assert secret not in text and secret not in row["result"]["log_tail"] and secret not in out.stderr
    assert "role= db=" in text and "literal ***" in text


def test_a_command_flooding_its_log_is_stopped_at_the_cap_and_failed(aconn, tmp_path):
    """A test stuck printing in a loop would fill the runner's disk before its timeout: past
    RUNNER_MAX_LOG_MB the command's process group is killed and the log cut at the cap."""
    job_id = jobs.enqueue(aconn, "code.build.test", {"command": "yes flooding", "cwd": str(tmp_path), "timeout_s": 60})
    started = time.monotonic()
    out = cogo("runner", "--executor-id", "cogo-work", "--once", env={"RUNNER_MAX_LOG_MB": "2"})
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - started < 30
    row = jobs.get_job(aconn, job_id)
    assert row["status"] == "failed" and "wrote more than 2 MiB of output" in row["error"]
    log = Path(row["result"]["log"])
    assert 2 << 20 < log.stat().st_size < (2 << 20) + 200
    assert log.read_bytes().endswith(b"[cogo: output cut at 2 MiB; the command was stopped]\n")
    assert row["result"]["exit_code"] is None and row["result"]["log_tail"].startswith("flooding\n")


def test_job_logs_past_their_keep_go_once_a_day(tmp_path):
    from cogo_pipelines.queue.handlers import work

    keep = 90 * 86400
    old, new = tmp_path / "1.log", tmp_path / "2.log"
    for f in (old, new, tmp_path / "notes.txt"):
        f.write_text("x")
    now = time.time()
    os.utime(old, (now - keep - 60,) * 2)
    os.utime(tmp_path / "notes.txt", (now - keep - 60,) * 2)
    assert work.prune_old_logs(tmp_path, keep_s=keep, now=now) == 1
    assert not old.exists() and new.exists() and (tmp_path / "notes.txt").exists()
    os.utime(new, (now - keep - 60,) * 2)
    assert work.prune_old_logs(tmp_path, keep_s=keep, now=now + 60) == 0  # not again the same day
    assert work.prune_old_logs(tmp_path, keep_s=keep, now=now + work.PRUNE_EVERY_S + 1) == 1
