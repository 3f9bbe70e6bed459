"""A deliveries table made by an earlier release gains the failure columns on start-up,
and its rows read as they did (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.times import utc_now
from ledger.persistence.deliveries import SUFFIX, Delivery, delivery_table
from ledger.runtime.storage_settings import StorageSettings

OLD_COLUMNS = (
    "tenant text NOT NULL, request_id {uuid} NOT NULL, subject_id {uuid} NOT NULL, "
    "event_id {uuid} NOT NULL, status text NOT NULL, gateway text NOT NULL, "
    "gateway_message_id text NOT NULL, occurred_at {time} NOT NULL, "
    "recorded_at {time} NOT NULL, PRIMARY KEY (tenant, event_id, status)"
)


@pytest.fixture
def empty_ledger(storage: StorageSettings) -> Iterator[ConsentLedger]:
    app = ConsentLedger(storage.eventsourcing_env())
    yield app
    app.close()


def test_an_old_deliveries_table_gains_error_code_and_fallback(
    empty_ledger: ConsentLedger,
) -> None:
    recorder = empty_ledger.recorder
    assert isinstance(recorder, PostgresApplicationRecorder | SQLiteApplicationRecorder)
    table = recorder.events_table_name + SUFFIX
    datastore = recorder.datastore
    postgres = isinstance(recorder, PostgresApplicationRecorder)
    columns = OLD_COLUMNS.format(
        uuid="uuid" if postgres else "text", time="timestamptz" if postgres else "text"
    )
    with datastore.transaction(commit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {table}")
        c.execute(f"CREATE TABLE {table} ({columns})")
    old = Delivery(
        tenant="acme",
        request_id=uuid4(),
        subject_id=uuid4(),
        event_id=uuid4(),
        status="sent",
        gateway="whatsapp",
        gateway_message_id="wamid.1",
        occurred_at=utc_now() - timedelta(seconds=2),
        recorded_at=utc_now(),
    )
    with datastore.transaction(commit=True) as c:
        marker = "%s" if postgres else "?"
        values = (
            old.tenant,
            old.request_id if postgres else str(old.request_id),
            old.subject_id if postgres else str(old.subject_id),
            old.event_id if postgres else str(old.event_id),
            old.status,
            old.gateway,
            old.gateway_message_id,
            old.occurred_at if postgres else old.occurred_at.isoformat(),
            old.recorded_at if postgres else old.recorded_at.isoformat(),
        )
        insert = f"INSERT INTO {table} VALUES ({', '.join([marker] * 9)})"  # noqa: S608
        c.execute(insert, values)

    deliveries = delivery_table(recorder)  # the new release starts on the old table
    failed = Delivery(
        **{
            **old.__dict__,
            "status": "failed",
            "occurred_at": old.recorded_at,
            "error_code": "131026",
            "fallback": "sms",
        }
    )
    assert deliveries.add(failed)
    read = deliveries.of_request("acme", old.request_id)
    assert [(d.status, d.error_code, d.fallback) for d in read] == [
        ("sent", None, None),
        ("failed", "131026", "sms"),
    ]
    assert delivery_table(recorder).of_request("acme", old.request_id) == read  # idempotent
