"""Prometheus metrics: requests by route and status, their latency, the records' write lock (how long
writes wait for it and hold it: the audit chain serialises them, so this is where a slow disk shows),
and the queue's depth read from the records at each scrape. With several worker processes, prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by `mrtd serve`) adds the workers' counts up."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from mrtd.errors import MrtdError
from mrtd.issuance.office import Office

REQUESTS = Counter("mrtd_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("mrtd_http_request_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
_LOCK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
LOCK_WAIT = Histogram("mrtd_records_write_lock_wait_seconds",
                      "Time a write transaction waited for the records' write lock (the audit chain's head)",
                      buckets=_LOCK_BUCKETS)
LOCK_HELD = Histogram("mrtd_records_write_lock_held_seconds",
                      "Time a write transaction held the records' write lock, through its COMMIT",
                      buckets=_LOCK_BUCKETS)


def observe_write(waited: float, held: float) -> None:
    """`RecordStore.on_write` for the service's store."""
    LOCK_WAIT.observe(waited)
    LOCK_HELD.observe(held)


class QueueCollector(Collector):
    def __init__(self, office: Office) -> None:
        self.office = office

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("mrtd_jobs", "Production jobs by state", labels=["state"])
        try:
            for state, count in sorted(self.office.queue.depth().items()):
                family.add_metric([state], count)
        except MrtdError:
            pass  # the records are unreachable: /healthz says so; metrics still answer
        yield family


def registry(office: Office) -> CollectorRegistry:
    reg = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(reg)  # type: ignore[no-untyped-call]
    else:
        for metric in (REQUESTS, LATENCY, LOCK_WAIT, LOCK_HELD):
            reg.register(metric)
    reg.register(QueueCollector(office))
    return reg


def render(reg: CollectorRegistry) -> Response:
    return Response(generate_latest(reg), media_type=CONTENT_TYPE_LATEST)


async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = getattr(request.scope.get("route"), "path", "unmatched")
    LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    return response
