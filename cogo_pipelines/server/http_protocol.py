"""The sidecar's HTTP/1.1: uvicorn's h11 protocol with the bounds a server on ``0.0.0.0`` needs.

- **Header size.** h11 refuses a request whose headers pass ``MAX_HEADER_BYTES`` (400). uvicorn
  picks httptools when it is installed, which has no bound: one request with a 400 MB header
  took the server from 120 to 766 MB, and kept it.
- **Header time.** A connection must have sent its first request's headers within
  ``HEADER_TIMEOUT_S`` of opening, or it is closed. Half-open connections that trickle header
  bytes (slowloris) were held for ever, and ~1,000 of them took every file descriptor of a
  default ``ulimit -n``: ``/healthz`` stopped answering. Between requests uvicorn's keep-alive
  timeout applies.
- **Malformed requests** (a garbage request line, a header line without a colon, headers past
  the bound) never reach the app: uvicorn answers them itself, in plain text ("Invalid HTTP
  request received."). Its one hook for that answer, ``send_400_response``, writes the API's JSON
  error instead, with the headers every other answer carries.
"""

from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from cogo_pipelines.server.headers import SECURITY_HEADERS

HEADER_TIMEOUT_S = 10.0
MAX_HEADER_BYTES = 64 * 1024
MALFORMED = ("malformed HTTP request: its request line or headers could not be parsed "
             f"(or its headers passed {MAX_HEADER_BYTES // 1024} KiB)")


class BoundedH11Protocol(H11Protocol):
    """``H11Protocol`` that closes a connection whose first request has not started (its
    headers not all read) ``HEADER_TIMEOUT_S`` after it opened, and answers a request h11 cannot
    parse with a JSON 400."""

    header_timeout_s = HEADER_TIMEOUT_S

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
        status}`` JSON; the connection is closed after it, as uvicorn does."""
        body = json.dumps({"error": MALFORMED, "status": 400}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close"), *SECURITY_HEADERS]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body),
                      h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()
