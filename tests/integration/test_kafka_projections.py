"""Kafka consumers build read models equal to the fold of the ledger, whatever the feed does:
duplicates, lost records, poison messages, two members sharing the partitions."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaProducer
from prometheus_client import REGISTRY

from consumers.consent_events import ConsentEventsConsumer
from consumers.service import ProjectionConsumers
from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.times import utc_now
from ledger.publishing.kafka import KafkaSettings
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_daily import ConsentDailyProjection
from projections.consent_status.projection import ConsentStatusProjection
from projections.pending_requests import PendingRequestsProjection
from tests.support.kafka import Broker, read_topic, wait_until
from tests.support.pipeline import (
    addresses_of,
    assert_pending_equals_fold,
    assert_status_equals_fold,
    caught_up,
    consumers,
    daily_counts,
    expected_daily,
    ledger_on,
    publisher,
    write_workload,
)


@pytest.fixture
def ledger(pg_storage: StorageSettings) -> Iterator[ConsentLedger]:
    """Every test here runs on PostgreSQL: the Kafka pipeline needs it."""
    yield from ledger_on(pg_storage)


def views(service: ProjectionConsumers) -> tuple[Any, Any, Any]:
    status, pending, daily = service.projections
    assert isinstance(status, ConsentStatusProjection)
    assert isinstance(pending, PendingRequestsProjection)
    assert isinstance(daily, ConsentDailyProjection)
    return status, pending, daily


def assert_all_equal_the_ledger(
    service: ProjectionConsumers, ledger: ConsentLedger, n: int
) -> None:
    status, pending, daily = views(service)
    addresses = addresses_of(n)
    assert_status_equals_fold(status, ledger, addresses)
    assert_pending_equals_fold(pending, ledger, addresses, utc_now())
    assert daily_counts(daily) == expected_daily(ledger, addresses)


def test_projections_fed_from_kafka_equal_the_fold_of_the_ledger(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    # Given a ledger with a few hundred events of many kinds, published to Kafka
    kafka = broker.settings()
    with publisher(pg_storage, kafka), consumers(pg_storage, kafka) as service:
        last = write_workload(ledger, operations=300, subjects=25)
        # When the consumers have applied everything up to the last position
        assert caught_up(service.projections, last)
        # Then every read model equals what the ledger's own fold says
        assert_all_equal_the_ledger(service, ledger, 25)
        assert service.projections[0].metrics.gap_repairs == 0


def test_redelivered_records_change_nothing(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    # Given the projections built from Kafka
    kafka = broker.settings()
    with consumers(pg_storage, kafka) as service:
        with publisher(pg_storage, kafka):
            last = write_workload(ledger, operations=150, subjects=10)
            assert caught_up(service.projections, last)
        status = service.projections[0]
        before = status.metrics.snapshot()
        # When the publisher forgets its position and publishes the whole ledger again
        datastore: Any = getattr(ledger.recorder, "datastore", None)
        with datastore.transaction(commit=True) as curs:
            curs.execute("DELETE FROM consent_ledger_publisher_positions")
        with publisher(pg_storage, kafka):
            wait_until(
                lambda: status.metrics.duplicates - before["duplicates"] >= before["applied"],
                message="every redelivered record seen",
            )
        # Then nothing was applied twice: the read models still equal the ledger
        assert status.metrics.applied == before["applied"]
        assert_all_equal_the_ledger(service, ledger, 10)


class DroppingConsumer(ConsentEventsConsumer):
    """Loses records between the broker and the projections, as a faulty client would."""

    rng = random.Random(3)
    dropped = 0

    def poll(self, consumer: Any) -> dict[Any, list[Any]]:
        polled = super().poll(consumer)
        kept: dict[Any, list[Any]] = {}
        for tp, records in polled.items():
            survivors = [r for r in records if self.rng.random() > 0.15]
            DroppingConsumer.dropped += len(records) - len(survivors)
            if survivors:
                kept[tp] = survivors
        return kept


class LossyConsumers(ProjectionConsumers):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consumer.__class__ = DroppingConsumer


def counted(metric: str) -> float:
    return REGISTRY.get_sample_value(metric, {"projection": "consent_status"}) or 0.0


def test_records_lost_between_broker_and_projection_are_repaired_from_the_ledger(
    pg_storage: StorageSettings,
    ledger: ConsentLedger,
    broker: Broker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a consumer that drops about 15% of the records it polls
    caplog.set_level(logging.WARNING)
    gaps_before = counted("consent_ledger_projection_gaps_filled_total")
    healed_before = counted("consent_ledger_projection_healed_events_total")
    kafka = broker.settings()
    with (
        publisher(pg_storage, kafka),
        consumers(pg_storage, kafka, LossyConsumers, heal_after_seconds=0.5) as service,
    ):
        last = write_workload(ledger, operations=400, subjects=30)
        # When everything was written and the reconciliation had its turn
        assert caught_up(service.projections, last)
        # Then the read models still equal the fold of the ledger, and the repairs show
        assert DroppingConsumer.dropped > 0
        assert_all_equal_the_ledger(service, ledger, 30)
        metrics = service.projections[0].metrics
        assert metrics.gap_repairs > 0  # later events of a subject showed the gap
        assert metrics.healed_events > 0  # last events of a subject came from the ledger
    # ... loudly: a counter in /metrics and a warning line for every occurrence
    gaps = counted("consent_ledger_projection_gaps_filled_total") - gaps_before
    healed = counted("consent_ledger_projection_healed_events_total") - healed_before
    assert gaps == metrics.gap_repairs
    assert healed == metrics.healed_events
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    gap_lines = [
        r
        for r in warnings
        if r.getMessage() == "filled a gap in a subject's versions from the ledger"
        and getattr(r, "projection", "") == "consent_status"
    ]
    heal_lines = [
        r
        for r in warnings
        if r.getMessage() == "reconciliation applied events the feed had not delivered"
        and getattr(r, "projection", "") == "consent_status"
    ]
    assert len(gap_lines) == metrics.gap_repairs
    assert sum(getattr(r, "events", 0) for r in heal_lines) == metrics.healed_events


def test_two_consumers_in_one_group_share_the_partitions_and_agree_with_the_ledger(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    # Given two members of one consumer group
    kafka = broker.settings()
    with consumers(pg_storage, kafka) as first, consumers(pg_storage, kafka) as second:

        def both_assigned() -> bool:
            one, two = first.consumer.consumer, second.consumer.consumer
            return bool(one and two and one.assignment() and two.assignment())

        wait_until(both_assigned, message="both members got partitions")
        # When events flow
        with publisher(pg_storage, kafka):
            last = write_workload(ledger, operations=300, subjects=40)
            assert caught_up(first.projections, last)
        # Then each applied a share, and together they equal the fold of the ledger
        assert first.projections[0].metrics.applied > 0
        assert second.projections[0].metrics.applied > 0
        assert_all_equal_the_ledger(first, ledger, 40)


def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_stream_goes_on(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    kafka: KafkaSettings = broker.settings()
    with publisher(pg_storage, kafka), consumers(pg_storage, kafka) as service:
        first = write_workload(ledger, operations=30, subjects=5, seed=1)
        assert caught_up(service.projections, first)
        # Given garbage and a tampered event on the topic, between good events
        tampered = read_topic(kafka.bootstrap_servers, kafka.events_topic, expect=1)[0]
        envelope = json.loads(tampered.value)
        envelope["data"]["purposes"] = ["everything"]
        producer = KafkaProducer(bootstrap_servers=kafka.servers)
        producer.send(kafka.events_topic, key=b"x", value=b"{not json")
        producer.send(kafka.events_topic, key=tampered.key, value=json.dumps(envelope).encode())
        producer.flush()
        producer.close()
        # When more good events follow
        last = write_workload(ledger, operations=30, subjects=5, seed=2)
        # Then they are applied, and both bad records are in the DLQ with reason and origin
        assert caught_up(service.projections, last)
        assert_all_equal_the_ledger(service, ledger, 5)
        dead = read_topic(kafka.bootstrap_servers, kafka.dlq_topic, expect=2)
        assert len(dead) == 2
        reasons = sorted(dict(d.headers)["dlq-reason"].decode() for d in dead)
        assert reasons[0].startswith("undecodable: not JSON")
        assert "hash does not match" in reasons[1]
        for record in dead:
            origin = dict(record.headers)["dlq-origin"].decode()
            assert origin.startswith(f"{kafka.events_topic}[")
            assert "]@" in origin


def test_a_poll_that_fails_in_the_shared_transaction_is_applied_read_model_by_read_model(
    pg_storage: StorageSettings,
    ledger: ConsentLedger,
    broker: Broker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A poll is one transaction for every read model; when it fails for something other
    than the database, the poll is applied one read model at a time, and counted."""
    split = ("consent_ledger_projection_batches_split_total", {"runner": "consumer"})
    kafka = broker.settings()
    with publisher(pg_storage, kafka), consumers(pg_storage, kafka) as service:
        first = write_workload(ledger, operations=20, subjects=4, seed=3)
        assert caught_up(service.projections, first)
        before = REGISTRY.get_sample_value(*split) or 0.0
        daily = views(service)[2]
        apply_in = daily.apply_in
        failures: list[int] = []

        def fails_once(*args: Any, **kwargs: Any) -> int:
            if not failures:  # a read model that cannot apply this poll the first time
                failures.append(1)
                raise ValueError("cannot apply this poll")
            return apply_in(*args, **kwargs)

        monkeypatch.setattr(daily, "apply_in", fails_once)
        last = write_workload(ledger, operations=20, subjects=4, seed=4)
        assert caught_up(service.projections, last)
        assert failures == [1]
        assert (REGISTRY.get_sample_value(*split) or 0.0) == before + 1
        assert_all_equal_the_ledger(service, ledger, 4)
