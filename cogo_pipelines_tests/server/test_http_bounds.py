"""``cogo serve`` bounds what one client can hold: header bytes and header time
(``server/http_protocol.py``), on a real server process over real sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cogo_pipelines.server.http_protocol import HEADER_TIMEOUT_S, MAX_HEADER_BYTES
from cogo_pipelines_tests.processes import alive
from cogo_pipelines_tests.server.conftest import free_socket


def _serve(database_url: str) -> tuple[subprocess.Popen, int]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("COGO_API_TOKEN", None)
    server = subprocess.Popen([sys.executable, "-m", "cogo_pipelines.cli", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server, port
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("cogo serve did not start")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_headers_past_the_bound_are_refused_and_a_silent_connection_is_closed(database_url):
    server, port = _serve(database_url)
    try:
        before = _rss_kib(server.pid)
        try:  # a 400, or the connection closed while the client still sends
            huge = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Big": "a" * (20 * MAX_HEADER_BYTES)},
                             timeout=30)
            assert huge.status_code == 431
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            pass
        assert _rss_kib(server.pid) - before < 16 * 1024  # KiB: the header was not kept
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200

        half_open = socket.create_connection(("127.0.0.1", port))
        half_open.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends its headers
        half_open.settimeout(HEADER_TIMEOUT_S + 10)
        started = time.monotonic()
        assert half_open.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 5
        half_open.close()
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
        assert not alive(server.pid)


def _raw_exchange(port: int, request: bytes) -> bytes:
    """``request`` as sent on a fresh connection; everything the server answered before closing it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_malformed_request_gets_a_json_400(database_url):
    """h11 refuses these before the app sees them, and uvicorn answered in plain text
    ("Invalid HTTP request received."): the API's clients parse every 4xx as {error, status}."""
    server, port = _serve(database_url)
    try:
        for request, status in (
                (b"GARBAGE\r\n\r\n", "400 Bad Request"),
                (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n", "400 Bad Request"),
                # unfinished headers past the bound (all of them read before the answer: more, and
                # the close with unread bytes would reset the connection before the answer is read)
                (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES + 4096),
                 "431 Request Header Fields Too Large")):
            head, _, body = _raw_exchange(port, request).partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines[1:])
            assert lines[0] == f"HTTP/1.1 {status}", (request[:40], head)
            assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
            error = json.loads(body)
            assert error["status"] == int(status[:3])
            assert error["error"].startswith("malformed HTTP request" if status[0:3] == "400" else "request headers")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)


def _answer(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return lines[0], dict(line.lower().split(": ", 1) for line in lines[1:]), body


def test_complete_headers_past_the_bound_get_a_json_431(database_url):
    """h11 bounds only a header block still incomplete in its buffer: ~100 KiB of headers that
    arrived whole were served (200). Now any request whose headers pass ``MAX_HEADER_BYTES`` is
    a 431 with the API's JSON error; headers under the bound, and the next request, are served."""
    start = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    padding = [b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(100)]  # ~100 KiB, lines of 1 KB
    server, port = _serve(database_url)
    try:
        status, headers, body = _answer(_raw_exchange(port, start + b"".join(padding) + b"\r\n"))
        assert status == "HTTP/1.1 431 Request Header Fields Too Large", (status, body[:200])
        assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
        assert json.loads(body) == {"error": f"request headers larger than {MAX_HEADER_BYTES // 1024} KiB",
                                    "status": 431}
        under = b"".join(padding[:(MAX_HEADER_BYTES - 2048) // 1024])  # just under the bound: served
        assert _answer(_raw_exchange(port, start + under + b"\r\n"))[0] == "HTTP/1.1 200 OK"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
