"""The gateway-secrets table, beside the ledger's events table on both backends.

Secrets never enter the events table (its rows are published and sealed into public
proofs). A row is written *before* the settings event that names it; only the row the
latest event names is in force, so a write that fails half-way leaves at most an unused
row, never a configuration the ledger does not show. A row is deleted once an event
that supersedes it is recorded; a row is never rewritten (the database's triggers refuse
UPDATE and TRUNCATE: a rewritten secret would change a configuration with no event).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.persistence.postgres_ddl import KEEP_DELETE, PostgresSideTable
from ledger.persistence.sqlite_triggers import refuse_in_sqlite

SUFFIX = "_gateway_secrets"
COLUMNS = "(tenant, gateway, secret_id, scheme, sealed, salt)"


@dataclass(frozen=True)
class StoredSecrets:
    tenant: str
    gateway: str
    secret_id: str
    scheme: str  # "plain" or "aes256gcm" (ledger/tenants/secret_box.py)
    sealed: str
    salt: bytes  # the fingerprints' HMAC salt

    def values(self) -> tuple[str, str, str, str, str, bytes]:
        return (self.tenant, self.gateway, self.secret_id, self.scheme, self.sealed, self.salt)


class GatewaySecretTable(ABC):
    @abstractmethod
    def insert(self, row: StoredSecrets) -> None: ...

    @abstractmethod
    def select(self, tenant: str, gateway: str, secret_id: str) -> StoredSecrets | None: ...

    @abstractmethod
    def delete(self, tenant: str, gateway: str, secret_id: str) -> None:
        """Forget the secrets of a configuration a later one superseded."""


def gateway_secret_table(recorder: object) -> GatewaySecretTable:
    table = getattr(recorder, "events_table_name", "") + SUFFIX
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresGatewaySecrets(recorder.datastore, table)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteGatewaySecrets(recorder.datastore, table)
    raise TypeError(f"no gateway-secrets table for {type(recorder).__name__}")


def _row(row: Any) -> StoredSecrets:
    return StoredSecrets(
        tenant=row["tenant"],
        gateway=row["gateway"],
        secret_id=row["secret_id"],
        scheme=row["scheme"],
        sealed=row["sealed"],
        salt=bytes(row["salt"]),
    )


class PostgresGatewaySecrets(PostgresSideTable, GatewaySecretTable):
    COLUMNS_SQL = (
        "tenant text NOT NULL, "
        "gateway text NOT NULL, secret_id text NOT NULL, scheme text NOT NULL, "
        "sealed text NOT NULL, salt bytea NOT NULL, "
        "PRIMARY KEY (tenant, gateway, secret_id)"
    )
    REFUSED = KEEP_DELETE

    def insert(self, row: StoredSecrets) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q("INSERT INTO {table} " + COLUMNS + " VALUES (%s, %s, %s, %s, %s, %s)"),
                row.values(),
            )

    def select(self, tenant: str, gateway: str, secret_id: str) -> StoredSecrets | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._q(
                    "SELECT * FROM {table} WHERE tenant = %s AND gateway = %s AND secret_id = %s"
                ),
                (tenant, gateway, secret_id),
            )
            found = curs.fetchone()
        return _row(found) if found is not None else None

    def delete(self, tenant: str, gateway: str, secret_id: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q(
                    "DELETE FROM {table} WHERE tenant = %s AND gateway = %s AND secret_id = %s"
                ),
                (tenant, gateway, secret_id),
            )


class SQLiteGatewaySecrets(GatewaySecretTable):
    def __init__(self, datastore: SQLiteDatastore, table: str) -> None:
        self.datastore = datastore
        self.table = table
        with datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (tenant TEXT NOT NULL, "
                "gateway TEXT NOT NULL, secret_id TEXT NOT NULL, scheme TEXT NOT NULL, "
                "sealed TEXT NOT NULL, salt BLOB NOT NULL, "
                "PRIMARY KEY (tenant, gateway, secret_id))"
            )
            for statement in refuse_in_sqlite(table, ("UPDATE",)):
                c.execute(statement)

    def insert(self, row: StoredSecrets) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"INSERT INTO {self.table} {COLUMNS} VALUES (?, ?, ?, ?, ?, ?)", row.values())

    def select(self, tenant: str, gateway: str, secret_id: str) -> StoredSecrets | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.table} WHERE tenant = ? AND gateway = ? AND secret_id = ?",
                (tenant, gateway, secret_id),
            )
            found = c.fetchone()
        return _row(found) if found is not None else None

    def delete(self, tenant: str, gateway: str, secret_id: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"DELETE FROM {self.table} WHERE tenant = ? AND gateway = ? AND secret_id = ?",
                (tenant, gateway, secret_id),
            )
