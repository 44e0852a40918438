"""/healthz is a liveness probe: it answers within about a second whatever the request handlers
or the database are doing, on a real uvicorn sidecar over HTTP."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import psycopg

from cogo_pipelines.server import create_app
from cogo_pipelines.server.store import PING_TIMEOUT_S
from cogo_pipelines.settings import Settings
from cogo_pipelines_tests.server.conftest import auth_headers, start_server, stop_server

SLOW_REQUESTS = 60  # more than the thread pool's 40 workers and the store pool's 8 connections
POOL_CONNECTIONS = 8


def test_healthz_answers_while_every_worker_thread_waits_on_the_database(sidecar, conn, database_url):
    """Slow handlers took every worker thread and pooled connection: /healthz, a sync handler on
    the pool, could only answer once one of them gave up (after POOL_WAIT_S, with its 503)."""
    conn.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")  # every /api/jobs read now waits on it
    done: list[int] = []

    def slow() -> None:
        try:
            done.append(httpx.get(f"{sidecar.url}/api/jobs", headers=auth_headers(), timeout=60).status_code)
        except httpx.HTTPError:
            done.append(0)

    threads = [threading.Thread(target=slow, daemon=True) for _ in range(SLOW_REQUESTS)]
    try:
        for thread in threads:
            thread.start()
        _wait_for_lock_waiters(database_url, POOL_CONNECTIONS)
        time.sleep(0.5)  # and the other workers on the pool: every worker thread is taken
        assert not done
        health = httpx.get(f"{sidecar.url}/healthz", timeout=30)
        assert health.status_code == 200 and health.json() == {"status": "ok", "store": True, "db": "up"}, health.text
        # answered while every slow request still waited; a probe that needs a worker thread gets
        # one only when a slow request ends
        assert not done, done
    finally:
        conn.rollback()
        for thread in threads:
            thread.join(60)


def _wait_for_lock_waiters(database_url: str, count: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as watcher:
        deadline = time.monotonic() + 30
        while watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                              "AND datname = current_database()").fetchone()[0] < count:
            assert time.monotonic() < deadline, "the slow requests never reached the database"
            time.sleep(0.05)


def test_healthz_reports_a_silent_database_down_within_its_bound(tmp_path):
    """A database host that accepts the connection and never answers (a hung server, a
    blackholed route) held /healthz for libpq's 10 s connect timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql://cogo@127.0.0.1:{silent.getsockname()[1]}/cogo"
        server, thread, base = start_server(create_app(Settings(database_url=url, cogo_home=tmp_path)))
        try:
            for _ in range(2):  # the second probe as well: nothing left behind holds it up
                started = time.monotonic()
                health = httpx.get(f"{base}/healthz", timeout=30)
                took = time.monotonic() - started
                assert health.status_code == 503, health.text
                body = health.json()
                assert body["db"] == "down" and body["status"] == 503, body
                assert f"no answer within {PING_TIMEOUT_S:g} s" in body["error"]
                assert took < PING_TIMEOUT_S + 3.0, took  # libpq waits 10 s
        finally:
            stop_server(server, thread)
