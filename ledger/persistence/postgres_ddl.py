"""Schema creation that many processes can run at once, beside running writers.

* ``SerialisedDDL`` makes ``create_table`` take a session advisory lock, so processes that
  start together (API, publisher, consumers, sealer) never race on CREATE statements.
* ``create_trigger_once`` creates a trigger only when it is missing: re-creating it on
  every start would lock the table against writers already running (and could deadlock
  with them).
"""

from __future__ import annotations

import zlib

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Composed, Identifier, Literal


class SerialisedDDL:
    datastore: PostgresDatastore
    ddl_lock_name = "consent-ledger-ddl"

    def create_table(self) -> None:
        lock_key = zlib.crc32(self.ddl_lock_name.encode())
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
            try:
                super().create_table()  # type: ignore[misc]
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))


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
