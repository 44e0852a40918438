"""Job state changes against the real store: claims, leases, the reaper, dedupe, routing."""

import threading
import time

import pytest

from cogo_pipelines.edge import router
from cogo_pipelines.queue import jobs, stats


def _events(conn, job_id):
    return [e["event"] for e in jobs.job_events(conn, job_id)]


def test_enqueue_routes_by_type_and_claim_leases(conn):
    plan = jobs.enqueue(conn, "plan.quality", {"targets": ["x"]})
    work = jobs.enqueue(conn, "code.build.test", {"command": "true"}, priority=5)
    assert jobs.get_job(conn, plan)["executor_id"] == "cogo-plan"
    assert jobs.get_job(conn, work)["executor_id"] == "cogo-work"
    claimed = jobs.claim(conn, "cogo-work", "r1", lease_seconds=30)
    assert [j.id for j in claimed] == [work]
    row = jobs.get_job(conn, work)
    assert row["status"] == "running" and row["lease_owner"] == "r1" and row["attempts"] == 1
    assert row["lease_expires_at"] is not None
    assert jobs.claim(conn, "cogo-work", "r2") == []  # nothing left for cogo-work


def test_claim_orders_by_priority_and_filters_types(conn):
    low = jobs.enqueue(conn, "code.build.test", {"command": "true"}, priority=0)
    high = jobs.enqueue(conn, "code.debug", {"command": "true"}, priority=9)
    other = jobs.enqueue(conn, "code.lint", priority=99)
    got = jobs.claim(conn, "cogo-work", "r", include_types=["code.build.test", "code.debug"], limit=5)
    assert [j.id for j in got] == [high, low]
    assert jobs.get_job(conn, other)["status"] == "queued"
    assert [j.id for j in jobs.claim(conn, "cogo-work", "r", include_types=["code.*"])] == [other]


def test_complete_by_a_runner_that_lost_its_lease_is_refused(conn):
    job_id = jobs.enqueue(conn, "noop")
    jobs.claim(conn, "cogo-work", "old", lease_seconds=0.01)
    time.sleep(0.05)
    assert jobs.reap(conn)["requeued"] == [job_id]
    assert jobs.get_job(conn, job_id)["status"] == "queued"
    with pytest.raises(jobs.LeaseLost, match="no longer holds"):
        jobs.complete(conn, job_id, "old", {"x": 1})
    jobs.claim(conn, "cogo-work", "new", lease_seconds=30)
    with pytest.raises(jobs.LeaseLost):
        jobs.fail(conn, job_id, "old", "late")
    jobs.complete(conn, job_id, "new", {"ok": True})
    with pytest.raises(jobs.LeaseLost):
        jobs.complete(conn, job_id, "new", {"twice": True})
    row = jobs.get_job(conn, job_id)
    assert row["status"] == "succeeded" and row["result"] == {"ok": True} and row["attempts"] == 2
    assert _events(conn, job_id) == ["claimed", "requeued", "claimed", "succeeded"]


def test_reaper_kills_after_max_attempts_and_keeps_the_last_error(conn):
    job_id = jobs.enqueue(conn, "noop", max_attempts=2)
    for owner in ("a", "b"):
        assert jobs.claim(conn, "cogo-work", owner, lease_seconds=0.01)
        time.sleep(0.03)
        jobs.reap(conn)
    row = jobs.get_job(conn, job_id)
    assert row["status"] == "dead" and row["attempts"] == 2 and row["finished_at"] is not None
    assert "dead after 2 attempts" in row["error"] and "lease of b expired" in row["error"]
    assert _events(conn, job_id) == ["claimed", "requeued", "claimed", "dead"]
    assert jobs.claim(conn, "cogo-work", "c") == []


def test_heartbeat_keeps_the_lease_and_reports_lost_ones(conn):
    a = jobs.enqueue(conn, "noop")
    b = jobs.enqueue(conn, "noop")
    jobs.claim(conn, "cogo-work", "me", limit=2, lease_seconds=0.2)
    jobs.release(conn, b, "me")
    assert jobs.heartbeat(conn, [a, b], "me", 30) == {a}
    time.sleep(0.3)
    assert jobs.reap(conn) == {"requeued": [], "dead": []}
    row = jobs.get_job(conn, b)
    assert row["status"] == "queued" and row["attempts"] == 0 and row["error"].startswith("released")


def test_fail_with_retry_requeues_then_dies(conn):
    job_id = jobs.enqueue(conn, "noop", max_attempts=2)
    jobs.claim(conn, "cogo-work", "r")
    assert jobs.fail(conn, job_id, "r", "flaky network", retry=True) == "queued"
    jobs.claim(conn, "cogo-work", "r")
    assert jobs.fail(conn, job_id, "r", "flaky again", retry=True) == "dead"
    row = jobs.get_job(conn, job_id)
    assert row["status"] == "dead" and row["error"] == "dead after 2 attempts; last error: flaky again"


def test_dedupe_key_returns_the_open_job(conn):
    first = jobs.enqueue(conn, "noop", dedupe_key="k")
    assert jobs.enqueue(conn, "noop", dedupe_key="k") == first
    jobs.claim(conn, "cogo-work", "r")
    assert jobs.enqueue(conn, "noop", dedupe_key="k") == first  # running is still open
    jobs.complete(conn, first, "r")
    assert jobs.enqueue(conn, "noop", dedupe_key="k") != first


