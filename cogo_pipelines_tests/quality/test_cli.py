"""``cogo gate q1`` / ``cogo snapshot`` / ``cogo notify weekly`` as real subprocesses."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cogo_pipelines_tests.quality.helpers import Receiver, seed_jobs

REPO_ROOT = Path(__file__).resolve().parents[2]
COGO = str(Path(sys.executable).with_name("cogo"))


def cogo(*args, database_url, tmp_path, **env):
    full_env = {**os.environ, "DATABASE_URL": database_url, "COGO_HOME": str(tmp_path / "home"),
                "HF_HUB_OFFLINE": "1", "COLUMNS": "80", **env}
    return subprocess.run([COGO, *args], check=False, cwd=REPO_ROOT, env=full_env, capture_output=True, text=True, timeout=180)


def test_gate_exit_codes_pass_fail(database_url, tmp_path):
    seed_jobs(database_url, succeeded=8, failed=2)
    passed = cogo("gate", "q1", database_url=database_url, tmp_path=tmp_path)
    assert passed.returncode == 0, passed.stderr
    assert "PASS" in passed.stdout and "0.800  (threshold 0.70)" in passed.stdout
    assert "8 succeeded, 2 failed" in passed.stdout and "code.build.test" in passed.stdout

    failed = cogo("gate", "q1", "--threshold", "0.9", database_url=database_url, tmp_path=tmp_path)
    assert failed.returncode == 1, failed.stderr
    assert "FAIL: Q1 0.800 < threshold 0.90" in failed.stdout
    assert "gate_fix 1:" in failed.stdout
    assert (tmp_path / "home" / "artifacts" / "gate_fix" / "1.md").is_file()


def test_gate_dry_run_scores_without_recording(database_url, tmp_path):
    seed_jobs(database_url, succeeded=8, failed=2)
    tried = cogo("gate", "q1", "--threshold", "0.9", "--dry-run", "--json", database_url=database_url, tmp_path=tmp_path)
    assert tried.returncode == 1, tried.stderr  # the verdict and exit code of a real run
    data = json.loads(tried.stdout)
    assert data["score"] == 0.8 and data["passed"] is False and data["run_id"] is None and data["gate_fix"] is None
    text = cogo("gate", "q1", "--threshold", "0.5", "--dry-run", database_url=database_url, tmp_path=tmp_path)
    assert text.returncode == 0 and "dry run: nothing recorded" in text.stdout
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM quality_runs").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM gate_fixes").fetchone()[0] == 0
    assert not (tmp_path / "home" / "artifacts" / "gate_fix").exists()


def test_gate_json_output(database_url, tmp_path):
    seed_jobs(database_url, succeeded=1, failed=1)
    out = cogo("gate", "q1", "--json", database_url=database_url, tmp_path=tmp_path)
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["score"] == 0.5 and data["passed"] is False and data["run_id"] == 1
    assert data["gate_fix"]["url"].endswith("/api/gate-fix/1")
    assert Path(data["gate_fix"]["json_path"]).is_file()


def test_gate_empty_and_allow_empty(database_url, tmp_path):
    empty = cogo("gate", "q1", database_url=database_url, tmp_path=tmp_path)
    assert empty.returncode == 1 and "no quality jobs finished" in empty.stdout
    allowed = cogo("gate", "q1", "--allow-empty", database_url=database_url, tmp_path=tmp_path)
    assert allowed.returncode == 0 and "n/a" in allowed.stdout


def test_gate_window_and_job_type_options(database_url, tmp_path):
    seed_jobs(database_url, succeeded=3, days_ago=2)
    seed_jobs(database_url, failed=3, days_ago=5)
    assert cogo("gate", "q1", "--window-days", "3", database_url=database_url, tmp_path=tmp_path).returncode == 0
    assert cogo("gate", "q1", database_url=database_url, tmp_path=tmp_path).returncode == 1
    other = cogo("gate", "q1", "--job-type", "code.debug", "--allow-empty", database_url=database_url,
                 tmp_path=tmp_path)
    assert other.returncode == 0 and "code.debug" in other.stdout


def test_gate_run_key_reports_the_recorded_run(database_url, tmp_path):
    seed_jobs(database_url, succeeded=1, failed=1)
    first = cogo("gate", "q1", "--run-key", "ci:77", "--json", database_url=database_url, tmp_path=tmp_path)
    seed_jobs(database_url, succeeded=9)
    again = cogo("gate", "q1", "--run-key", "ci:77", database_url=database_url, tmp_path=tmp_path)
    assert first.returncode == again.returncode == 1, again.stderr
    data = json.loads(first.stdout)
    assert data["reported"] is False and data["run_key"] == "ci:77" and data["run_id"] == 1
    assert "FAIL: Q1 0.500 < threshold 0.70" in again.stdout
    assert "reported quality run 1, recorded under run key 'ci:77'" in again.stdout
    assert "gate_fix 1:" in again.stdout and not (tmp_path / "home" / "artifacts" / "gate_fix" / "2.md").exists()
    bad = cogo("gate", "q1", "--run-key", " ", database_url=database_url, tmp_path=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "run key must be" in bad.stderr


@pytest.mark.parametrize("threshold", ["1.7", "-1"])
def test_gate_bad_threshold_exits_2(database_url, tmp_path, threshold):
    out = cogo("gate", "q1", "--threshold", threshold, database_url=database_url, tmp_path=tmp_path)
    assert out.returncode == 2 and "threshold must be between 0 and 1" in out.stderr


def test_gate_unreachable_db_exits_2(tmp_path):
    url = "postgresql://cogo:s3cretpw@127.0.0.1:9/nowhere"
    out = cogo("gate", "q1", database_url=url, tmp_path=tmp_path)
    assert out.returncode == 2 and "cannot connect" in out.stderr
    assert "s3cretpw" not in out.stderr + out.stdout


def test_gate_bad_source_and_missing_supabase_exit_2(database_url, tmp_path):
    bad = cogo("gate", "q1", "--source", "mysql", database_url=database_url, tmp_path=tmp_path)
    assert bad.returncode == 2 and "--source" in bad.stderr
    missing = cogo("gate", "q1", "--source", "supabase", database_url=database_url, tmp_path=tmp_path,
                   SUPABASE_URL="", SUPABASE_SERVICE_ROLE_KEY="")
    assert missing.returncode == 2 and "SUPABASE_URL" in missing.stderr


def test_snapshot_and_notify_commands(database_url, tmp_path):
    seed_jobs(database_url, succeeded=2, failed=1)
    snap = cogo("snapshot", "--json", database_url=database_url, tmp_path=tmp_path)
    assert snap.returncode == 0, snap.stderr
    data = json.loads(snap.stdout)
    assert data["q1"] == pytest.approx(2 / 3) and data["content"]["index"]["chunks"] == 0

    dry = cogo("notify", "weekly", "--dry-run", database_url=database_url, tmp_path=tmp_path)
    assert dry.returncode == 0, dry.stderr
    payload = json.loads(dry.stdout)
    assert payload["text"].startswith("cogo weekly summary") and payload["blocks"][0]["type"] == "header"

    with Receiver() as receiver:
        sent = cogo("notify", "weekly", database_url=database_url, tmp_path=tmp_path,
                    NOTIFY_WEBHOOK_URL=receiver.url)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["status"] == "sent"
    assert receiver.requests[0]["json"]["text"] == payload["text"]
    assert receiver.url not in sent.stdout
