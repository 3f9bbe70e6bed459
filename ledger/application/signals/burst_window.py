"""``BurstWindow``: a tenant's recent gateway opt-outs, to tell an unusual spike.

The provider-signal opt-outs every process of the deployment recorded or held are
counted in one table beside the events (``persistence/opt_out_counts.py``, ten-second
buckets). When the tenant's window (``window_seconds`` back from now) holds
``max_opt_outs`` or more, the next opt-out is part of a spike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from eventsourcing.persistence import PersistenceError

from ledger.domain.errors import DatabaseAway
from ledger.domain.tenants.burst_guard import BurstGuard
from ledger.persistence.opt_out_counts import BUCKET_SECONDS, OptOutCounts, bucket_of


class BurstWindow:
    def __init__(self, counts: OptOutCounts, clock: Callable[[], float] = time.time) -> None:
        self.counts = counts
        self.clock = clock

    def seen(self, tenant: str, guard: BurstGuard) -> int | None:
        """How many opt-outs the window holds if that is a spike, else None."""
        if not guard.enabled:
            return None
        first = bucket_of(self.clock() - guard.window_seconds + BUCKET_SECONDS)
        try:
            seen = self.counts.since(tenant, first)
        except PersistenceError as exc:
            raise DatabaseAway("the ledger database is unavailable; nothing was stored") from exc
        return seen if seen >= guard.max_opt_outs else None

    def note(self, tenant: str, guard: BurstGuard) -> None:
        if not guard.enabled:
            return
        try:
            self.counts.add(tenant, bucket_of(self.clock()))
        except PersistenceError as exc:
            raise DatabaseAway("the ledger database is unavailable") from exc