def test_dependent_job_waits_for_its_dependencies(conn):
    build = jobs.enqueue(conn, "code.build.test", {"command": "true"})
    gate = jobs.enqueue(conn, "quality.q1", depends_on=[build])
    assert jobs.claim(conn, "cogo-plan", "p") == []
    jobs.claim(conn, "cogo-work", "w")
    assert jobs.claim(conn, "cogo-plan", "p") == []
    jobs.fail(conn, build, "w", "red")
    assert [j.id for j in jobs.claim(conn, "cogo-plan", "p")] == [gate]


@pytest.mark.parametrize("kwargs, message", [
    ({"priority": -1}, "priority must be a non-negative"),
    ({"executor_id": "nope"}, "unknown executor id 'nope'"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"dedupe_key": " "}, "dedupe key"),
])
def test_bad_enqueue_is_refused_and_queues_nothing(conn, kwargs, message):
    with pytest.raises(jobs.QueueError, match=message):
        jobs.enqueue(conn, "noop", **kwargs)
    assert jobs.list_jobs(conn) == []


def test_parse_payload_errors():
    assert jobs.parse_payload('{"a": 1}') == {"a": 1}
    with pytest.raises(jobs.QueueError, match="not valid JSON"):
        jobs.parse_payload("{nope")
    with pytest.raises(jobs.QueueError, match="JSON object"):
        jobs.parse_payload("[1]")


def test_concurrent_claims_never_hand_out_a_job_twice(database_url):
    from cogo_pipelines.store import db

    with db.connect(database_url) as c, c.transaction():
        for _ in range(200):
            jobs.enqueue(c, "noop")
    seen: list[int] = []
    lock = threading.Lock()

    def worker(n):
        with db.connect(database_url) as c:
            while got := jobs.claim(c, "cogo-work", f"w{n}", limit=7):
                with lock:
                    seen.extend(j.id for j in got)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == len(set(seen)) == 200


def test_stats_queue_depth_and_durations(conn):
    a = jobs.enqueue(conn, "noop")
    jobs.enqueue(conn, "plan.quality")
    jobs.claim(conn, "cogo-work", "r")
    jobs.complete(conn, a, "r")
    depth = {(r["executor_id"], r["status"]): r["count"] for r in stats.queue_depth(conn)}
    assert depth == {("cogo-work", "succeeded"): 1, ("cogo-plan", "queued"): 1}


def test_router_rules():
    assert router.select_route("plan.quality").executor_id == "cogo-plan"
    assert router.select_route("quality.q1").executor_id == "cogo-plan"
    assert router.select_route("code.build.test").executor_id == "cogo-work"
    fallback = router.select_route("mystery")
    assert fallback.executor_id == router.DEFAULT_EXECUTOR and "no rule" in fallback.reason
    rules = router.rules_from_dicts([
        {"pattern": "code.*", "executor_id": "cogo-work", "provider": "local"},
        {"pattern": "code.debug", "executor_id": "cogo-plan", "provider": "anthropic", "model": "m", "priority": 5},
    ])
    d = router.select_route("code.debug", rules=rules)
    assert (d.executor_id, d.provider, d.model) == ("cogo-plan", "anthropic", "m")
    assert router.select_route("code.debug", {"model": "other"}, rules=rules).model == "other"
    assert router.select_route("code.x", rules=rules).provider == "local"
    with pytest.raises(router.RouteError):
        router.rules_from_dicts([{"pattern": "x"}])


def test_finish_many_records_held_jobs_and_refuses_lost_ones(conn):
    a, b, c = (jobs.enqueue(conn, "noop") for _ in range(3))
    jobs.claim(conn, "cogo-work", "me", limit=3)
    jobs.release(conn, c, "me")
    refused = jobs.finish_many(conn, "me", [(a, "succeeded", {"n": 1}, None), (b, "failed", None, "red"),
                                             (c, "succeeded", None, None)])
    assert refused == {c}
    assert (jobs.get_job(conn, a)["status"], jobs.get_job(conn, a)["result"]) == ("succeeded", {"n": 1})
    assert (jobs.get_job(conn, b)["status"], jobs.get_job(conn, b)["error"]) == ("failed", "red")
    assert jobs.get_job(conn, c)["status"] == "queued"
    assert jobs.finish_many(conn, "me", [(a, "succeeded", None, None)]) == {a}  # never twice
    assert _events(conn, a) == ["claimed", "succeeded"]
    with pytest.raises(jobs.QueueError):
        jobs.finish_many(conn, "me", [(b, "dead", None, None)])


def test_enqueue_routes_by_the_configured_rules_table(conn):
    """Local routing reads route_rules like the sidecar's router-select, so both decide alike."""
    conn.execute("INSERT INTO route_rules (pattern, executor_id, priority) VALUES ('code.gpu.*', 'cogo-gpu', 10)")
    gpu = jobs.enqueue(conn, "code.gpu.train", {})
    plain = jobs.enqueue(conn, "code.build.test", {"command": "true"})
    rows = {r["id"]: r["executor_id"] for r in conn.execute("SELECT id, executor_id FROM jobs")}
    assert rows[gpu] == "cogo-gpu"
    assert rows[plain] == "cogo-work", "a type no configured rule matches goes to the default executor"
    assert jobs.enqueue(conn, "code.debug", {"command": "true"}, executor_id="cogo-gpu")  # now a known executor
