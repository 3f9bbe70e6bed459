"""Where the publisher got to: the last ledger position the broker acknowledged.

Stored in the ledger's own database, written only after the broker acknowledged every
record up to it, so a restarted publisher republishes from there: Kafka may see a
duplicate, never a gap. Two instances that overlap for a moment (a leader that lost its
lock but had not noticed yet) can only move it forward.
"""

from __future__ import annotations

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Composed, Identifier

TABLE = "consent_ledger_publisher_positions"


class PublisherPositions:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def _q(self, template: str) -> Composed:
        return SQL(template).format(table=Identifier(self.datastore.schema, TABLE))

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q(
                    "CREATE TABLE IF NOT EXISTS {table} (name text PRIMARY KEY, "
                    "position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
                )
            )

    def load(self, name: str) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._q("SELECT position FROM {table} WHERE name = %s"), (name,))
            row = curs.fetchone()
        return int(row["position"]) if row else 0

    def published(self, name: str) -> int:
        """The stored position, 0 before the publisher ever ran (no table yet)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT to_regclass(%s) IS NOT NULL AS present",
                (f'"{self.datastore.schema or "public"}"."{TABLE}"',),
            )
            row = curs.fetchone()
        return self.load(name) if row and row["present"] else 0

    def store(self, name: str, position: int) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q(
                    "INSERT INTO {table} (name, position) VALUES (%s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET "
                    "position = GREATEST({table}.position, excluded.position), updated_at = now()"
                ),
                (name, position),
            )
