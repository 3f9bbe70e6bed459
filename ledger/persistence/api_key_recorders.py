"""Recorders of the API-key registry: the library's, in a table of their own."""

from __future__ import annotations

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.persistence.postgres_ddl import SerialisedDDL


class AccessSQLiteRecorder(SQLiteApplicationRecorder):
    """Keeps the keys' events in their own table of the SQLite file."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "access_events"):
        super().__init__(datastore, events_table_name)


class AccessPostgresRecorder(SerialisedDDL, PostgresApplicationRecorder):
    """The library's recorder, with its schema creation serialised across processes."""
