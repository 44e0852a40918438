"""The supabase source: its PostgREST requests (unit), its wiring against a local PostgREST
stand-in (a real HTTP server), and a real Supabase when SUPABASE_URL is set."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from supabase import create_client

from cogo_pipelines import settings
from cogo_pipelines.quality.gate import GateError, GateQuery, SourceUnavailable, evaluate_q1
from cogo_pipelines.quality.gate_fix_html import render_html
from cogo_pipelines.quality.supabase_source import FLAKY_COLUMNS, SupabaseJobSource, jobs_query

FAKE_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJl"
NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)


def _query(target=None):
    return GateQuery.build(window_days=7, job_types=["code.build.test", "code.lint"], target=target, now=NOW)


def test_count_query_is_a_head_request_with_exact_count():
    client = create_client("https://project.supabase.co", FAKE_KEY)
    request = jobs_query(client, _query(), "failed", head=True).request
    assert request.http_method == "HEAD"
    assert str(request.path).endswith("/rest/v1/jobs")
    assert request.headers["prefer"] == "count=exact"
    params = request.params.multi_items()
    assert ("type", "in.(code.build.test,code.lint)") in params
    assert ("status", "eq.failed") in params
    assert ("finished_at", f"gte.{(NOW - timedelta(days=7)).isoformat()}") in params
    assert ("finished_at", f"lte.{NOW.isoformat()}") in params


def test_failing_rows_query_orders_limits_and_filters_target():
    client = create_client("https://project.supabase.co", FAKE_KEY)
    request = jobs_query(client, _query(target="examples/cogo-sample"), "failed", head=False).request
    params = dict(request.params.multi_items())
    assert request.http_method == "GET"
    assert params["select"] == "id,type,executor_id,finished_at,attempts,payload,error"
    assert params["payload->>target"] == "eq.examples/cogo-sample"
    assert params["order"] == "finished_at.desc,id.desc"
    assert params["limit"] == "20"


def test_missing_configuration_is_an_error(monkeypatch):
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY", raising=False)
    settings.reload_settings()
    try:
        with pytest.raises(GateError, match="SUPABASE_URL"):
            evaluate_q1(None, source="supabase")
    finally:
        settings.reload_settings()


class PostgrestStandIn:
    """Answers the source's requests with canned counts and rows, like PostgREST would, and records
    them (an ``or`` filter is the infrastructure failures'); ``delay``: seconds each answer waits
    before it starts (a slow but live project). ``postgrest.PostgrestOverPostgres`` answers from
    real rows instead (test_source_parity.py)."""

    def __init__(self, counts, failing_rows, flaky_rows=(), delay=0.0):
        self.requests = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status, body=b"", headers=()):
                time.sleep(delay)
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self):
                query = parse_qs(urlsplit(self.path).query)
                owner.requests.append(("HEAD", self.path, dict(self.headers)))
                status = "flaky" if "result->>flaky" in query else "infra_failed" if "or" in query \
                    else query["status"][0].removeprefix("eq.")
                self._reply(200, headers=[("Content-Range", f"*/{counts.get(status, 0)}")])

            def do_GET(self):
                owner.requests.append(("GET", self.path, dict(self.headers)))
                rows = flaky_rows if "result->>flaky" in parse_qs(urlsplit(self.path).query) else failing_rows
                self._reply(200, json.dumps(list(rows)).encode(), [("Content-Type", "application/json")])

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(("POST", self.path, body))
                self._reply(201, json.dumps([{"id": 4242, **body}]).encode(), [("Content-Type", "application/json")])

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_source_counts_and_records_through_rest(monkeypatch):
    rows = [{"id": 9, "type": "code.build.test", "executor_id": "cogo-work", "finished_at": NOW.isoformat(),
             "attempts": 1, "payload": {"target": "t", "command": "npm test"}, "error": "TypeError: x is undefined"}]
    flaky_rows = [{"id": 5, "type": "code.build.test", "executor_id": "cogo-work", "finished_at": NOW.isoformat(),
                   "attempts": 1, "payload": {"target": "t", "command": "npm test"}, "error": None,
                   "runs": [{"attempt": 1, "exit_code": 1, "log_tail": "x"}], "summary": {"passed": 3, "failed": 0}}]
    stand_in = PostgrestStandIn({"succeeded": 3, "failed": 7, "flaky": 1}, rows, flaky_rows)
    monkeypatch.setenv("SUPABASE_URL", stand_in.url)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", FAKE_KEY)
    settings.reload_settings()
    try:
        result = evaluate_q1(None, source="supabase", threshold=0.5)
    finally:
        stand_in.server.shutdown()
        settings.reload_settings()
    assert (result.succeeded, result.failed, result.passed, result.run_id) == (3, 7, False, 4242)
    assert result.score == pytest.approx(0.3) and result.source == "supabase"
    assert result.failing_jobs[0]["error"] == "TypeError: x is undefined"
    assert result.failing_jobs[0]["target"] == "t"
    assert result.flaky == 1 and result.flaky_jobs[0]["id"] == 5 and result.flaky_jobs[0]["runs"][0]["exit_code"] == 1
    assert "1 flaky" in result.message
    methods = [r[0] for r in stand_in.requests]
    assert methods == ["HEAD", "HEAD", "HEAD", "HEAD", "GET", "GET", "POST"]
    assert "or" in parse_qs(urlsplit(stand_in.requests[2][1]).query) and result.infra_failed == 0
    flaky_query = parse_qs(urlsplit(stand_in.requests[5][1]).query)
    assert flaky_query["result->>flaky"] == ["eq.true"] and flaky_query["status"] == ["eq.succeeded"]
    assert flaky_query["select"] == [FLAKY_COLUMNS] and "runs:result->attempts" in FLAKY_COLUMNS
    head_headers = {k.lower(): v for k, v in stand_in.requests[0][2].items()}
    assert head_headers["authorization"] == f"Bearer {FAKE_KEY}" and head_headers["apikey"] == FAKE_KEY
    recorded = stand_in.requests[-1][2]
    assert recorded["source"] == "supabase" and recorded["failed"] == 7 and recorded["passed"] is False


def test_unreachable_supabase_is_an_error(monkeypatch):
    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", FAKE_KEY)
    settings.reload_settings()
    try:
        with pytest.raises(SourceUnavailable, match="supabase source failed: cannot reach http://127.0.0.1:9 while "
                           "counting succeeded jobs .*check: that SUPABASE_URL is right and reachable"):
            evaluate_q1(None, source="supabase")
    finally:
        settings.reload_settings()


class StalledServer:
    """A server that accepts connections and never answers (a paused project, a proxy holding on)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


class TricklingServer(StalledServer):
    """A server that starts an answer and never finishes it: one byte of a header every 0.25 s,
    each well inside any per-read timeout (a proxy keeping a dead upstream "alive")."""

    def _accept(self) -> None:
        while True:
            try:
                conn = self.sock.accept()[0]
            except OSError:
                return
            self.held.append(conn)
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    @staticmethod
    def _trickle(conn: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536) or b"\r\n\r\n"
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Trickle: ")
            while True:
                conn.sendall(b"a")
                time.sleep(0.25)
        except OSError:
            return


def _evaluate_in_thread(limit_s):
    """``evaluate_q1`` on the supabase source, in a thread given ``limit_s`` (the code before the
    total deadline never returned here): what it raised and how long it took."""
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            outcome["result"] = evaluate_q1(None, source="supabase")
        except Exception as exc:  # noqa: BLE001 - the test asserts on what it was
            outcome["error"] = exc
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit_s)
    assert not thread.is_alive(), f"the gate's source read was still running after {limit_s} s"
    return outcome


