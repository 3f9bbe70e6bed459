"""The burst window counts a tenant's gateway opt-outs in one table every process
shares: a spike once the limit is reached inside the window, seen by another process
too, passing with the window; on both backends."""

from __future__ import annotations

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.signals.burst_window import BurstWindow
from ledger.domain.tenants.burst_guard import BurstGuard
from ledger.persistence.opt_out_counts import KEEP_BUCKETS, opt_out_counts
from ledger.runtime.storage_settings import StorageSettings

GUARD = BurstGuard(enabled=True, max_opt_outs=3, window_seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_within_the_window_is_a_spike_for_every_process(
    storage: StorageSettings, ledger: ConsentLedger
) -> None:
    clock = Clock()
    window = BurstWindow(opt_out_counts(ledger.recorder), clock)
    for _ in range(2):
        window.note("acme", GUARD)
        clock.now += 1
    assert window.seen("acme", GUARD) is None  # two of three
    # Another process of the deployment notes the third
    other = ConsentLedger(storage.eventsourcing_env())
    try:
        BurstWindow(opt_out_counts(other.recorder), clock).note("acme", GUARD)
    finally:
        other.close()
    assert window.seen("acme", GUARD) == 3
    assert window.seen("globex", GUARD) is None  # per tenant
    clock.now += 61 + 10  # the window (and its bucket) passed
    assert window.seen("acme", GUARD) is None


def test_a_disabled_guard_counts_nothing_and_sees_no_spike(ledger: ConsentLedger) -> None:
    window = BurstWindow(opt_out_counts(ledger.recorder), Clock())
    off = BurstGuard(enabled=False, max_opt_outs=1, window_seconds=60)
    window.note("acme", off)
    assert window.seen("acme", off) is None
    assert window.seen("acme", BurstGuard(enabled=True, max_opt_outs=1, window_seconds=60)) is None


def test_old_buckets_are_forgotten(ledger: ConsentLedger) -> None:
    clock = Clock()
    counts = opt_out_counts(ledger.recorder)
    window = BurstWindow(counts, clock)
    window.note("acme", GUARD)
    clock.now += (KEEP_BUCKETS + 1) * 10
    window.note("acme", GUARD)
    assert counts.since("acme", 0) == 1
