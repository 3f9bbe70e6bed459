"""Read access to subjects' data keys for processes that hold only a database handle
(projections, consumers), so they can open the personal data sealed in events."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.sql import SQL, Identifier

from ledger.events import LedgerEvent
from ledger.personal_data import SealBroken, unseal

# The ledger application's events tables (the library names them after the application).
PG_EVENTS_TABLE = "consentledger_events"
SQLITE_EVENTS_TABLE = "stored_events"
KEYS_SUFFIX = "_subject_keys"


class KeyReader:
    def __init__(self, datastore: PostgresDatastore | SQLiteDatastore) -> None:
        self.datastore = datastore

    def data_key(self, subject_id: UUID) -> bytes | None:
        if isinstance(self.datastore, PostgresDatastore):
            statement = SQL("SELECT data_key FROM {}.{} WHERE subject_id = %s").format(
                Identifier(self.datastore.schema), Identifier(PG_EVENTS_TABLE + KEYS_SUFFIX)
            )
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, (subject_id,))
                row = curs.fetchone()
                return bytes(row["data_key"]) if row else None
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT data_key FROM {SQLITE_EVENTS_TABLE}{KEYS_SUFFIX} WHERE subject_id = ?",
                (subject_id.hex,),
            )
            row = c.fetchone()
            return bytes(row["data_key"]) if row else None

    def disclosed(self, event: LedgerEvent, field: str) -> str | None:
        """One clear personal value of ``event``, or None once its subject was erased."""
        sealed = getattr(event, "personal_data", "")
        key = self.data_key(event.originator_id) if sealed else None
        if key is None:
            return None
        try:
            values = unseal(key, event.event_id, sealed)
        except SealBroken:
            return None
        return next((d.value for d in values if d.field == field), None)
