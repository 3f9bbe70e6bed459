"""Schema creation that many processes can run at once, beside running writers.

* ``SerialisedDDL`` makes ``create_table`` take a session advisory lock, so processes that
  start together (API, publisher, consumers, sealer) never race on CREATE statements.
* ``create_trigger_once`` creates a trigger only when it is missing: re-creating it on
  every start would lock the table against writers already running (and could deadlock
  with them).
* ``refuse_change_function`` is the trigger function of every append-only table.
* ``create_table_once`` creates a side table, tolerating another process doing it too;
  ``PostgresSideTable`` is a side table's base: its table created once, its SQL named.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore
from psycopg.errors import DuplicateObject, DuplicateTable, UniqueViolation
from psycopg.sql import SQL, Composed, Identifier, Literal


@contextmanager
def ddl_lock(datastore: PostgresDatastore, name: str) -> Iterator[Any]:
    """A connection holding the session advisory lock ``name`` until the block ends."""
    key = zlib.crc32(name.encode())
    with datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


class SerialisedDDL:
    datastore: PostgresDatastore
    ddl_lock_name = "consent-ledger-ddl"

    def create_table(self) -> None:
        with ddl_lock(self.datastore, self.ddl_lock_name):
            super().create_table()  # type: ignore[misc]


def refuse_change_function(schema: str, name: str) -> Composed:
    """The trigger function that refuses a change to an append-only table, for anyone."""
    return SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{name}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'consent ledger table % is append-only: % refused', "
        "TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$"
    ).format(schema=Identifier(schema), name=Identifier(name))


def create_trigger_once(
    schema: str, table: str, name: str, definition: str, function: str, *, per_row: bool = False
) -> Composed:
    """``CREATE TRIGGER name <definition> ON schema.table … EXECUTE FUNCTION`` if missing."""
    each = "FOR EACH ROW" if per_row else "FOR EACH STATEMENT"
    return SQL(
        "DO $do$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE t.tgname = {name_literal} AND c.relname = {table_literal} "
        "AND n.nspname = {schema_literal}) THEN "
        "CREATE TRIGGER {name} " + definition + " ON {schema}.{table} " + each + " "
        "EXECUTE FUNCTION {schema}.{function}(); END IF; END $do$"
    ).format(
        name_literal=Literal(name),
        table_literal=Literal(table),
        schema_literal=Literal(schema),
        name=Identifier(name),
        schema=Identifier(schema),
        table=Identifier(table),
        function=Identifier(function),
    )


def create_table_once(datastore: PostgresDatastore, statement: Composed) -> None:
    """Run a ``CREATE TABLE IF NOT EXISTS``; another process may create it at the same moment."""
    try:
        with datastore.transaction(commit=True) as curs:
            curs.execute(statement)
    except (DuplicateTable, DuplicateObject, UniqueViolation):
        pass  # another process created it at the same moment
    except PersistenceError as error:  # the library wraps the driver's errors
        if not isinstance(error.__cause__, DuplicateTable | DuplicateObject | UniqueViolation):
            raise


class PostgresSideTable:
    """A table of the project's own beside the events table (``COLUMNS_SQL`` its columns)."""

    COLUMNS_SQL: ClassVar[str]

    def __init__(self, datastore: PostgresDatastore, table: str) -> None:
        self.datastore = datastore
        self.table = table
        create_table_once(
            datastore, self._q("CREATE TABLE IF NOT EXISTS {table} (" + self.COLUMNS_SQL + ")")
        )

    def _q(self, template: str) -> Composed:
        """``template`` with ``{table}`` as the table's schema-qualified name."""
        return SQL(template).format(table=Identifier(self.datastore.schema, self.table))
