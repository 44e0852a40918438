"""The sidecar's HTTP/1.1: uvicorn's h11 protocol with the bounds a server on ``0.0.0.0`` needs.

- **Header size.** A request whose request line and headers pass ``MAX_HEADER_BYTES`` is a JSON
  431. h11's own bound (``max_incomplete_event_size``) holds only while the header block is
  incomplete in its buffer: one that arrived whole was parsed whatever its size (100 KiB were
  served), so each parsed request is measured too. uvicorn picks httptools when it is
  installed, which has no bound: one request with a 400 MB header took the server from 120 to
  766 MB, and kept it.
- **Header time.** A connection must have sent its first request's headers within
  ``HEADER_TIMEOUT_S`` of opening, or it is closed. Half-open connections that trickle header
  bytes (slowloris) were held for ever, and ~1,000 of them took every file descriptor of a
  default ``ulimit -n``: ``/healthz`` stopped answering. Between requests uvicorn's keep-alive
  timeout applies.
- **Malformed requests** (a garbage request line, a header line without a colon) and headers
  past the bound never reach the app: uvicorn answers them itself, in plain text ("Invalid HTTP
  request received."). Its one hook for that answer, ``send_400_response``, writes the API's JSON
  error instead (400, or 431 for the headers), with the headers every other answer carries.
"""

from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from cogo_pipelines.server.headers import SECURITY_HEADERS

HEADER_TIMEOUT_S = 10.0
MAX_HEADER_BYTES = 64 * 1024
MALFORMED = "malformed HTTP request: its request line or headers could not be parsed"
TOO_LARGE = f"request headers larger than {MAX_HEADER_BYTES // 1024} KiB"


def header_bytes(request: h11.Request) -> int:
    """The size of ``request``'s request line and header lines as sent (less optional spaces)."""
    line = len(request.method) + len(request.target) + len(b" HTTP/1.1\r\n") + 1
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items()) + 2


class BoundedConnection(h11.Connection):
    """``h11.Connection`` that refuses a parsed request whose headers pass ``MAX_HEADER_BYTES``
    (h11 bounds only an incomplete header block), and keeps the HTTP status its last refusal
    asks for (431 for headers too large, from h11 or from here), which uvicorn does not pass on."""

    refusal_status = 400

    def __init__(self) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)

    def next_event(self):  # type: ignore[override]
        try:
            event = super().next_event()
            if isinstance(event, h11.Request) and header_bytes(event) > MAX_HEADER_BYTES:
                raise h11.RemoteProtocolError(TOO_LARGE, error_status_hint=431)
        except h11.RemoteProtocolError as exc:
            self.refusal_status = exc.error_status_hint
            raise
        return event


class BoundedH11Protocol(H11Protocol):
    """``H11Protocol`` that closes a connection whose first request has not started (its
    headers not all read) ``HEADER_TIMEOUT_S`` after it opened, refuses headers past
    ``MAX_HEADER_BYTES`` with a JSON 431, and a request h11 cannot parse with a JSON 400."""

    header_timeout_s = HEADER_TIMEOUT_S

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conn = BoundedConnection()  # the bound is the protocol's, whatever the config says

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers_due = self.loop.call_later(self.header_timeout_s, self._headers_overdue)

    def _headers_overdue(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_due.cancel()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request h11 refused (``msg`` is its fixed text), as ``{error,
        status}`` JSON: 431 for headers too large, else 400; the connection is closed after it,
        as uvicorn does."""
        too_large = getattr(self.conn, "refusal_status", 400) == 431
        status, reason, message = (431, b"Request Header Fields Too Large", TOO_LARGE) if too_large else (
            400, b"Bad Request", MALFORMED)
        body = json.dumps({"error": message, "status": status}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), *SECURITY_HEADERS]
        for event in (h11.Response(status_code=status, headers=headers, reason=reason), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


# uvicorn's settings for the sidecar (``cogo serve``; the tests' live servers use the same): this
# protocol, no ``server`` header, and no client address taken from X-Forwarded-For
UVICORN_OPTIONS = {"http": BoundedH11Protocol, "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
                   "server_header": False, "proxy_headers": False}
