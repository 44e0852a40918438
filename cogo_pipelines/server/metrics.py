"""Prometheus metrics: store-derived values read on scrape, plus the sidecar's own HTTP metrics.

Queue, gate and index values are read from the database when scraped (through a ~2 s cache),
so a restarted sidecar reports true numbers rather than counters that started at zero. The
request metrics live in the process. Everything goes through a per-app ``CollectorRegistry``;
the exposition text is prometheus-client's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from cogo_pipelines.queue import stats as queue_stats
from cogo_pipelines.server.store import SidecarStore, StoreUnavailable
from cogo_pipelines.store import queries, retention

log = logging.getLogger(__name__)

CACHE_SECONDS = 2.0
# how long a scrape that finds the cache expired waits for the refresh it starts: a healthy store
# answers in milliseconds (fresh values), a slow or absent one does not hold /metrics up
FRESH_WAIT_SECONDS = 0.5
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def read_store_snapshot(store: SidecarStore) -> dict[str, Any]:
    """Everything /metrics needs, in one borrowed connection (a handful of cheap aggregates)."""
    with store.connection() as conn:
        return {
            "depth": queue_stats.queue_depth(conn),
            "durations": queries.duration_histogram(conn),
            "claims": queries.claims(conn),
            "gate": queries.latest_gate(conn),
            "index": queries.index_stats(conn),
            "index_duration": queries.last_index_duration(conn),
            "upkeep": retention.last_done(conn),
        }


class StoreCollector(Collector):
    """Store values through a short cache. A scrape that finds it expired starts one background
    refresh and waits up to ``FRESH_WAIT_SECONDS`` for it: fresh values from a healthy store,
    the last ones (``cogo_store_read_seconds`` says how long reads take) from a slow one. Serving
    the expired entry at once, as before, left every value one scrape interval old (38 s after
    an idle spell)."""

    def __init__(self, store: SidecarStore, *, cache_seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any] | None, float] | None = None
        self._refreshing: threading.Thread | None = None

    def _refresh(self) -> tuple[float, dict[str, Any] | None, float]:
        started = time.perf_counter()
        try:
            data: dict[str, Any] | None = read_store_snapshot(self._store)
        except StoreUnavailable as exc:
            log.warning("metrics: store unavailable: %s", exc)
            data = None
        entry = (self._clock(), data, time.perf_counter() - started)
        self._cached = entry
        return entry

    def _refresh_in_background(self) -> None:
        try:
            self._refresh()
        finally:
            self._refreshing = None

    def _snapshot(self) -> tuple[dict[str, Any] | None, float]:
        entry = self.current()
        return entry[1], entry[2]

    def current(self) -> tuple[float, dict[str, Any] | None, float]:
        """The cache entry to serve now (refreshing it as described in the class docstring)."""
        cached = self._cached
        if cached and self._clock() - cached[0] < self._cache_seconds:
            return cached
        with self._lock:
            cached = self._cached
            if cached is None:
                return self._refresh()  # first scrape: nothing to serve yet
            if self._clock() - cached[0] >= self._cache_seconds and self._refreshing is None:
                self._refreshing = threading.Thread(target=self._refresh_in_background, daemon=True,
                                                    name="cogo-metrics-refresh")
                self._refreshing.start()
            refreshing = self._refreshing
        if refreshing is not None:
            refreshing.join(FRESH_WAIT_SECONDS)
        return self._cached or cached

    def wait_for_refresh(self, timeout: float = 10.0) -> None:
        """Tests: block until a background refresh (if any) has finished."""
        thread = self._refreshing
        if thread is not None:
            thread.join(timeout)

    def collect(self) -> Iterable[Metric]:
        data, read_seconds = self._snapshot()
        up = GaugeMetricFamily("cogo_store_up", "1 when the sidecar could read the store on the last refresh")
        up.add_metric([], 1.0 if data is not None else 0.0)
        yield up
        read = GaugeMetricFamily("cogo_store_read_seconds", "Time the last store refresh for /metrics took")
        read.add_metric([], read_seconds)
        yield read
        if data is None:
            return
        yield from _queue_metrics(data)
        yield from _gate_metrics(data["gate"])
        yield from _index_metrics(data["index"], data["index_duration"])
        if data["upkeep"] is not None:
            upkeep = GaugeMetricFamily("cogo_store_upkeep_last_timestamp_seconds",
                                       "Unix time of the store's last daily upkeep (retention prune)")
            upkeep.add_metric([], data["upkeep"].timestamp())
            yield upkeep


def _queue_metrics(data: dict[str, Any]) -> Iterable[Metric]:
    depth = GaugeMetricFamily("cogo_queue_jobs", "Jobs in the queue table by executor and status",
                              labels=["executor_id", "status"])
    seen = set()
    for row in data["depth"]:
        depth.add_metric([row["executor_id"], row["status"]], row["count"])
        seen.add((row["executor_id"], row["status"]))
    # Every executor reports every status, so an emptied queue drops to 0 instead of vanishing.
    for executor in {e for e, _ in seen}:
        for status in queries.JOB_STATUSES:
            if (executor, status) not in seen:
                depth.add_metric([executor, status], 0)
    yield depth

    hist = HistogramMetricFamily("cogo_job_duration_seconds", "Run time of finished jobs (started to finished)",
                                 labels=["type", "status"])
    for row in data["durations"]:
        buckets = [(_le(b), float(n)) for b, n in row["buckets"]] + [("+Inf", float(row["count"]))]
        hist.add_metric([row["type"], row["status"]], buckets, row["sum"])
    yield hist

    claims = CounterMetricFamily("cogo_job_claims", "Claims of jobs by runners (sum of attempts)",
                                 labels=["executor_id"])
    for row in data["claims"]:
        claims.add_metric([row["executor_id"]], row["claims"])
    yield claims


def _le(bound: float) -> str:
    return repr(float(bound))


def _gate_metrics(gate: dict | None) -> Iterable[Metric]:
    if gate is None:
        return
    score = GaugeMetricFamily("cogo_q1_score", "Q1 = succeeded / (succeeded + failed) at the last gate run")
    if gate["score"] is not None:
        score.add_metric([], float(gate["score"]))
    yield score
    threshold = GaugeMetricFamily("cogo_q1_threshold", "Q1 threshold used by the last gate run")
    threshold.add_metric([], float(gate["threshold"]))
    yield threshold
    passed = GaugeMetricFamily("cogo_q1_gate_passed", "1 when the last Q1 gate run passed, else 0")
    passed.add_metric([], 1.0 if gate["passed"] else 0.0)
    yield passed
    when = GaugeMetricFamily("cogo_q1_gate_last_run_timestamp_seconds", "Unix time of the last Q1 gate run")
    when.add_metric([], gate["created_at"].timestamp())
    yield when
    counts = GaugeMetricFamily("cogo_q1_jobs", "Jobs counted by the last Q1 gate run", labels=["outcome"])
    counts.add_metric(["succeeded"], gate["succeeded"])
    counts.add_metric(["failed"], gate["failed"])
    yield counts


def _index_metrics(index: dict[str, Any], duration: dict | None) -> Iterable[Metric]:
    for key, doc in (("files", "Indexed source files"), ("symbols", "Symbols (ast_nodes) in the index"),
                     ("edges", "Relationships (code_relationships) in the index"),
                     ("chunks", "Search chunks (code_chunks) in the index"),
                     ("summaries", "File summaries (file_summaries) in the index"),
                     ("summaries_embedded", "File summaries with a vector (search adds their list once all have one)")):
        family = GaugeMetricFamily(f"cogo_index_{key}", doc, labels=["repo"])
        for repo in index["repos"]:
            family.add_metric([repo["repo"]], repo[key])
        yield family
    if duration is not None:
        family = GaugeMetricFamily("cogo_index_last_duration_seconds", "Wall time of the last index run",
                                   labels=["repo"])
        family.add_metric([duration["repo"] or ""], duration["seconds"])
        yield family


class HttpMetrics:
    """Request counts and latency by route template (never the raw path: bounded cardinality)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("cogo_http_requests", "HTTP requests served by the sidecar",
                                ["method", "route", "status"], registry=registry)
        self.latency = Histogram("cogo_http_request_duration_seconds", "HTTP request latency of the sidecar",
                                 ["method", "route"], registry=registry, buckets=HTTP_BUCKETS)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class HttpMetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead); reads the matched route Starlette leaves in scope."""

    def __init__(self, app, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "GET")
            method = method if method in KNOWN_METHODS else "OTHER"
            self.metrics.observe(method, template, status["code"], time.perf_counter() - started)


class SidecarMetrics:
    """Two prometheus-client registries: store values (their exposition text is rendered once
    per cache refresh, since it only changes then) and the live HTTP metrics (rendered per scrape)."""

    def __init__(self, store: SidecarStore) -> None:
        self.store_registry = CollectorRegistry(auto_describe=False)
        self.collector = StoreCollector(store)
        self.store_registry.register(self.collector)
        self.http_registry = CollectorRegistry()
        self.http = HttpMetrics(self.http_registry)
        self._store_text = b""
        self._rendered_for: object = None
        self._render_lock = threading.Lock()

    def render(self) -> bytes:
        entry = self.collector.current()
        if entry is not self._rendered_for:
            with self._render_lock:
                if entry is not self._rendered_for:
                    self._store_text = generate_latest(self.store_registry)
                    self._rendered_for = entry
        return self._store_text + generate_latest(self.http_registry)
