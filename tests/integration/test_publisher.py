"""The publisher relays every ledger event to Kafka as a CloudEvent, in order, once it
leads, and resumes after the last position the broker acknowledged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.publishing.cloudevents import decode
from ledger.publishing.publisher import Publisher, PublishSettings
from ledger.runtime.storage_settings import StorageSettings
from tests.support.commands import message, opt_in, optin_request
from tests.support.kafka import Broker, read_topic, wait_until
from tests.support.pipeline import ledger_on, publisher, start


@pytest.fixture
def ledger(pg_storage: StorageSettings) -> Iterator[ConsentLedger]:
    """Every test here runs on PostgreSQL: the publisher needs it."""
    yield from ledger_on(pg_storage)


def positions_on(records: list[Any]) -> list[int]:
    return sorted(int(dict(r.headers)["ledger-position"]) for r in records)


def test_every_ledger_event_reaches_kafka_as_a_cloudevent_keyed_by_its_subject(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    # Given events of several kinds in the ledger
    ledger.record(opt_in("+14155550100", purposes=("marketing", "utility")))
    ledger.receive_message(message("+14155550100", "stop promotions"))
    ledger.request_opt_in(optin_request("+14155550101"))
    ledger.receive_message(message("+14155550101", "YES"))
    history = ledger.history("acme", "whatsapp", "+14155550100").entries
    other = ledger.history("acme", "whatsapp", "+14155550101").entries
    kafka = broker.settings()
    # When the publisher runs
    with publisher(pg_storage, kafka):
        records = read_topic(kafka.bootstrap_servers, kafka.events_topic, expect=4)
    # Then each event is one structured CloudEvent, keyed by subject, with its position
    assert len(records) == 4
    by_id = {json.loads(r.value)["id"]: r for r in records}
    for entry in [*history, *other]:
        doc = entry.document
        record = by_id[doc["event_id"]]
        envelope = json.loads(record.value)
        assert envelope["specversion"] == "1.0"
        assert envelope["source"] == "consent-ledger/acme"
        assert envelope["type"] == f"consent.{doc['type']}"
        assert envelope["subject"] == doc["subject_id"] == record.key.decode()
        assert envelope["time"] == doc["occurred_at"]
        assert envelope["data"]["hash"] == entry.hash
        assert "+1415" not in record.value.decode()  # personal data travels sealed only
        headers = dict(record.headers)
        assert int(headers["ledger-position"]) == entry.position
        assert int(headers["subject-version"]) == doc["version"]
        decoded = decode(record.value)
        assert decoded.event is not None
        assert decoded.event.document() == doc
    # and one subject's events sit on one partition, in ledger order
    partitions = {
        r.partition for r in records if r.key.decode() == history[0].document["subject_id"]
    }
    assert len(partitions) == 1


def test_a_restarted_publisher_resumes_after_the_last_acknowledged_position(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    kafka = broker.settings()
    with publisher(pg_storage, kafka) as relay:
        for n in range(20):
            ledger.receive_message(message(f"+1415555{n:04d}", "STOP"))
        wait_until(lambda: relay.stats.position == 20, message="published")
    # Given the publisher stopped, When more is written and it starts again
    for n in range(20, 30):
        ledger.receive_message(message(f"+1415555{n:04d}", "STOP"))
    with publisher(pg_storage, kafka) as relay:
        wait_until(lambda: relay.stats.published == 10, message="published the rest")
    # Then Kafka holds every event exactly once: nothing lost, nothing repeated
    records = read_topic(kafka.bootstrap_servers, kafka.events_topic, expect=30)
    assert positions_on(records) == list(range(1, 31))


def test_holes_in_the_notification_ids_are_passed_over(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    # Given a failed write that consumed a notification id between two events
    ledger.receive_message(message("+14155550100", "STOP"))
    assert pg_storage.database_url is not None
    with psycopg.connect(pg_storage.database_url.get_secret_value(), autocommit=True) as conn:
        conn.execute(
            "SELECT nextval(pg_get_serial_sequence('consentledger_events', 'notification_id'))"
        )
    ledger.receive_message(message("+14155550101", "STOP"))
    kafka = broker.settings()
    # When the publisher runs, Then both events are published and it does not wait for the hole
    with publisher(pg_storage, kafka):
        records = read_topic(kafka.bootstrap_servers, kafka.events_topic, expect=2)
    assert positions_on(records) == [1, 3]


def test_only_one_publisher_leads_and_a_waiting_one_takes_over(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    kafka = broker.settings()
    assert pg_storage.database_url is not None
    conninfo = pg_storage.database_url.get_secret_value()
    settings = PublishSettings(poll_seconds=0.2, lock_retry_seconds=0.2)
    apps = [ConsentLedger(pg_storage.eventsourcing_env()) for _ in range(2)]
    first, second = (Publisher(app, kafka, settings, lock_conninfo=conninfo) for app in apps)
    try:
        # Given a leading publisher and a second one started after it
        leader = start(first.run)
        ledger.receive_message(message("+14155550100", "STOP"))
        wait_until(lambda: first.stats.published == 1, message="the first leads")
        standby = start(second.run)
        ledger.receive_message(message("+14155550101", "STOP"))
        wait_until(lambda: first.stats.published == 2, message="the leader goes on")
        assert second.stats.published == 0  # it waits for the lock
        # When the leader goes away
        leader.close()
        ledger.receive_message(message("+14155550102", "STOP"))
        # Then the second takes over from where the first stopped
        wait_until(lambda: second.stats.published == 1, message="the standby took over")
        standby.close()
    finally:
        for app in apps:
            app.close()
    records = read_topic(kafka.bootstrap_servers, kafka.events_topic, expect=3)
    assert positions_on(records) == [1, 2, 3]


def test_on_the_embedded_sqlite_ledger_the_publisher_refuses(tmp_path: Any, broker: Broker) -> None:
    storage = StorageSettings(database_url=None, sqlite_path=tmp_path / "l.db")
    app = ConsentLedger(storage.eventsourcing_env())
    try:
        with pytest.raises(TypeError, match="PostgreSQL"):
            Publisher(app, broker.settings(), PublishSettings(), lock_conninfo="")
    finally:
        app.close()


def test_the_publisher_also_relays_the_outbox_to_the_outbound_topic(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    # Given an opt-in request (a message to send) and a STOP (a confirmation to send)
    requested = ledger.request_opt_in(optin_request("+14155550101"))
    answer, request_id = requested.recorded, requested.request_id
    ledger.receive_message(message("+14155550100", "STOP"))
    kafka = broker.settings()
    # When the publisher runs
    with publisher(pg_storage, kafka):
        records = read_topic(kafka.bootstrap_servers, kafka.outbound_topic, expect=2)
    # Then both messages are on consent.outbound, keyed by subject, once each
    documents = {json.loads(r.value)["kind"]: json.loads(r.value) for r in records}
    assert len(records) == 2
    assert set(documents) == {"opt_in_request", "confirmation"}
    assert documents["opt_in_request"]["to"] == "+14155550101"
    assert documents["opt_in_request"]["request_id"] == str(request_id)
    assert documents["confirmation"]["category"] == "utility"
    assert {r.key.decode() for r in records} == {
        str(answer.subject_id),
        documents["confirmation"]["subject_id"],
    }
