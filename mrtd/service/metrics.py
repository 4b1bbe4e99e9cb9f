"""Prometheus metrics: requests by route and status, their latency, documents by outcome, and the queue's
depth read from the records at each scrape. With several worker processes, prometheus_client's
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
        reg.register(REQUESTS)
        reg.register(LATENCY)
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
