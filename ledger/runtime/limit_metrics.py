"""Metrics of the bounds on what callers can push (issue 13): evictions from the bounded
caches and requests refused by the HTTP edge's limits (body, headers, time, waiters)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ledger.domain.bounded_cache import CACHES

CACHE_EVICTIONS = Counter(
    "consent_ledger_cache_evictions_total",
    "Entries dropped from a bounded cache to stay within its bound, by cache",
    ["cache"],
)
LIMIT_REFUSALS = Counter(
    "consent_ledger_limit_refusals_total",
    "Requests refused or connections dropped by a limit of the HTTP edge, by limit",
    ["limit"],
)


class _BoundedCaches:
    """Entries and evictions of the domain's bounded caches (ledger/domain/bounded_cache.py)."""

    def collect(self) -> Iterator[Metric]:
        entries = GaugeMetricFamily(
            "consent_ledger_cache_entries", "Entries held by a bounded cache", labels=["cache"]
        )
        evicted = CounterMetricFamily(
            "consent_ledger_bounded_cache_evictions",
            "Entries a bounded cache of the domain dropped to stay within its bound",
            labels=["cache"],
        )
        for name, cache in sorted(CACHES.items()):
            entries.add_metric([name], len(cache))
            evicted.add_metric([name], cache.evictions)
        yield entries
        yield evicted


REGISTRY.register(_BoundedCaches())
