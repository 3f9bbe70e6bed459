"""One SQL dialect for a side table on both backends.

Statements are written once with ``?`` placeholders, ids as text and times as seconds
since the epoch (floats), so the same statement runs on SQLite and on PostgreSQL (where
``?`` becomes ``%s``). ``{int}`` and ``{float}`` in DDL become each backend's types.
Used by tables whose statements are the same on both, such as the webhook outbox.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.errors import DuplicateTable, UniqueViolation

Row = dict[str, Any]


class Statements:
    """The statements of one transaction: ``run`` returns the rows; ``rowcount`` the
    rows the last statement changed."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self._cursor = cursor
        self._postgres = postgres
        self.rowcount = 0

    def run(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        if self._postgres:
            statement = statement.replace("?", "%s")
        self._cursor.execute(statement, tuple(params))
        self.rowcount = int(self._cursor.rowcount)
        if self._cursor.description is None:
            return []
        return [dict(row) for row in self._cursor.fetchall()]

    def columns(self, table: str) -> set[str]:
        """The names of ``table``'s columns (a quoted name, as ``SideSql.table`` gives)."""
        if not self._postgres:
            return {row["name"] for row in self.run(f"PRAGMA table_info({table})")}
        self._cursor.execute(f"SELECT * FROM {table} LIMIT 0")
        return {column.name for column in self._cursor.description or ()}


class SideSql:
    def __init__(self, recorder: object) -> None:
        if isinstance(recorder, PostgresApplicationRecorder):
            self.postgres = True
            self._datastore: Any = recorder.datastore
            self._schema: str | None = recorder.datastore.schema
        elif isinstance(recorder, SQLiteApplicationRecorder):
            self.postgres = False
            self._datastore = recorder.datastore
            self._schema = None
        else:
            raise TypeError(f"no side tables for {type(recorder).__name__}")
        self.prefix: str = getattr(recorder, "events_table_name", "")

    def table(self, suffix: str) -> str:
        """The quoted name of the side table ``<events table><suffix>``."""
        name = f'"{self.prefix}{suffix}"'
        return f'"{self._schema}".{name}' if self._schema else name

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Statements]:
        with self._datastore.transaction(commit=commit) as cursor:
            yield Statements(getattr(cursor, "sqlite_cursor", cursor), self.postgres)

    def add_columns(self, table: str, columns: dict[str, str]) -> None:
        """Add the nullable ``columns`` (name -> type, ``{float}``/``{int}`` allowed) a
        table created by an earlier version lacks. Only missing columns are altered, so a
        role that does not own an up-to-date table (the service role) never tries."""
        types = self._types()
        with self.transaction(commit=False) as sql:
            present = sql.columns(table)
        for name, kind in columns.items():
            if name in present:
                continue
            exists = "IF NOT EXISTS " if self.postgres else ""  # another process may race
            with self.transaction(commit=True) as sql:
                sql.run(f"ALTER TABLE {table} ADD COLUMN {exists}{name} " + kind.format(**types))

    def _types(self) -> dict[str, str]:
        if self.postgres:
            return {"int": "BIGINT", "float": "DOUBLE PRECISION"}
        return {"int": "INTEGER", "float": "REAL"}

    def create(self, *statements: str) -> None:
        """Run ``CREATE … IF NOT EXISTS`` statements; another process may run them too."""
        types = self._types()
        for statement in statements:
            try:
                with self.transaction(commit=True) as sql:
                    sql.run(statement.format(**types))
            except (DuplicateTable, UniqueViolation):
                pass  # another process created it at the same moment
