"""The console's sessions, beside the ledger's events table on both backends, so every
``serve`` worker process sees the same sessions (and they outlive a restart).

A row holds the SHA-256 of the session id (the browser's cookie holds the id itself:
someone who reads the table cannot sign in with it), the principal the API key stood for
(never the key), the session's CSRF token and when it ends (seconds since the epoch).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.persistence.postgres_ddl import PostgresSideTable

SUFFIX = "_console_sessions"
COLUMNS = "(id_hash, tenant, key_id, roles, csrf, expires_at)"


@dataclass(frozen=True)
class StoredSession:
    id_hash: str
    tenant: str
    key_id: str
    roles: str  # comma-separated role names
    csrf: str
    expires_at: float

    def values(self) -> tuple[str, str, str, str, str, float]:
        return (self.id_hash, self.tenant, self.key_id, self.roles, self.csrf, self.expires_at)


class ConsoleSessionTable(ABC):
    @abstractmethod
    def insert(self, row: StoredSession, *, now: float, keep: int) -> None:
        """Store ``row``; forget expired sessions and, past ``keep``, the oldest."""

    @abstractmethod
    def select(self, id_hash: str, *, now: float) -> StoredSession | None: ...

    @abstractmethod
    def delete(self, id_hash: str) -> None: ...


def console_session_table(recorder: object) -> ConsoleSessionTable:
    table = getattr(recorder, "events_table_name", "") + SUFFIX
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresConsoleSessions(recorder.datastore, table)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteConsoleSessions(recorder.datastore, table)
    raise TypeError(f"no console-sessions table for {type(recorder).__name__}")


def _row(row: Any) -> StoredSession:
    return StoredSession(
        id_hash=row["id_hash"],
        tenant=row["tenant"],
        key_id=row["key_id"],
        roles=row["roles"],
        csrf=row["csrf"],
        expires_at=float(row["expires_at"]),
    )


class PostgresConsoleSessions(PostgresSideTable, ConsoleSessionTable):
    COLUMNS_SQL = (
        "id_hash text PRIMARY KEY, tenant text NOT NULL, key_id text NOT NULL, "
        "roles text NOT NULL, csrf text NOT NULL, expires_at double precision NOT NULL"
    )

    def insert(self, row: StoredSession, *, now: float, keep: int) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._q("DELETE FROM {table} WHERE expires_at <= %s"), (now,))
            curs.execute(
                self._q("INSERT INTO {table} " + COLUMNS + " VALUES (%s, %s, %s, %s, %s, %s)"),
                row.values(),
            )
            curs.execute(
                self._q(
                    "DELETE FROM {table} WHERE id_hash IN (SELECT id_hash FROM {table} "
                    "ORDER BY expires_at DESC OFFSET %s)"
                ),
                (keep,),
            )

    def select(self, id_hash: str, *, now: float) -> StoredSession | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._q("SELECT * FROM {table} WHERE id_hash = %s AND expires_at > %s"),
                (id_hash, now),
            )
            found = curs.fetchone()
        return _row(found) if found is not None else None

    def delete(self, id_hash: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._q("DELETE FROM {table} WHERE id_hash = %s"), (id_hash,))


class SQLiteConsoleSessions(ConsoleSessionTable):
    def __init__(self, datastore: SQLiteDatastore, table: str) -> None:
        self.datastore = datastore
        self.table = table
        with datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (id_hash TEXT PRIMARY KEY, "
                "tenant TEXT NOT NULL, key_id TEXT NOT NULL, roles TEXT NOT NULL, "
                "csrf TEXT NOT NULL, expires_at REAL NOT NULL)"
            )

    def insert(self, row: StoredSession, *, now: float, keep: int) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {self.table} WHERE expires_at <= ?", (now,))
            c.execute(f"INSERT INTO {self.table} {COLUMNS} VALUES (?, ?, ?, ?, ?, ?)", row.values())
            c.execute(
                f"DELETE FROM {self.table} WHERE id_hash IN (SELECT id_hash FROM {self.table} "
                "ORDER BY expires_at DESC LIMIT -1 OFFSET ?)",
                (keep,),
            )

    def select(self, id_hash: str, *, now: float) -> StoredSession | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.table} WHERE id_hash = ? AND expires_at > ?",
                (id_hash, now),
            )
            found = c.fetchone()
        return _row(found) if found is not None else None

    def delete(self, id_hash: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {self.table} WHERE id_hash = ?", (id_hash,))
