"""The publisher watch: behind and not moving is loud; idle, or moving, is fine."""

from __future__ import annotations

from ledger.publishing.progress import PublisherProgress, PublisherWatchSettings
from ledger.publishing.publisher import PublishSettings, retry_wait


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(max_lag: int = 100, stall: float = 30) -> tuple[PublisherProgress, Clock]:
    clock = Clock()
    settings = PublisherWatchSettings(max_lag=max_lag, stall_seconds=stall)
    return PublisherProgress(settings, clock), clock


def test_an_idle_ledger_with_a_caught_up_publisher_stays_healthy_for_ever() -> None:
    progress, clock = watch()
    assert progress.observe(head=50, published=50).ok
    clock.now += 86_400
    report = progress.observe(head=50, published=50)
    assert (report.ok, report.lag, report.stalled_seconds) == (True, 0, 0)


def test_a_publisher_behind_and_not_moving_fails_once_the_stall_bound_passes() -> None:
    progress, clock = watch(stall=30)
    assert progress.observe(head=50, published=50).ok
    assert progress.observe(head=60, published=50).ok  # new events: the clock starts
    clock.now += 29
    assert progress.observe(head=70, published=50).ok
    clock.now += 2
    report = progress.observe(head=80, published=50)
    assert not report.ok
    assert report.error is not None
    assert "has not advanced for 31 s" in report.error
    assert report.as_dict()["lag"] == 30


def test_a_publisher_that_keeps_moving_is_healthy_even_while_behind() -> None:
    progress, clock = watch(stall=30)
    for step in range(10):
        clock.now += 20
        assert progress.observe(head=1000 + step * 10, published=950 + step * 10).ok


def test_it_recovers_as_soon_as_the_publisher_moves_again() -> None:
    progress, clock = watch(stall=30)
    progress.observe(head=60, published=50)
    clock.now += 60
    assert not progress.observe(head=60, published=50).ok
    assert progress.observe(head=60, published=55).ok
    assert progress.observe(head=60, published=60).ok


def test_a_lag_beyond_the_bound_fails_at_once() -> None:
    progress, _ = watch(max_lag=100)
    report = progress.observe(head=500, published=399)
    assert not report.ok
    assert report.error == "the publisher is 101 positions behind the ledger (bound 100)"


def test_the_publisher_backs_off_exponentially_up_to_a_cap() -> None:
    settings = PublishSettings(retry_seconds=0.5, retry_max_seconds=5)
    waits = [retry_wait(settings, n) for n in range(1, 8)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
