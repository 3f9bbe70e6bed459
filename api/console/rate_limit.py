"""A per-client request budget for the preference pages (no API key guards them).

Each client address gets ``per_minute`` requests, refilled continuously. At most
``max_clients`` addresses are tracked (least recently seen out), so no caller can make
the server hold memory. Refusals are counted in ``consent_ledger_preference_rate_limited_total``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from prometheus_client import Counter

RATE_LIMITED = Counter(
    "consent_ledger_preference_rate_limited_total",
    "Preference-page requests refused with 429 (too many from one client address)",
)


class RateLimit:
    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        if not allowed:
            RATE_LIMITED.inc()
        return allowed
