"""An httpx client whose requests share one total deadline, not just a timeout per socket wait.

httpx's timeouts bound each connect, each send and each wait for bytes; a server that trickles
its answer (one byte every half second, a proxy that keeps a dead upstream "alive") resets the
read timeout with every byte and holds a request for as long as it likes. The gate's source
must end within ``SUPABASE_TIMEOUT_S`` however the server behaves, so every socket operation
here waits at most what is left of a ``Deadline`` (and never more than the per-phase timeout),
and one begun after it passed fails at once. The failures are httpcore's own timeouts, which
httpx maps to ``httpx.ConnectTimeout``/``ReadTimeout``/``WriteTimeout``: the same errors, and
the same "no answer" path, as a server that never answers at all.

httpx takes no network backend, so the transport rebuilds its connection pool with one (the
pool is the transport's only state). A proxy taken from the environment (``HTTPS_PROXY``) gets
httpx's own transport, bounded per phase only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx


class Deadline:
    """A total time budget, armed around a unit of work (one gate's read of its source)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at: float | None = None

    @contextmanager
    def running(self) -> Iterator[Deadline]:
        self.expires_at = time.monotonic() + self.seconds
        try:
            yield self
        finally:
            self.expires_at = None

    def bound(self, timeout: float | None, error: type[Exception]) -> float | None:
        """What one socket operation may wait: ``timeout``, cut to what is left (``error`` once none is)."""
        if self.expires_at is None:
            return timeout
        left = self.expires_at - time.monotonic()
        if left <= 0:
            raise error(f"the total deadline of {self.seconds:g} s passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self.inner, self.deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        bounded = self.deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, bounded), self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: Deadline) -> None:
        self.inner, self.deadline = httpcore.SyncBackend(), deadline

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        bounded = self.deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.inner.connect_tcp(host, port, bounded, local_address, socket_options),
                               self.deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        bounded = self.deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.inner.connect_unix_socket(path, bounded, socket_options), self.deadline)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    def __init__(self, deadline: Deadline, *, http2: bool) -> None:
        super().__init__(http2=http2)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), http1=True, http2=http2,
            network_backend=_DeadlineBackend(deadline))


def deadline_client(timeout_s: float, *, http2: bool = True) -> tuple[httpx.Client, Deadline]:
    """A client (per-phase timeout ``timeout_s``, redirects followed, as supabase's own) and the
    deadline of ``timeout_s`` its requests obey while it runs (``with deadline.running(): ...``)."""
    deadline = Deadline(timeout_s)
    client = httpx.Client(transport=_DeadlineTransport(deadline, http2=http2), timeout=httpx.Timeout(timeout_s),
                          follow_redirects=True)
    return client, deadline
