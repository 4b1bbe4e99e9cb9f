"""A token bucket per client address, for the one endpoint anyone may call (seal verification).

Hand-written: a dozen lines in memory per process is all this needs; the rate-limit libraries bring
storage back-ends (Redis, memcached) and middleware this service has no use for. With several API
processes each keeps its own buckets, so the limit holds per process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from fastapi import Request
from starlette.exceptions import HTTPException


@dataclass
class Buckets:
    rate: float  # tokens per second
    burst: float
    _state: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, client: str, now: float | None = None) -> float:
        """0 when the request may go; else the seconds to wait."""
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._state.get(client, (self.burst, t))
            tokens = min(self.burst, tokens + (t - last) * self.rate)
            if tokens >= 1.0:
                self._state[client] = (tokens - 1.0, t)
                return 0.0
            self._state[client] = (tokens, t)
            if len(self._state) > 10000:  # forget idle clients rather than grow without end
                self._state = {k: v for k, v in self._state.items() if t - v[1] < 60}
            return (1.0 - tokens) / self.rate


def limited(request: Request) -> None:
    buckets: Buckets = request.app.state.verify_limit
    wait = buckets.take(request.client.host if request.client else "?")
    if wait > 0:
        raise HTTPException(429, f"too many requests: try again in {wait:.1f} s",
                            headers={"Retry-After": str(max(1, round(wait)))})
