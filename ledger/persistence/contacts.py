"""The contact index on both backends: the tenants' contact secrets and the links.

Links (``<events>_contacts``: tenant, contact key, subject, channel) are written by the
recorders in the same transaction as the events that name the contact, and deleted with
an erased subject's data key; this module reads them. Each tenant's contact secret (the
HMAC key of its index) lives in ``<events>_contact_secrets``, sealed by the caller
(``SecretBox``) before it gets here; the first writer of a tenant's secret wins.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from psycopg.sql import SQL, Identifier

from ledger.domain.contacts import ContactLink
from ledger.persistence.postgres_ddl import APPEND_ONLY, PostgresSideTable
from ledger.persistence.sqlite_triggers import APPEND_ONLY as SQLITE_APPEND_ONLY
from ledger.persistence.sqlite_triggers import refuse_in_sqlite

LINKS_SUFFIX = "_contacts"
SECRETS_SUFFIX = "_contact_secrets"


class ContactTables(ABC):
    @abstractmethod
    def sealed_secret(self, tenant: str) -> tuple[str, str] | None:
        """The tenant's sealed contact secret (scheme, blob), if it has one."""

    @abstractmethod
    def add_sealed_secret(self, tenant: str, scheme: str, blob: str) -> None:
        """Store it unless the tenant has one already (then the stored one stays)."""

    @abstractmethod
    def links(self, tenant: str, contact_key: str) -> list[ContactLink]:
        """The subjects of a contact, oldest link first."""


def contact_tables(recorder: object) -> ContactTables:
    events = getattr(recorder, "events_table_name", "")
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresContacts(recorder.datastore, events + SECRETS_SUFFIX, events + LINKS_SUFFIX)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteContacts(recorder.datastore, events + SECRETS_SUFFIX, events + LINKS_SUFFIX)
    raise TypeError(f"no contact tables for {type(recorder).__name__}")


def _link(row: Any) -> ContactLink:
    return ContactLink(
        tenant=row["tenant"],
        contact_key=row["contact_key"],
        subject_id=UUID(str(row["subject_id"])),
        channel=row["channel"],
    )


class PostgresContacts(PostgresSideTable, ContactTables):
    COLUMNS_SQL = (
        "tenant text PRIMARY KEY, scheme text NOT NULL, secret text NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now()"
    )
    REFUSED = APPEND_ONLY  # a tenant's secret never changes: the index depends on it

    def __init__(self, datastore: PostgresDatastore, table: str, links_table: str) -> None:
        super().__init__(datastore, table)
        self.links_table = links_table

    def sealed_secret(self, tenant: str) -> tuple[str, str] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._q("SELECT scheme, secret FROM {table} WHERE tenant = %s"), (tenant,))
            row = curs.fetchone()
        return None if row is None else (row["scheme"], row["secret"])

    def add_sealed_secret(self, tenant: str, scheme: str, blob: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q(
                    "INSERT INTO {table} (tenant, scheme, secret) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING"
                ),
                (tenant, scheme, blob),
            )

    def links(self, tenant: str, contact_key: str) -> list[ContactLink]:
        statement = SQL(
            "SELECT tenant, contact_key, subject_id, channel FROM {links} "
            "WHERE tenant = %s AND contact_key = %s ORDER BY created_at, subject_id"
        ).format(links=Identifier(self.datastore.schema, self.links_table))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (tenant, contact_key))
            return [_link(row) for row in curs.fetchall()]


class SQLiteContacts(ContactTables):
    def __init__(self, datastore: SQLiteDatastore, table: str, links_table: str) -> None:
        self.datastore = datastore
        self.table = table
        self.links_table = links_table
        with datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (tenant TEXT PRIMARY KEY, "
                "scheme TEXT NOT NULL, secret TEXT NOT NULL, "
                "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )
            for statement in refuse_in_sqlite(table, SQLITE_APPEND_ONLY):
                c.execute(statement)

    def sealed_secret(self, tenant: str) -> tuple[str, str] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT scheme, secret FROM {self.table} WHERE tenant = ?", (tenant,))
            row = c.fetchone()
        return None if row is None else (row["scheme"], row["secret"])

    def add_sealed_secret(self, tenant: str, scheme: str, blob: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.table} (tenant, scheme, secret) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (tenant, scheme, blob),
            )

    def links(self, tenant: str, contact_key: str) -> list[ContactLink]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT tenant, contact_key, subject_id, channel FROM {self.links_table} "
                "WHERE tenant = ? AND contact_key = ? ORDER BY created_at, subject_id",
                (tenant, contact_key),
            )
            return [_link(row) for row in c.fetchall()]
