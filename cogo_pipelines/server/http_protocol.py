"""The sidecar's HTTP/1.1: uvicorn's h11 protocol with the bounds a server on ``0.0.0.0`` needs.

- **Header size.** h11 refuses a request whose headers pass ``MAX_HEADER_BYTES`` (400). uvicorn
  picks httptools when it is installed, which has no bound: one request with a 400 MB header
  took the server from 120 to 766 MB, and kept it.
- **Header time.** A connection must have sent its first request's headers within
  ``HEADER_TIMEOUT_S`` of opening, or it is closed. Half-open connections that trickle header
  bytes (slowloris) were held for ever, and ~1,000 of them took every file descriptor of a
  default ``ulimit -n``: ``/healthz`` stopped answering. Between requests uvicorn's keep-alive
  timeout applies.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
MAX_HEADER_BYTES = 64 * 1024


class BoundedH11Protocol(H11Protocol):
    """``H11Protocol`` that closes a connection whose first request has not started (its
    headers not all read) ``HEADER_TIMEOUT_S`` after it opened."""

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
