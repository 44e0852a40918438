"""The Dagster instance of ``make run`` / ``make dagster`` (``dagster.yaml``, copied to
DAGSTER_HOME), loaded by Dagster itself; and what its run monitoring is for: a run whose process
was killed (a real ``dagster job execute``, SIGKILLed mid-run) stays STARTED until the real
``dagster-daemon`` marks it failed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from cogo_pipelines_tests.deploy.helpers import REPO_ROOT

DAGSTER_BIN = Path(sys.executable).parent
# nothing listens on port 1: the gate's store connection retries for 30 s, so the run is STARTED
UNREACHABLE_STORE = "postgresql://cogo@127.0.0.1:1/cogo"


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


def test_dagster_yaml_loads_with_run_monitoring_for_the_default_launcher(tmp_path):
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    instance = _instance(tmp_path)  # Dagster refuses resume attempts its launcher cannot make
    try:
        assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
        assert instance.run_monitoring_enabled
        assert "MONITORING" in instance.get_required_daemon_types()
        assert instance.run_monitoring_max_resume_run_attempts == 0
        assert 60 <= instance.run_monitoring_start_timeout_seconds <= 600
        # the only sign of a run lost with its code server: far past any run, yet not for ever
        assert 3600 <= instance.run_monitoring_max_runtime_seconds <= 24 * 3600
        assert 0 < instance.run_monitoring_poll_interval_seconds <= 120
    finally:
        instance.dispose()


def _runs(home: Path) -> list[dg.DagsterRun]:
    instance = _instance(home)
    try:
        return [record.dagster_run for record in instance.get_run_records()]
    finally:
        instance.dispose()


def _wait_for(home: Path, status: dg.DagsterRunStatus, within_s: float) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        runs = _runs(home)
        if runs and all(run.status == status for run in runs):
            return runs
        time.sleep(0.5)
    return _runs(home)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_a_killed_run_is_marked_failed_by_the_daemons_run_monitoring(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    # the shipped settings, with its hours and minutes made seconds for the test
    config.setdefault("run_monitoring", {}).update(max_runtime_seconds=3, poll_interval_seconds=1)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    env = {"PATH": f"{DAGSTER_BIN}:/usr/bin:/bin", "DAGSTER_HOME": str(home), "COGO_HOME": str(tmp_path / "home"),
           "DATABASE_URL": UNREACHABLE_STORE, "HF_HUB_OFFLINE": "1"}

    run = subprocess.Popen([str(DAGSTER_BIN / "dagster"), "job", "execute", "-m", "cogo_pipelines.definitions",
                            "-j", "q1_gate_job"], cwd=REPO_ROOT, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = _wait_for(home, dg.DagsterRunStatus.STARTED, 120)
        assert [r.status for r in started] == [dg.DagsterRunStatus.STARTED]
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the run's process and its step process, as an OOM kill would
        run.wait()
    time.sleep(2)
    assert [r.status for r in _runs(home)] == [dg.DagsterRunStatus.STARTED]  # nothing else would end it

    daemon = subprocess.Popen([str(DAGSTER_BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO_ROOT,
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        ended = _wait_for(home, dg.DagsterRunStatus.FAILURE, 120)
    finally:
        _stop(daemon)
    assert [r.status for r in ended] == [dg.DagsterRunStatus.FAILURE]
    instance = _instance(home)
    try:
        messages = [e.message for e in instance.all_logs(ended[0].run_id)]
    finally:
        instance.dispose()
    assert any("maximum runtime of 3 seconds" in (m or "") for m in messages), messages[-5:]
