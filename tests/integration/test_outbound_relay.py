"""The outbound relay moves outbox messages to Kafka ``consent.outbound`` on a real broker.

Its position moves only after the broker acknowledged: a broker that is gone costs a
retry, never a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaError

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.signals.recorder import SignalRecorder
from ledger.domain.commands import (
    CaptureMethod,
    Evidence,
    Notice,
    ReceiveMessage,
    RequestOptIn,
    Source,
)
from ledger.domain.signals.reports import ProviderSignal, SignalAction
from ledger.domain.times import utc_now
from ledger.publishing.kafka import ensure_topics, make_producer
from ledger.publishing.outbound_relay import POSITION_NAME, OutboundRelay
from ledger.publishing.positions import PublisherPositions
from ledger.runtime.storage_settings import StorageSettings
from tests.integration.test_published_schemas import schema
from tests.support.kafka import Broker, read_topic, start_broker

ALICE, BOB = "+14155550100", "+14155550101"


@pytest.fixture
def ledger(pg_storage: StorageSettings) -> Iterator[ConsentLedger]:
    app = ConsentLedger(pg_storage.eventsourcing_env())
    yield app
    app.close()


def positions_of(ledger: ConsentLedger) -> PublisherPositions:
    positions = PublisherPositions(ledger.recorder.datastore)  # type: ignore[attr-defined]
    positions.create_table()
    return positions


def ask(ledger: ConsentLedger, address: str) -> None:
    ledger.request_opt_in(
        RequestOptIn(
            tenant="acme",
            channel="whatsapp",
            address=address,
            purposes=("marketing",),
            template=Notice("welcome", "2", "Reply YES for offers from Acme"),
            business_name="Acme",
        )
    )


def stop(ledger: ConsentLedger, address: str, message_id: str) -> None:
    ledger.receive_message(
        ReceiveMessage(
            tenant="acme",
            channel="whatsapp",
            address=address,
            message_id=message_id,
            occurred_at=utc_now() - timedelta(seconds=1),
            text="STOP",
        )
    )


def test_outbox_messages_reach_consent_outbound_once_keyed_by_subject(
    ledger: ConsentLedger, broker: Broker
) -> None:
    settings = broker.settings()
    ensure_topics(settings, [settings.outbound_topic])
    ask(ledger, ALICE)
    stop(ledger, BOB, "wamid.1")
    producer = make_producer(settings)
    relay = OutboundRelay(ledger, producer, settings.outbound_topic, positions_of(ledger))
    try:
        assert relay.run_once() == 2
        assert relay.run_once() == 0  # nothing new: nothing sent again
        stop(ledger, ALICE, "wamid.2")
        assert relay.run_once() == 1
    finally:
        producer.close()
    records = read_topic(broker.bootstrap, settings.outbound_topic, expect=3)
    documents = sorted((json.loads(r.value) for r in records), key=lambda d: d["outbox_id"])
    assert [(d["kind"], d["to"]) for d in documents] == [
        ("opt_in_request", ALICE),
        ("confirmation", BOB),
        ("confirmation", ALICE),
    ]
    assert documents[0]["template"]["text"] == "Reply YES for offers from Acme"
    by_id = {d["outbox_id"]: r for d in documents for r in records if json.loads(r.value) == d}
    for document in documents:
        record = by_id[document["outbox_id"]]
        assert record.key.decode() == document["subject_id"]
        assert dict(record.headers)["kind"].decode() == document["kind"]
    assert positions_of(ledger).load(POSITION_NAME) == documents[-1]["outbox_id"]


def test_the_position_moves_only_after_the_broker_acknowledged(ledger: ConsentLedger) -> None:
    doomed = start_broker()  # a broker of this test's own, to take away
    settings = doomed.settings()
    ensure_topics(settings, [settings.outbound_topic])
    # The relay's producer settings, with deliveries that give up quickly.
    producer = KafkaProducer(
        bootstrap_servers=settings.servers,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=1000,
        delivery_timeout_ms=1500,
    )
    positions = positions_of(ledger)
    relay = OutboundRelay(ledger, producer, settings.outbound_topic, positions, ack_timeout=10)
    ask(ledger, ALICE)
    producer.partitions_for(settings.outbound_topic)  # metadata known: sends queue, then fail
    doomed.process.kill()
    doomed.process.wait(timeout=10)
    try:
        with pytest.raises(KafkaError):
            relay.run_once()
        assert positions.load(POSITION_NAME) == 0  # the message will be sent again
    finally:
        producer.close(timeout=5)


def test_a_request_that_cannot_reach_the_person_puts_a_fallback_notice_on_the_topic(
    ledger: ConsentLedger, broker: Broker
) -> None:
    settings = broker.settings()
    ensure_topics(settings, [settings.outbound_topic])
    ask(ledger, ALICE)
    [request] = ledger.history("acme", "whatsapp", ALICE).entries
    outcome = SignalRecorder(ledger).record_signal(
        ProviderSignal(
            tenant="acme",
            channel="whatsapp",
            address=ALICE,
            action=SignalAction.UNDELIVERABLE,
            occurred_at=utc_now() - timedelta(seconds=1),
            source=Source(kind="whatsapp_status", id="wamid.req:failed"),
            evidence=Evidence(
                method=CaptureMethod.PROVIDER_SIGNAL,
                gateway="whatsapp",
                gateway_message_id="wamid.req",
                gateway_status="failed",
                gateway_error="131026",
            ),
            refers_to=UUID(request.document["event_id"]),
        )
    )
    assert outcome.outcome == "recorded"
    producer = make_producer(settings)
    relay = OutboundRelay(ledger, producer, settings.outbound_topic, positions_of(ledger))
    try:
        assert relay.run_once() == 2
    finally:
        producer.close()
    records = read_topic(broker.bootstrap, settings.outbound_topic, expect=2)
    documents = sorted((json.loads(r.value) for r in records), key=lambda d: d["outbox_id"])
    notice = documents[1]
    assert (notice["kind"], notice["category"], notice["to"]) == ("fallback", "notice", ALICE)
    assert (notice["fallback"], notice["failure"]["error_code"]) == ("sms", "131026")
    assert notice["request_id"] == documents[0]["request_id"]
    for document in documents:  # as docs/schemas/outbound.json describes them
        assert list(schema("outbound.json").iter_errors(document)) == []
