"""Running the Kafka pipeline in-process for tests, and comparing it with the ledger."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from consumers.consume_settings import ConsumeSettings
from consumers.service import ProjectionConsumers
from ledger.application.consent_ledger import ConsentLedger
from ledger.events import HeldOptOutReleased, OptedIn, OptedOut, OptInAccepted
from ledger.publishing.kafka import KafkaSettings
from ledger.publishing.publisher import Publisher, PublishSettings
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_daily import ConsentDailyProjection
from projections.consent_status.projection import ConsentStatusProjection
from projections.pending_requests import PendingRequestsProjection
from projections.subject_projection import SubjectProjection
from tests.support.commands import message, opt_in

FAST_CONSUMER = {"session_timeout_ms": 2000, "heartbeat_ms": 500, "reconcile_seconds": 0.1}
TEXTS = ["STOP", "START", "stop promotions", "YES", "NO", "hello", "HELP"]


@dataclass
class Running:
    thread: threading.Thread
    stop: threading.Event
    errors: list[BaseException]

    def close(self, timeout: float = 30) -> None:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "did not stop"
        if self.errors:
            raise self.errors[0]


def start(target: Callable[[threading.Event], None]) -> Running:
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return Running(thread, stop, errors)


@contextmanager
def publisher(storage: StorageSettings, kafka: KafkaSettings) -> Iterator[Publisher]:
    ledger = ConsentLedger(storage.eventsourcing_env())
    assert storage.database_url is not None
    relay = Publisher(
        ledger,
        kafka,
        PublishSettings(poll_seconds=0.2, lock_retry_seconds=0.2),
        lock_conninfo=storage.database_url.get_secret_value(),
    )
    running = start(relay.run)
    try:
        yield relay
    finally:
        running.close()
        ledger.close()


@contextmanager
def consumers(
    storage: StorageSettings,
    kafka: KafkaSettings,
    cls: type[ProjectionConsumers] = ProjectionConsumers,
    **settings: Any,
) -> Iterator[ProjectionConsumers]:
    ledger = ConsentLedger(storage.eventsourcing_env())
    group = ConsumeSettings(**{**FAST_CONSUMER, "group_id": f"{kafka.events_topic}.g", **settings})
    service = cls(ledger, kafka, group)
    running = start(service.run)
    try:
        yield service
    finally:
        running.close()
        ledger.close()


def write_workload(ledger: ConsentLedger, operations: int, subjects: int, seed: int = 7) -> int:
    """Random opt-ins, keywords and answers; returns the last ledger position."""
    rng = random.Random(seed)
    addresses = addresses_of(subjects)
    last = 0
    for _ in range(operations):
        address = rng.choice(addresses)
        if rng.random() < 0.3:
            purposes = (rng.choice(["marketing", "utility"]),)
            last = max(last, ledger.record(opt_in(address, purposes=purposes)).position)
        else:
            outcome = ledger.receive_message(message(address, rng.choice(TEXTS)))
            if outcome.recorded:
                last = max(last, outcome.recorded.position)
    return last


def addresses_of(subjects: int) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(subjects)]


def assert_status_equals_fold(
    view: ConsentStatusProjection, ledger: ConsentLedger, addresses: list[str]
) -> None:
    for address in addresses:
        truth = ledger.state_of("acme", "whatsapp", address)
        projected = view.subject(truth.id)
        if truth.version == 0:
            assert projected is None
            continue
        assert projected is not None, address
        assert projected.state == truth, address
        assert projected.address == address
        assert {r.purpose: (r.status, r.event_id) for r in projected.rows} == {
            p: (s.status.value, s.event_id) for p, s in truth.statuses().items()
        }


def assert_pending_equals_fold(
    view: PendingRequestsProjection, ledger: ConsentLedger, addresses: list[str], now: Any
) -> None:
    due = {row.subject_id: row.request_id for row in view.due(now, limit=100_000)}
    for address in addresses:
        truth = ledger.state_of("acme", "whatsapp", address)
        pending = truth.pending
        if pending is not None and pending.expires_at <= now:
            assert due.get(truth.id) == pending.request_id
        else:
            assert truth.id not in due


def expected_daily(ledger: ConsentLedger, addresses: list[str]) -> Counter[tuple[str, ...]]:
    """Opt-ins and opt-outs counted straight from the subjects' histories in the ledger."""
    counts: Counter[tuple[str, ...]] = Counter()
    for address in addresses:
        entries = ledger.history("acme", "whatsapp", address).entries
        for entry in entries:
            doc = entry.document
            kind = {
                OptedIn.type_name: "opt_in",
                OptInAccepted.type_name: "opt_in",
                OptedOut.type_name: "opt_out",
                HeldOptOutReleased.type_name: "opt_out",
            }.get(doc["type"])
            if kind:
                evidence = doc["evidence"]
                day = doc["occurred_at"][:10]
                key = (day, kind, evidence.get("method", ""), evidence.get("keyword") or "")
                counts[key] += 1
    return counts


def daily_counts(view: ConsentDailyProjection) -> Counter[tuple[str, ...]]:
    return Counter(
        {(c.day, c.kind, c.method, c.keyword): c.count for c in view.counts("acme") if c.count}
    )


def caught_up(projections: list[SubjectProjection], position: int, timeout: float = 60) -> bool:
    return all(p.wait_for(position, timeout) for p in projections)


def ledger_on(storage: StorageSettings) -> Iterator[ConsentLedger]:
    """A ledger for a fixture to yield from (closed afterwards)."""
    app = ConsentLedger(storage.eventsourcing_env())
    yield app
    app.close()
