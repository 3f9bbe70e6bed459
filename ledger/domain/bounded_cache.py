"""A cache with a bound on its entries that counts what it drops.

Pure and thread-safe enough for CPython: a lost race costs a recomputation, never a wrong
answer. Keys should themselves be bounded (the caller refuses long input before asking),
so entries times the longest key bounds the bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Every cache built, by name, for the metrics (ledger/runtime/limit_metrics.py).
CACHES: dict[str, BoundedCache[object, object]] = {}


class BoundedCache(Generic[K, V]):
    def __init__(self, name: str, max_entries: int) -> None:
        self.name = name
        self.max_entries = max_entries
        self.evictions = 0
        self._entries: dict[K, V] = {}
        CACHES[name] = self  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_compute(self, key: K, compute: Callable[[K], V], *, keep: bool = True) -> V:
        """The cached value of ``key``, else ``compute(key)`` (kept if ``keep``)."""
        try:
            return self._entries[key]
        except KeyError:
            pass
        value = compute(key)
        if keep:
            self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        entries = self._entries
        while len(entries) >= self.max_entries:
            try:
                del entries[next(iter(entries))]  # the oldest
            except (KeyError, StopIteration, RuntimeError):
                break
            self.evictions += 1
        entries[key] = value
