"""Schema creation that many processes can run at once, beside running writers.

* ``SerialisedDDL`` makes ``create_table`` take a session advisory lock, so processes that
  start together (API, publisher, consumers, sealer) never race on CREATE statements;
  it creates nothing when the table belongs to another role (the owner role ran the DDL,
  this process is the service role: ``owned_by_another_role``).
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
from psycopg.rows import tuple_row
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


def owned_by_another_role(conn: Any, schema: str, table: str) -> bool:
    """``table`` exists and its owner is a role the current user does not act as: the
    schema is managed by an owner role (``consent-ledger schema create``, docs/sql/roles.sql)
    and this process runs as the service role, which may neither alter nor index it."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        row = cursor.execute(
            "SELECT NOT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND n.nspname = %s",
            (table, schema),
        ).fetchone()
    return bool(row is not None and row[0])


class SerialisedDDL:
    datastore: PostgresDatastore
    events_table_name: str
    ddl_lock_name = "consent-ledger-ddl"

    def create_table(self) -> None:
        with ddl_lock(self.datastore, self.ddl_lock_name) as conn:
            if owned_by_another_role(conn, self.datastore.schema, self.events_table_name):
                return  # the owner role created it (and its triggers)
            super().create_table()  # type: ignore[misc]


def unless_found(probe: str, statement: str) -> SQL:
    """A ``DO`` block that runs ``statement`` only when the catalog query ``probe`` finds
    nothing: DDL every process may run as it starts, without taking the lock (or needing
    the ownership) the statement itself would when there is nothing to do."""
    return SQL(
        "DO $do$ BEGIN IF NOT EXISTS (" + probe + ") THEN " + statement + "; END IF; END $do$"
    )


def refuse_change_function(schema: str, name: str) -> Composed:
    """The trigger function that refuses a change to an append-only table, for anyone."""
    # Created only when missing: a service role that does not own it may not replace it
    # (``docs/sql/roles.sql``), and must still start.
    return unless_found(
        "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = {name_literal} AND n.nspname = {schema_literal}",
        "CREATE FUNCTION {schema}.{name}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'consent ledger table % is append-only: % refused', "
        "TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege'; END $$",
    ).format(
        schema=Identifier(schema),
        name=Identifier(name),
        name_literal=Literal(name),
        schema_literal=Literal(schema),
    )


def add_column_once(schema: str, table: str, column: str, kind: str) -> Composed:
    """``ALTER TABLE … ADD COLUMN`` for a table an earlier release made, only if the column
    is missing: an ``ALTER`` takes the table's strongest lock even when it has nothing to
    do, and every process runs these statements as it starts."""
    return unless_found(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_schema = {schema_literal} AND table_name = {table_literal} "
        "AND column_name = {column_literal}",
        "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {column} " + kind,
    ).format(
        schema_literal=Literal(schema),
        table_literal=Literal(table),
        column_literal=Literal(column),
        schema=Identifier(schema),
        table=Identifier(table),
        column=Identifier(column),
    )


def create_trigger_once(
    schema: str, table: str, name: str, definition: str, function: str, *, per_row: bool = False
) -> Composed:
    """``CREATE TRIGGER name <definition> ON schema.table … EXECUTE FUNCTION`` if missing."""
    each = "FOR EACH ROW" if per_row else "FOR EACH STATEMENT"
    return unless_found(
        "SELECT 1 FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE t.tgname = {name_literal} AND c.relname = {table_literal} "
        "AND n.nspname = {schema_literal}",
        "CREATE TRIGGER {name} " + definition + " ON {schema}.{table} " + each + " "
        "EXECUTE FUNCTION {schema}.{function}()",
    ).format(
        name_literal=Literal(name),
        table_literal=Literal(table),
        schema_literal=Literal(schema),
        name=Identifier(name),
        schema=Identifier(schema),
        table=Identifier(table),
        function=Identifier(function),
    )


REFUSE_CHANGE_FUNCTION = "consent_ledger_refuse_change"
# What the triggers refuse: everything, or all but the DELETE that erasure (or a
# superseded configuration) needs.
APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE")
KEEP_DELETE = ("UPDATE", "TRUNCATE")


def refuse_changes(
    schema: str, table: str, function: str, operations: tuple[str, ...]
) -> list[Composed]:
    """Triggers that refuse ``operations`` (``UPDATE``, ``DELETE``, ``TRUNCATE``) on a table.

    UPDATE and DELETE are refused per row (a statement that matches nothing passes), and
    TRUNCATE per statement (it has no rows). Triggers bind every role, the table's owner
    and superusers included; only the owner can drop or disable them.
    """
    statements = []
    rows = [op for op in operations if op in ("UPDATE", "DELETE")]
    if rows:
        statements.append(
            create_trigger_once(
                schema,
                table,
                f"{table}_no_{'_'.join(op.lower() for op in rows)}",
                "BEFORE " + " OR ".join(rows),
                function,
                per_row=True,
            )
        )
    if "TRUNCATE" in operations:
        statements.append(
            create_trigger_once(schema, table, f"{table}_no_truncate", "BEFORE TRUNCATE", function)
        )
    return statements


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
    # The operations its triggers refuse (``APPEND_ONLY``, ``KEEP_DELETE``), if any.
    REFUSED: ClassVar[tuple[str, ...]] = ()

    def __init__(self, datastore: PostgresDatastore, table: str) -> None:
        self.datastore = datastore
        self.table = table
        create_table_once(
            datastore, self._q("CREATE TABLE IF NOT EXISTS {table} (" + self.COLUMNS_SQL + ")")
        )
        with ddl_lock(datastore, SerialisedDDL.ddl_lock_name) as conn:
            # The owner role created it (and its triggers and indexes): nothing more to do
            # here, and the service role may not (docs/sql/roles.sql).
            self.owned_elsewhere = owned_by_another_role(conn, datastore.schema, table)
        if self.REFUSED and not self.owned_elsewhere:
            schema = datastore.schema
            with ddl_lock(datastore, SerialisedDDL.ddl_lock_name) as conn, conn.transaction():
                conn.execute(refuse_change_function(schema, REFUSE_CHANGE_FUNCTION))
                for statement in refuse_changes(
                    schema, table, REFUSE_CHANGE_FUNCTION, self.REFUSED
                ):
                    conn.execute(statement)

    def _q(self, template: str) -> Composed:
        """``template`` with ``{table}`` as the table's schema-qualified name."""
        return SQL(template).format(table=Identifier(self.datastore.schema, self.table))
