"""Recorders of the API-key registry: the library's, in a table of their own.

The keys' events table is append-only in the database, like the ledger's: deleting a
revocation must not bring a revoked key back.

A key is read on the request path: on PostgreSQL the read is tried once (the library
retries a failed read 10 times, each after waiting its pool's connect timeout: a key not
in the cache waited ~50 s for its 503 while the database was away). A pooled connection
that died with a restarted server is replaced as it is taken (``POSTGRES_PRE_PING``), so
one attempt is not a weaker read, only a quicker answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.persistence import sqlite_triggers
from ledger.persistence.postgres_ddl import (
    APPEND_ONLY,
    REFUSE_CHANGE_FUNCTION,
    SerialisedDDL,
    refuse_change_function,
    refuse_changes,
)


class AccessSQLiteRecorder(SQLiteApplicationRecorder):
    """Keeps the keys' events in their own table of the SQLite file."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "access_events"):
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + sqlite_triggers.refuse_in_sqlite(
            self.events_table_name, sqlite_triggers.APPEND_ONLY
        )


class AccessPostgresRecorder(SerialisedDDL, PostgresApplicationRecorder):
    """The library's recorder, with its schema creation serialised across processes."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema
        self.sql_create_statements.extend(
            [
                refuse_change_function(schema, REFUSE_CHANGE_FUNCTION),
                *refuse_changes(schema, events_table_name, REFUSE_CHANGE_FUNCTION, APPEND_ONLY),
            ]
        )

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        return _SELECT_ONCE(self, originator_id, gt=gt, lte=lte, desc=desc, limit=limit)


# The library's read without its retry decorator.
_SELECT_ONCE = cast(
    Callable[..., Sequence[StoredEvent]], inspect.unwrap(PostgresAggregateRecorder.select_events)
)
