"""Counters every projection keeps while it runs (logged by the processes that feed it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class ProjectionMetrics:
    applied: int = 0  # events applied from the feed
    duplicates: int = 0  # events at or below the subject's applied version: ignored
    gap_repairs: int = 0  # times a subject's version gap was filled from the ledger
    repaired_events: int = 0  # events read from the ledger to fill gaps
    healed_events: int = 0  # events the reconciliation applied from the ledger
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")
            }
