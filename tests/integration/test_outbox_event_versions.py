"""An outbox row names the version of the event it follows, so a sender reads that one
event for the recipient instead of the person's whole history; rows stored before rows
carried it (an outbox table made by an earlier release) are still delivered, on both
backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.outbound.delivery import deliverable
from ledger.runtime.storage_settings import StorageSettings
from tests.support.commands import message

ALICE = "+14155550100"


@contextmanager
def raw_sql(ledger: ConsentLedger, postgres: bool) -> Iterator[Any]:
    """A cursor on the ledger's own database, whichever backend it is."""
    store: Any = ledger.store
    if postgres:
        with store.datastore.get_connection() as conn, conn.cursor() as cursor:
            yield cursor
    else:
        with store.datastore.transaction(commit=True) as cursor:
            yield cursor


def test_each_message_of_a_long_history_is_addressed_from_the_event_it_follows(
    ledger: ConsentLedger,
) -> None:
    # Given a person who changed their mind twenty times, each change confirmed
    for n in range(20):
        ledger.receive_message(message(ALICE, "STOP" if n % 2 == 0 else "START"))
    rows = ledger.store.select_outbox(after=0, limit=100)
    assert len(rows) == 20
    # Then each row names the version of its event, and each message goes to her
    [stored] = ledger.store.select_subjects([rows[0].subject_id]).values()
    events = [ledger.ledger_event(s) for s in stored]
    version_of = {e.event_id: e.originator_version for e in events}
    assert [row.version for row in rows] == [version_of[row.event_id] for row in rows]
    documents = [item.document for item in deliverable(ledger, rows)]
    assert [d["to"] if d else None for d in documents] == [ALICE] * 20


def test_rows_stored_before_they_carried_versions_are_still_delivered(
    storage: StorageSettings, ledger: ConsentLedger
) -> None:
    # Given an outbox as an earlier release made it: no version column, a row without one
    ledger.receive_message(message(ALICE, "STOP"))
    [new] = ledger.store.select_outbox(after=0, limit=10)
    table = ledger.store.outbox_table  # type: ignore[attr-defined]
    postgres = storage.uses_postgres
    with raw_sql(ledger, postgres) as cursor:
        cursor.execute(f"ALTER TABLE {table} DROP COLUMN version")
        marker = "%s" if postgres else "?"
        cursor.execute(
            f"INSERT INTO {table} (tenant, channel, subject_id, event_id, kind, payload) "  # noqa: S608
            f"VALUES ({', '.join([marker] * 6)})",
            (
                new.tenant,
                new.channel,
                new.subject_id if postgres else new.subject_id.hex,
                new.event_id if postgres else new.event_id.hex,
                new.kind,
                new.payload,
            ),
        )
    ledger.close()
    # When this release opens it
    reopened = ConsentLedger(storage.eventsourcing_env())
    try:
        rows = reopened.store.select_outbox(after=0, limit=10)
        # Then the column is back, the old rows have no version, and every row is delivered
        assert [row.version for row in rows] == [None, None]
        documents = [item.document for item in deliverable(reopened, rows)]
        assert [d["to"] if d else None for d in documents] == [ALICE, ALICE]
        # and rows stored from now on carry it
        reopened.receive_message(message(ALICE, "START"))
        [latest] = reopened.store.select_outbox(after=rows[-1].id, limit=10)
        assert latest.version == 2
    finally:
        reopened.close()
