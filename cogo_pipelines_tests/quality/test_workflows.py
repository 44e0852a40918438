"""The GitHub Actions workflows parse, have the keys Actions requires, and name real Dagster jobs."""

import json
import re
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the bare key `on` as a boolean
    return data


def commands(workflow):
    return "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])


@pytest.mark.parametrize("name", ["ci.yml", "nightly.yml", "weekly.yml"])
def test_workflow_structure(name):
    workflow = load(name)
    assert workflow["name"] and workflow["on"] and workflow["jobs"]
    assert "workflow_dispatch" in workflow["on"]
    for job in workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] > 0
        assert job["steps"][0]["uses"].startswith("actions/checkout@")
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step
    from cogo_pipelines.definitions import defs

    for job_name in re.findall(r"dagster job execute -m cogo_pipelines\.definitions -j (\w+)", commands(workflow)):
        assert defs.resolve_job_def(job_name).name == job_name


def test_ci_runs_tests_and_the_gate():
    workflow = load("ci.yml")
    assert {"push", "pull_request"} <= set(workflow["on"])
    run = commands(workflow)
    assert "make test" in run
    assert ".venv/bin/dagster job execute -m cogo_pipelines.definitions -j q1_gate_job" in run
    assert "cogo gate q1 --source supabase" in run
    assert run.index("make test") < run.index("-j q1_gate_job")
    import dagster as dg

    from cogo_pipelines.defs.quality.jobs import q1_gate_job

    config = json.loads(re.search(r"echo '(\{.*\})' > \"\$RUNNER_TEMP/q1_gate.json\"", run).group(1))
    assert dg.validate_run_config(q1_gate_job, config)["ops"]["q1_gate"]["config"]["allow_empty"] is True


def test_scheduled_workflows():
    nightly, weekly = load("nightly.yml"), load("weekly.yml")
    assert nightly["on"]["schedule"] == [{"cron": "0 2 * * *"}]
    assert weekly["on"]["schedule"][0]["cron"].split()[4] == "1"  # Monday
    assert "-j nightly_snapshot_job" in commands(nightly)
    assert "-j weekly_queue_job" in commands(weekly) and "-j weekly_summary_job" in commands(weekly)
    for workflow in (nightly, weekly):
        env = next(iter(workflow["jobs"].values()))["env"]
        assert env["DATABASE_URL"] == "${{ secrets.DATABASE_URL }}"
        assert env["NOTIFY_WEBHOOK_URL"] == "${{ secrets.NOTIFY_WEBHOOK_URL }}"