def test_trickling_supabase_fails_within_its_total_deadline(monkeypatch):
    """httpx's timeouts are per socket wait: a byte every 0.25 s kept one request alive forever.
    SUPABASE_TIMEOUT_S is a total deadline, and the failure is the ordinary 'no answer' one."""
    trickling = TricklingServer()
    monkeypatch.setenv("SUPABASE_URL", trickling.url)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", FAKE_KEY)
    monkeypatch.setenv("SUPABASE_TIMEOUT_S", "1")
    settings.reload_settings()
    try:
        outcome = _evaluate_in_thread(10)
    finally:
        trickling.close()
        settings.reload_settings()
    assert outcome["elapsed"] < 1.75, outcome
    error = outcome.get("error")
    assert isinstance(error, SourceUnavailable), outcome
    assert error.error == "no answer within 1 s while counting succeeded jobs (ReadTimeout)"
    assert "SUPABASE_TIMEOUT_S" in error.check


def test_slow_answers_share_one_deadline_for_the_read_and_one_for_the_record(monkeypatch):
    """Every answer (0.5 s) fits the 2 s timeout, but one gate's read of the source is bounded as a
    whole: three requests fit, five do not; recording the run has a deadline of its own."""
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", FAKE_KEY)
    monkeypatch.setenv("SUPABASE_TIMEOUT_S", "2")
    quiet = PostgrestStandIn({"succeeded": 3}, [], delay=0.5)
    monkeypatch.setenv("SUPABASE_URL", quiet.url)
    settings.reload_settings()
    try:
        passed = _evaluate_in_thread(30)
    finally:
        quiet.server.shutdown()
    assert "error" not in passed, passed
    assert passed["result"].run_id == 4242 and [r[0] for r in quiet.requests] == ["HEAD", "HEAD", "HEAD", "POST"]

    rows = [{"id": 9, "type": "code.build.test", "finished_at": NOW.isoformat(), "payload": {}, "error": "x"}]
    busy = PostgrestStandIn({"succeeded": 3, "failed": 1, "flaky": 1}, rows, rows, delay=0.5)
    monkeypatch.setenv("SUPABASE_URL", busy.url)
    settings.reload_settings()
    try:
        failed = _evaluate_in_thread(30)
    finally:
        busy.server.shutdown()
        settings.reload_settings()
    assert failed["elapsed"] < 2.75, failed
    error = failed.get("error")
    assert isinstance(error, SourceUnavailable), failed
    assert error.error.startswith("no answer within 2 s while "), error.error
    assert not any(r[0] == "POST" for r in busy.requests)


