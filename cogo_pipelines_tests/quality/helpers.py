"""Seeded job histories and a real local webhook receiver (the stand-in for Slack)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import psycopg

BUILD = "code.build.test"
TS_ERROR = (
    "> vitest run\n"
    " FAIL  src/queue/claim.test.ts > claimNextJob > skips locked rows\n"
    "AssertionError: expected 2 to equal 1\n"
    "    at claimNextJob (src/queue/claim.ts:42:11)\n"
    "Error: lease expired before heartbeat in renewLease\n"
)


def seed_jobs(url_or_conn: str | psycopg.Connection, *, succeeded: int = 0, failed: int = 0,
              days_ago: float = 1.0, job_type: str = BUILD, error: str = TS_ERROR,
              target: str | None = None, status_extra: dict[str, int] | None = None) -> list[int]:
    """Insert finished jobs directly (committed), ``days_ago`` before now."""
    finished = datetime.now(UTC) - timedelta(days=days_ago)
    rows = [("succeeded", None)] * succeeded + [("failed", error)] * failed
    for status, count in (status_extra or {}).items():
        rows += [(status, error if status != "succeeded" else None)] * count
    payload = json.dumps({"command": "npm test", **({"target": target} if target else {})})
    own = isinstance(url_or_conn, str)
    conn = psycopg.connect(url_or_conn, autocommit=True) if own else url_or_conn
    try:
        ids = []
        for status, err in rows:
            ids.append(conn.execute(
                "INSERT INTO jobs (type, executor_id, status, payload, created_at, started_at, finished_at, error)"
                " VALUES (%s, 'cogo-work', %s, %s, %s, %s, %s, %s) RETURNING id",
                (job_type, status, payload, finished - timedelta(minutes=5), finished - timedelta(minutes=4),
                 finished if status in ("succeeded", "failed", "dead") else None, err),
            ).fetchone()[0])
        if not own:
            conn.commit()
        return ids
    finally:
        if own:
            conn.close()


class LocalServer:
    """A real HTTP server on 127.0.0.1 in a thread, for ``with`` (what the outside services' stand-ins share)."""

    def serve(self, handler: type[BaseHTTPRequestHandler], path: str = "") -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Receiver(LocalServer):
    """A real HTTP server standing in for Slack: answers with the queued behaviours in order."""

    def __init__(self) -> None:
        self.behaviours: list[tuple[int, float]] = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, delay = receiver.behaviours.pop(0) if receiver.behaviours else (200, 0.0)
                receiver.requests.append({"path": self.path, "json": json.loads(body or b"null"),
                                          "content_type": self.headers.get("Content-Type")})
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"ok" if status < 400 else b"boom")
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.serve(Handler, "/hooks/T000/B000/secret-token")
