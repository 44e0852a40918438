"""``cogo jobs enqueue|list|reap``: the CLI contract and its bad-input behaviour (exit 2, one
line, nothing queued)."""

import json

import pytest

from cogo_pipelines.queue import jobs

from .conftest import cogo


def test_enqueue_then_list_json(aconn):
    out = cogo("jobs", "enqueue", "code.build.test", "--payload", '{"command": "true"}', "--priority", "3")
    assert out.returncode == 0 and "warning" not in out.stderr, out.stderr
    job_id = int(out.stdout.strip())
    routed = cogo("jobs", "enqueue", "plan.quality", "--executor-id", "cogo-plan", "--json")
    assert json.loads(routed.stdout)["executor_id"] == "cogo-plan"
    listed = cogo("jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [set(r) for r in rows] == [{"id", "type", "executor_id", "status", "attempts", "result", "error"}] * 2
    assert rows[0] == {"id": job_id, "type": "code.build.test", "executor_id": "cogo-work", "status": "queued",
                       "attempts": 0, "result": None, "error": None}
    only_plan = json.loads(cogo("jobs", "list", "--json", "--executor-id", "cogo-plan").stdout)
    assert [r["type"] for r in only_plan] == ["plan.quality"]
    assert json.loads(cogo("jobs", "list", "--json", "--status", "running").stdout) == []
    assert aconn.execute("SELECT priority FROM jobs WHERE id = %s", (job_id,)).fetchone()["priority"] == 3


def test_a_type_no_builtin_executor_handles_is_queued_with_a_warning(aconn):
    out = cogo("jobs", "enqueue", "code.buld.test")  # a typo
    assert out.returncode == 0 and int(out.stdout.strip()) > 0
    assert "warning: no built-in handler of cogo-work runs 'code.buld.test'" in out.stderr
    assert "code.build.test" in out.stderr and len(out.stderr.splitlines()) == 1  # what it does run


def test_dedupe_key_on_the_cli(aconn):
    a = cogo("jobs", "enqueue", "noop", "--dedupe-key", "nightly").stdout.strip()
    b = cogo("jobs", "enqueue", "noop", "--dedupe-key", "nightly").stdout.strip()
    assert a == b
    assert len(jobs.list_jobs(aconn)) == 1


@pytest.mark.parametrize("args, message", [
    (["noop", "--payload", "{not json"], "payload is not valid JSON"),
    (["noop", "--payload", "[1, 2]"], "payload must be a JSON object"),
    (["noop", "--executor-id", "cogo-nowhere"], "unknown executor id 'cogo-nowhere'"),
    (["noop", "--priority", "-1"], "priority must be a non-negative integer from 0 to 1000"),
])
def test_bad_enqueue_exits_2_with_one_line(aconn, args, message):
    out = cogo("jobs", "enqueue", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr
    assert jobs.list_jobs(aconn) == []


def test_list_rejects_unknown_status(database_url):
    out = cogo("jobs", "list", "--status", "sleeping")
    assert out.returncode == 2 and "unknown status 'sleeping'" in out.stderr


def test_reap_command(aconn):
    job_id = jobs.enqueue(aconn, "noop", max_attempts=1)
    jobs.claim(aconn, "cogo-work", "gone", lease_seconds=0.01)
    out = cogo("jobs", "reap")
    assert out.returncode == 0 and json.loads(out.stdout) == {"requeued": 0, "dead": 1}
    assert jobs.get_job(aconn, job_id)["status"] == "dead"
