"""Following the ledger's log: every event, in order, woken by commits, read once a wake-up.

The publisher, the webhook sender and the in-process projections all follow the log
with ``NotificationLog.follow``; on both backends (real PostgreSQL and the SQLite file).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from eventsourcing.persistence import Notification
from prometheus_client import REGISTRY

from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.notification_log import NotificationLog
from tests.support.commands import opt_in

UNANNOUNCED = "consent_ledger_log_unannounced_batches_total"


class _CountingLog(NotificationLog):
    """A follower that counts its reads of the log."""

    def __init__(self, ledger: ConsentLedger, poll_interval: float) -> None:
        super().__init__(ledger.recorder, poll_interval=poll_interval)
        self.reads = 0

    def read(self, after: int, limit: int | None = None) -> Sequence[Notification]:
        self.reads += 1
        return super().read(after, limit)


class _DeafLog(_CountingLog):
    """A follower whose wake-ups never come (its LISTEN connection lost, say)."""

    @contextmanager
    def _wakeups(self, stop: threading.Event) -> Iterator[threading.Event]:
        yield threading.Event()


class _Follower:
    def __init__(self, log: NotificationLog) -> None:
        self.seen: list[int] = []
        self.arrived = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(log,), daemon=True)
        self.thread.start()

    def _run(self, log: NotificationLog) -> None:
        for batch in log.follow(0, self.stop):
            with self.arrived:
                self.seen.extend(n.id for n in batch)
                self.arrived.notify_all()

    def wait_for(self, position: int, timeout: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(
                lambda: bool(self.seen) and self.seen[-1] >= position, timeout
            )

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def _record_each(
    ledger: ConsentLedger, follower: _Follower, prefix: str, count: int, failure: str
) -> list[int]:
    """Record ``count`` opt-ins one at a time, each seen by ``follower`` before the next."""
    positions = []
    for n in range(count):
        position = ledger.record(opt_in(f"{prefix}{n:04d}")).position
        assert follower.wait_for(position, timeout=5), failure
        positions.append(position)
    return positions


def test_a_follower_gets_each_commit_at_once_and_reads_once_per_wake_up(
    ledger: ConsentLedger,
) -> None:
    log = _CountingLog(ledger, poll_interval=30)  # the poll would be far too late
    follower = _Follower(log)
    try:
        positions = _record_each(ledger, follower, "+1415555", 6, "the commit did not wake it")
        assert follower.seen == positions  # every event, in order, none twice
        # One read to start, then one per commit (a wake-up that raced a read may add
        # one); reading again after every batch made it two per commit.
        assert log.reads <= 1 + len(positions) + 2
    finally:
        follower.close()


def test_a_follower_whose_wake_ups_are_lost_still_gets_every_event_and_counts_them(
    ledger: ConsentLedger,
) -> None:
    before = REGISTRY.get_sample_value(UNANNOUNCED) or 0.0
    follower = _Follower(_DeafLog(ledger, poll_interval=0.2))
    try:
        positions = _record_each(ledger, follower, "+1415666", 3, "the poll did not find it")
        assert follower.seen == positions
        # Each found by the backstop, none announced: each counted.
        assert (REGISTRY.get_sample_value(UNANNOUNCED) or 0.0) - before == len(positions)
    finally:
        follower.close()


def test_a_full_batch_is_followed_by_the_rest_without_waiting(ledger: ConsentLedger) -> None:
    positions = [ledger.record(opt_in(f"+1415777{n:04d}")).position for n in range(5)]
    log = _CountingLog(ledger, poll_interval=30)
    log.batch_size = 2  # 5 events already stored: batches of 2, 2 and 1
    follower = _Follower(log)
    try:
        assert follower.wait_for(positions[-1], timeout=5), "it waited after a full batch"
        assert follower.seen == positions
    finally:
        follower.close()
