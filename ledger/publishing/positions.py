"""Where the publisher got to: the last ledger position the broker acknowledged.

Stored in the ledger's own database, written only after the broker acknowledged every
record up to it, so a restarted publisher republishes from there: Kafka may see a
duplicate, never a gap. Two instances that overlap for a moment (a leader that lost its
lock but had not noticed yet) can only move it forward.
"""

from __future__ import annotations

from datetime import datetime

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
        return self.published_at(name)[0]

    def published_at(self, name: str) -> tuple[int, datetime | None]:
        """The stored position and when it was last stored (0, None before the publisher
        ever ran)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT to_regclass(%s) IS NOT NULL AS present",
                (f'"{self.datastore.schema or "public"}"."{TABLE}"',),
            )
            row = curs.fetchone()
            if not (row and row["present"]):
                return 0, None
            curs.execute(
                self._q("SELECT position, updated_at FROM {table} WHERE name = %s"), (name,)
            )
            found = curs.fetchone()
        if found is None:
            return 0, None
        return int(found["position"]), found["updated_at"]

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
