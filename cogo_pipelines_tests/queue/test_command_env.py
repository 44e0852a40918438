"""A job's command never sees a secret: not in its own environment, not in its runner's
exec-time environment (``/proc/$PPID/environ``), even base64-encoded past the log scrubber.
Real ``cogo runner`` processes against the test database; the attack of issue 17."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cogo_pipelines.queue import jobs
from cogo_pipelines.queue.command_env import command_env, is_secret, withheld

from .conftest import COGO, cogo, start_runner, wait_for

# Distinctive markers: the decoded dumps are searched for every one of them.
MARKED = {
    "SUPABASE_SERVICE_ROLE_KEY": "svc-Mk3-ROLE-MARKER",
    "SUPABASE_ANON_KEY": "anon-Mk3-ANON-MARKER",
    "SUPABASE_PUBLISHABLE_KEY": "pub-Mk3-PUB-MARKER",
    "VAULT_MASTER_KEY": "vault-Mk3-VAULT-MARKER",
    "NEO4J_PASSWORD": "neo-Mk3-NEO4J-MARKER",
    "COGO_API_TOKEN": "api-Mk3-TOKEN-MARKER",
    "NODE_AUTH_TOKEN": "npm-Mk3-NODE-AUTH-MARKER",      # an allowed prefix, but a secret name
    "MY_SERVICE_PASSWORD": "pw-Mk3-PASSWORD-MARKER",
    "DAGSTER_POSTGRES_URL": "postgresql://u:pw-Mk3-URL-MARKER@db/x",  # a password in a URL value
}
# The command's parent is the runner's process-group guard; its grandparent the runner: both dumped.
DUMP = ("id; echo; env | base64 -w0; echo; echo ===; { tr '\\0' '\\n' < /proc/$PPID/environ;"
        " tr '\\0' '\\n' < /proc/$(cut -d' ' -f4 /proc/$PPID/stat)/environ; } | base64 -w0; echo")


def _decode(log: str) -> tuple[str, str]:
    lines = log.strip().splitlines()
    sep = lines.index("===")
    return base64.b64decode(lines[sep - 1]).decode(), base64.b64decode(lines[sep + 1]).decode()


def _markers(database_url: str) -> dict[str, str]:
    # DATABASE_URL is a secret too: tagged with a marker the database ignores.
    url = database_url + ("&" if "?" in database_url else "?") + "application_name=dburl-Mk3-DBURL-MARKER"
    return {**MARKED, "DATABASE_URL": url}


@pytest.mark.parametrize("mode", ["once", "long-running"])
def test_a_job_dumping_its_env_and_its_runners_finds_no_secret(aconn, database_url, tmp_path, mode):
    env = {**_markers(database_url), "RUNNER_PASS_ENV": "NPM_REGISTRY_READ,FOO_TOKEN",
           "NPM_REGISTRY_READ": "passed-explicitly", "FOO_TOKEN": "token-passed-explicitly",
           "UNLISTED_VAR": "not-on-the-list", "npm_config_cache": "/tmp/npm-cache", "LC_ALL": "C.UTF-8"}
    job_id = jobs.enqueue(aconn, "code.debug", {"command": DUMP, "cwd": str(tmp_path)})
    if mode == "once":
        out = cogo("runner", "--executor-id", "cogo-work", "--once", env=env)
        assert out.returncode == 0, out.stderr
    else:
        runner = start_runner("--executor-id", "cogo-work", env=env, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: jobs.get_job(aconn, job_id)["status"] in ("succeeded", "failed"), timeout=60)
        finally:
            runner.terminate()
            runner.wait(30)
    row = jobs.get_job(aconn, job_id)
    assert row["status"] == "succeeded", row["error"]
    own, parent = _decode(Path(row["result"]["log"]).read_text())
    own_names = {line.partition("=")[0] for line in own.splitlines()}
    parent_names = {line.partition("=")[0] for line in parent.splitlines()}
    for name, value in _markers(database_url).items():
        assert value not in own and value not in parent, f"{name} reached the command"
        assert name not in own_names | parent_names, name
    assert "Mk3-" not in own + parent  # no marker, in any spelling or part of a value
    # The command got what a build needs, and what the operator passed by name.
    assert {"PATH", "HOME", "LC_ALL", "npm_config_cache", "NPM_REGISTRY_READ", "FOO_TOKEN"} <= own_names
    assert "UNLISTED_VAR" not in own_names and "PYTHONPATH" not in own_names
    # The dump is real: the runner's environ was read (its non-secret variables are there).
    assert "COGO_HOME" in parent_names and "UNLISTED_VAR" in parent_names


def test_the_runner_pid_is_kept_across_the_reexec(aconn, database_url, tmp_path):
    """The re-exec keeps the PID (supervisors, signals): SIGTERM still stops it cleanly."""
    job_id = jobs.enqueue(aconn, "noop")
    runner = subprocess.Popen([*COGO, "runner", "--executor-id", "cogo-work"],
                              env={**os.environ, **_markers(database_url)}, stderr=subprocess.PIPE, text=True)
    try:
        # The re-executed image: same PID, a clean environ (only the number of the handover pipe).
        wait_for(lambda: "COGO_SECRETS_FD=" in _environ(runner.pid), timeout=30)
        environ = _environ(runner.pid)
        assert "runner" in _cmdline(runner.pid) and "Mk3-" not in environ
        assert not any(v in environ for v in _markers(database_url).values())
        wait_for(lambda: jobs.get_job(aconn, job_id)["status"] == "succeeded", timeout=60)  # it has the database
    finally:
        runner.terminate()
        assert runner.wait(30) == 0, runner.stderr.read()


def _environ(pid: int) -> str:
    return Path(f"/proc/{pid}/environ").read_text(errors="replace")


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")


def test_allow_list_rules():
    environ = {"PATH": "/bin", "HOME": "/h", "LANG": "C", "LC_CTYPE": "C", "TERM": "xterm", "TZ": "UTC", "CI": "1",
               "NODE_OPTIONS": "--max-old-space-size=4096", "NODE_AUTH_TOKEN": "t", "npm_config__authToken": "t",
               "YARN_NPM_AUTH_TOKEN": "t", "PNPM_HOME": "/p", "DATABASE_URL": "postgresql://x", "SUPABASE_URL": "u",
               "VAULT_ADDR": "v", "NEO4J_URI": "n", "AWS_SECRET_ACCESS_KEY": "k", "GITHUB_TOKEN": "g",
               "PGPASSWORD": "p", "SOMETHING": "s", "NODE_EXTRA": "https://u:p@host/"}
    env = command_env(environ, pass_names=["GITHUB_TOKEN"], extra={"FROM_PAYLOAD": "1"})
    assert env == {"PATH": "/bin", "HOME": "/h", "LANG": "C", "LC_CTYPE": "C", "TERM": "xterm", "TZ": "UTC", "CI": "1",
                   "NODE_OPTIONS": "--max-old-space-size=4096", "PNPM_HOME": "/p", "GITHUB_TOKEN": "g",
                   "FROM_PAYLOAD": "1"}
    assert set(withheld(environ)) == {"NODE_AUTH_TOKEN", "npm_config__authToken", "YARN_NPM_AUTH_TOKEN",
                                      "DATABASE_URL", "SUPABASE_URL", "VAULT_ADDR", "NEO4J_URI",
                                      "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "PGPASSWORD", "NODE_EXTRA"}
    assert is_secret("COGO_API_TOKEN") and not is_secret("COGO_HOME") and not is_secret("RUNNER_PASS_ENV")


def test_in_process_runner_command_never_reexecs(monkeypatch):
    """Only a real `cogo runner` process re-executes; a caller in-process (pytest) is left alone."""
    from cogo_pipelines.queue import command_env as module

    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "x")
    monkeypatch.setattr(sys, "argv", ["pytest", "runner"])
    module.reexec_without_secrets()  # returns: this process is still here