@pytest.mark.parametrize("server_kind", [StalledServer, TricklingServer])
def test_stalled_supabase_fails_the_gate_in_its_timeout_and_its_gate_fix_names_it(database_url, tmp_path,
                                                                                  server_kind):
    """A real `cogo gate q1 --source supabase` against a server that never answers, or never
    finishes answering: exit 2 within SUPABASE_TIMEOUT_S (the client's default held each request
    120 s; a trickle held it forever), one line naming the source, the error and what to check,
    and a gate_fix saying the same; no quality run recorded."""
    stalled = server_kind()
    env = {**os.environ, "DATABASE_URL": database_url, "COGO_HOME": str(tmp_path / "home"),
           "SUPABASE_URL": stalled.url, "SUPABASE_SERVICE_ROLE_KEY": FAKE_KEY, "SUPABASE_TIMEOUT_S": "1"}
    started = time.monotonic()
    try:
        out = subprocess.run([str(Path(sys.executable).with_name("cogo")), "gate", "q1", "--source", "supabase"],
                             env=env, capture_output=True, text=True, timeout=60, check=False)
    finally:
        stalled.close()
    assert time.monotonic() - started < 15  # 1 s of deadline; the rest is the CLI starting and writing the fix
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("cogo: error: supabase source failed: no answer within 1 s while counting "
                                 "succeeded jobs (ReadTimeout) (check: that " + stalled.url + " is up and answering")
    assert "gate_fix 1: " in out.stderr and FAKE_KEY not in out.stderr
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM quality_runs").fetchone()[0] == 0
        fix = conn.execute("SELECT quality_run_id, content, markdown_path FROM gate_fixes").fetchone()
    run_id, content, markdown_path = fix
    assert run_id is None and content["passed"] is None and content["failing_jobs"] == []
    assert content["source_failure"]["source"] == "supabase"
    assert content["source_failure"]["error"].startswith("no answer within 1 s while counting succeeded jobs")
    assert "SUPABASE_TIMEOUT_S" in content["source_failure"]["check"]
    assert content["job_types"] == ["code.build.test"] and content["window"]["start"]
    markdown = Path(markdown_path).read_text()
    assert markdown.startswith("# gate_fix 1: Q1 not evaluated: the supabase source failed")
    assert "- error: no answer within 1 s" in markdown
    page = render_html(content, self_url="/api/gate-fix/1")
    assert "Q1 not evaluated</span>: the supabase source failed" in page and "SUPABASE_TIMEOUT_S" in page


def test_refused_key_names_the_service_role_key(monkeypatch):
    """PostgREST's 401 on a HEAD count (no body: the status is all there is) points at the key."""

    class Refusing(BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SUPABASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", FAKE_KEY)
    settings.reload_settings()
    try:
        with pytest.raises(SourceUnavailable) as caught:
            evaluate_q1(None, source="supabase")
    finally:
        server.shutdown()
        settings.reload_settings()
    assert caught.value.error.startswith("counting succeeded jobs answered 401 ")
    assert caught.value.check == "that SUPABASE_SERVICE_ROLE_KEY is this project's service-role key"


@pytest.mark.supabase
@pytest.mark.skipif(not os.environ.get("SUPABASE_URL"), reason="needs SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY")
def test_real_supabase_round_trip():
    """Seeds jobs of a unique type in the real project, gates on them, then removes what it wrote."""
    settings.reload_settings()
    source = SupabaseJobSource.from_settings()
    job_type = f"cogo.test.{uuid.uuid4().hex[:8]}"
    finished = datetime.now(UTC) - timedelta(hours=1)
    rows = [{"type": job_type, "executor_id": "cogo-work", "status": status, "finished_at": finished.isoformat(),
             "error": "boom" if status == "failed" else None} for status in ["succeeded"] * 3 + ["failed"]]
    rows.append({"type": job_type, "executor_id": "cogo-work", "status": "failed",  # infrastructure: not in Q1
                 "finished_at": (finished + timedelta(minutes=1)).isoformat(), "error": "command timed out after 600 s",
                 "result": {"timed_out": True}})
    source.client.table("jobs").insert(rows).execute()
    run_id = None
    try:
        result = evaluate_q1(None, source="supabase", job_types=[job_type], threshold=0.7)
        run_id = result.run_id
        assert (result.succeeded, result.failed, result.infra_failed, result.passed) == (3, 1, 1, True)
        assert [job["error"] for job in result.failing_jobs] == ["boom"]
        assert [job["error"] for job in result.infra_jobs] == ["command timed out after 600 s"]
        assert run_id is not None
    finally:
        source.client.table("jobs").delete().eq("type", job_type).execute()
        if run_id is not None:
            source.client.table("quality_runs").delete().eq("id", run_id).execute()
