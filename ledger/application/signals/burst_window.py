"""``BurstWindow``: a tenant's recent gateway opt-outs, to tell an unusual spike.

Per tenant, the times of the last ``max_opt_outs`` provider-signal opt-outs this process
recorded or held (a bounded deque: memory never grows past the tenant's limit). When the
window holds that many and the oldest is younger than ``window_seconds``, the next
opt-out is part of a spike. Each process counts its own: with ``serve --workers N`` a
spike is seen per worker.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ledger.domain.tenants.burst_guard import BurstGuard


class BurstWindow:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def seen(self, tenant: str, guard: BurstGuard) -> int | None:
        """How many opt-outs the window holds if it is full (a spike), else None."""
        if not guard.enabled:
            return None
        with self._lock:
            times = self._times(tenant, guard)
            now = self.clock()
            full = len(times) >= guard.max_opt_outs
            if full and now - times[0] < guard.window_seconds:
                return len(times)
            return None

    def note(self, tenant: str, guard: BurstGuard) -> None:
        if not guard.enabled:
            return
        with self._lock:
            self._times(tenant, guard).append(self.clock())

    def _times(self, tenant: str, guard: BurstGuard) -> deque[float]:
        times = self._seen.get(tenant)
        if times is None or times.maxlen != guard.max_opt_outs:
            times = self._seen[tenant] = deque(times or (), maxlen=guard.max_opt_outs)
        return times
