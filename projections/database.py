"""The database the read models live in: the ledger's own, PostgreSQL or SQLite.

Read models write their SQL once, with ``?`` placeholders; this module adapts it to the
backend (``%s`` for psycopg), qualifies table names with the PostgreSQL schema, and
converts the values SQLite has no type for (UUIDs as hex text, times as RFC 3339 text).
Writes run in one transaction that takes the write lock first (``BEGIN IMMEDIATE`` on
SQLite); on PostgreSQL, writers of the same subject queue on a transaction advisory lock.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg import Error as PsycopgError

from ledger.domain.times import format_time, parse_time

# A failure of the database itself (not of the rows a batch holds): retried as a whole,
# never split up to find a bad record.
DATABASE_ERRORS = (PersistenceError, PsycopgError)

Row = Any  # a mapping-like row: psycopg's dict rows or sqlite3.Row
# "INSERT INTO <table> (<columns>)" with nothing after it: the rows can be copied in.
_PLAIN_INSERT = re.compile(r"INSERT INTO (?P<table>\S+) \((?P<columns>[^()]*)\)")
# Values per statement for multi-row writes (well under SQLite's and PostgreSQL's limits).
MAX_PARAMETERS = 4000


def _json_default(value: Any) -> str:
    """UUIDs and times as text PostgreSQL casts back (``::uuid``, ``::timestamptz``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class Cursor:
    """One transaction's cursor, taking backend-neutral SQL."""

    def __init__(self, db: ProjectionDatabase, raw: Any, *, pipelined: bool = False) -> None:
        self.db = db
        self.raw = raw
        self.pipelined = pipelined  # psycopg pipeline mode: no COPY

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        self.raw.execute(self.db.adapt(sql), tuple(params))
        return self

    def insert_rows(
        self,
        statement: str,
        types: Sequence[str],
        rows: Iterable[Sequence[Any]],
        suffix: str = "",
    ) -> None:
        """``<statement> <rows> <suffix>``: many rows in a few statements.

        ``types`` are the PostgreSQL types of the columns. A projection writes thousands of
        rows per batch (a rebuild millions), so not one round trip per row: on PostgreSQL
        the rows travel as one JSON parameter (psycopg would parse a statement with
        thousands of placeholders on every call), on SQLite as multi-row ``VALUES``.
        """
        rows = [tuple(r) for r in rows]
        if not rows:
            return
        if self.db.postgres:
            plain = _PLAIN_INSERT.fullmatch(statement.strip())
            if plain is not None and not suffix and not self.pipelined:
                # Rows with no conflict to resolve: COPY, PostgreSQL's fastest way in.
                with self.raw.copy(
                    f"COPY {plain['table']} ({plain['columns']}) FROM STDIN"
                ) as copy:
                    copy.set_types(list(types))
                    for row in rows:
                        copy.write_row(row)
                return
            columns = ", ".join(f"(j ->> {i})::{t}" for i, t in enumerate(types))
            self.execute(
                f"{statement} SELECT {columns} FROM json_array_elements(?::json) AS j {suffix}",
                (orjson.dumps(rows, default=_json_default).decode("utf-8"),),
            )
            return
        per_statement = max(1, MAX_PARAMETERS // len(types))
        group = "(" + ", ".join("?" * len(types)) + ")"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([group] * len(chunk))
            self.execute(f"{statement} VALUES {values} {suffix}", [v for r in chunk for v in r])

    def delete_where_in(self, statement: str, type_: str, values: Sequence[Any]) -> None:
        """``<statement> IN (…)`` (e.g. ``DELETE FROM t WHERE subject_id``), of type ``type_``."""
        if not values:
            return
        if self.db.postgres:
            self.execute(*self.db.in_list(statement, type_, values))
            return
        for start in range(0, len(values), MAX_PARAMETERS):
            chunk = list(values[start : start + MAX_PARAMETERS])
            self.execute(f"{statement} IN ({', '.join('?' * len(chunk))})", chunk)

    def fetchone(self) -> Row | None:
        return self.raw.fetchone()

    def fetchall(self) -> list[Row]:
        return list(self.raw.fetchall())


class ProjectionDatabase:
    def __init__(self, datastore: PostgresDatastore | SQLiteDatastore) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self.uuid_type = "uuid" if self.postgres else "TEXT"
        self.time_type = "timestamptz" if self.postgres else "TEXT"
        self.int_type = "bigint" if self.postgres else "INTEGER"

    @classmethod
    def of(cls, datastore: object) -> ProjectionDatabase:
        if not isinstance(datastore, PostgresDatastore | SQLiteDatastore):
            raise TypeError(f"read models cannot live in {type(datastore).__name__}")
        return cls(datastore)

    # ------------------------------------------------------------------ SQL text
    def table(self, name: str) -> str:
        if isinstance(self.datastore, PostgresDatastore):
            return f'"{self.datastore.schema}"."{name}"'
        return name

    def in_list(self, column: str, type_: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column IN (…values)`` as SQL and parameters: on PostgreSQL one JSON parameter
        (psycopg parses a statement with many placeholders anew on every call)."""
        if self.postgres:
            return (
                f"{column} = ANY(ARRAY(SELECT value::{type_} "
                "FROM json_array_elements_text(?::json)))",
                [orjson.dumps([str(v) for v in values]).decode("utf-8")],
            )
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def adapt(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    # ------------------------------------------------------------------ values
    def uuid(self, value: UUID) -> Any:
        return value if self.postgres else value.hex

    def uuid_of(self, value: Any) -> UUID:
        return value if isinstance(value, UUID) else UUID(value)

    def time(self, value: datetime | None) -> Any:
        if value is None or self.postgres:
            return value
        return format_time(value)

    def time_of(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else parse_time(value)

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def write(self, *, durable: bool = True, pipelined: bool = False) -> Iterator[Cursor]:
        """One write transaction: committed when the block ends, rolled back on error.

        ``durable=False`` (PostgreSQL): the commit does not wait for its WAL flush. For
        read models fed from Kafka, whose offsets commit with their rows: a commit lost
        in a crash is replayed from the broker.

        ``pipelined`` (PostgreSQL): statements are sent without waiting for each answer
        (psycopg's pipeline mode); the connection waits only where a result is read (a
        ``fetchall``) and at the commit, so a consumer poll costs a few round trips
        instead of one per statement. Rows go in as one JSON parameter, not COPY (which
        pipeline mode cannot send).
        """
        if isinstance(self.datastore, PostgresDatastore):
            with self.datastore.transaction(commit=True) as curs:
                if not pipelined:
                    if not durable:
                        curs.execute("SET LOCAL synchronous_commit = off")
                    yield Cursor(self, curs)
                    return
                with curs.connection.pipeline():
                    if not durable:
                        curs.execute("SET LOCAL synchronous_commit = off")
                    yield Cursor(self, curs, pipelined=True)
            return
        # Take the write lock first, so the transaction never has to upgrade a read lock
        # (which fails at once in WAL mode when another writer got there first).
        with self.datastore.get_connection(commit=True) as conn, conn.cursor() as cursor:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield Cursor(self, cursor)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=False) as curs:
            yield Cursor(self, curs)

    def lock_subjects(self, cursor: Cursor, scope: str, subject_ids: Iterable[UUID]) -> None:
        """Serialise writers of the same subjects in ``scope`` until the transaction ends.

        SQLite needs nothing: ``BEGIN IMMEDIATE`` already serialises every writer.
        """
        if not self.postgres:
            return
        keys = sorted({subject_lock_key(scope, sid) for sid in subject_ids})
        if keys:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k ORDER BY k",
                (keys,),
            )


def subject_lock_key(scope: str, subject_id: UUID) -> int:
    """A signed 64-bit advisory lock key for a subject within ``scope`` (a table)."""
    return int.from_bytes(subject_id.bytes[:8], "big", signed=True) ^ zlib.crc32(scope.encode())
