"""The burst window: a tenant's provider opt-outs within the window, bounded by the
tenant's limit; a spike once the limit is reached inside the window."""

from __future__ import annotations

from ledger.application.signals.burst_window import BurstWindow
from ledger.domain.tenants.burst_guard import BurstGuard

GUARD = BurstGuard(enabled=True, max_opt_outs=3, window_seconds=60)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_within_the_window_is_a_spike_and_it_passes_with_the_window() -> None:
    clock = Clock()
    window = BurstWindow(clock)
    for _ in range(2):
        window.note("acme", GUARD)
        clock.now += 1
    assert window.seen("acme", GUARD) is None  # two of three
    window.note("acme", GUARD)
    assert window.seen("acme", GUARD) == 3
    assert window.seen("globex", GUARD) is None  # per tenant
    clock.now += 61
    assert window.seen("acme", GUARD) is None  # the oldest left the window


def test_a_disabled_guard_never_sees_a_spike() -> None:
    window = BurstWindow(Clock())
    off = BurstGuard(enabled=False, max_opt_outs=1, window_seconds=60)
    window.note("acme", off)
    window.note("acme", GUARD)
    assert window.seen("acme", off) is None


def test_memory_stays_within_the_limit() -> None:
    window = BurstWindow(Clock())
    for _ in range(1000):
        window.note("acme", GUARD)
    assert len(window._times("acme", GUARD)) == 3
