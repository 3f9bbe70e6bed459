"""The subject lists of campaign receipts, beside the ledger's events table on both backends.

A receipt event holds the Merkle root of its list, not the list (a list can hold 100,000
subjects, and events are published and sealed). The list is kept here, one row per
subject id in leaf order, so proofs can be answered later: which receipts included a
subject (an index on tenant and subject id), and a receipt's whole list to rebuild its
tree. Rows are written *before* the event that names them, as gateway secrets are: a
write that fails half-way leaves at most a list no receipt names, which nothing reads.
The table is append-only in the database (triggers refuse UPDATE, DELETE, TRUNCATE).
Subject ids only: never an address.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.persistence.postgres_ddl import APPEND_ONLY, PostgresSideTable, create_table_once
from ledger.persistence.sqlite_triggers import APPEND_ONLY as SQLITE_APPEND_ONLY
from ledger.persistence.sqlite_triggers import refuse_in_sqlite

SUFFIX = "_campaign_receipt_lists"


class ReceiptListTable(ABC):
    @abstractmethod
    def insert(self, tenant: str, receipt_id: UUID, subject_ids: Sequence[UUID]) -> None:
        """Store a receipt's list, in leaf order."""

    @abstractmethod
    def members(self, receipt_id: UUID) -> list[UUID]:
        """A receipt's list in leaf order."""

    @abstractmethod
    def including(self, tenant: str, subject_id: UUID) -> dict[UUID, int]:
        """Receipt id -> the subject's index in its list, for every list that holds it."""


def receipt_list_table(recorder: object) -> ReceiptListTable:
    table = getattr(recorder, "events_table_name", "") + SUFFIX
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresReceiptLists(recorder.datastore, table)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteReceiptLists(recorder.datastore, table)
    raise TypeError(f"no campaign receipt lists for {type(recorder).__name__}")


class PostgresReceiptLists(PostgresSideTable, ReceiptListTable):
    COLUMNS_SQL = (
        "receipt_id uuid NOT NULL, idx integer NOT NULL, tenant text NOT NULL, "
        "subject_id uuid NOT NULL, PRIMARY KEY (receipt_id, idx)"
    )
    REFUSED = APPEND_ONLY  # a receipt's list never changes

    def __init__(self, datastore: object, table: str) -> None:
        super().__init__(datastore, table)  # type: ignore[arg-type]
        if self.owned_elsewhere:
            return  # the owner role made the index too
        create_table_once(
            self.datastore,
            self._q(
                "CREATE INDEX IF NOT EXISTS " + self.table + "_subject "
                "ON {table} (tenant, subject_id)"
            ),
        )

    def insert(self, tenant: str, receipt_id: UUID, subject_ids: Sequence[UUID]) -> None:
        with (
            self.datastore.transaction(commit=True) as curs,
            curs.copy(
                self._q("COPY {table} (receipt_id, idx, tenant, subject_id) FROM STDIN")
            ) as copy,
        ):
            for index, sid in enumerate(subject_ids):
                copy.write_row((receipt_id, index, tenant, sid))

    def members(self, receipt_id: UUID) -> list[UUID]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._q("SELECT subject_id FROM {table} WHERE receipt_id = %s ORDER BY idx"),
                (receipt_id,),
            )
            return [row["subject_id"] for row in curs.fetchall()]

    def including(self, tenant: str, subject_id: UUID) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._q(
                    "SELECT receipt_id, idx FROM {table} WHERE tenant = %s AND subject_id = %s"
                ),
                (tenant, subject_id),
            )
            return {row["receipt_id"]: row["idx"] for row in curs.fetchall()}


class SQLiteReceiptLists(ReceiptListTable):
    def __init__(self, datastore: SQLiteDatastore, table: str) -> None:
        self.datastore = datastore
        self.table = table
        with datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (receipt_id TEXT NOT NULL, "
                "idx INTEGER NOT NULL, tenant TEXT NOT NULL, subject_id TEXT NOT NULL, "
                "PRIMARY KEY (receipt_id, idx))"
            )
            c.execute(f"CREATE INDEX IF NOT EXISTS {table}_subject ON {table} (tenant, subject_id)")
            for statement in refuse_in_sqlite(table, SQLITE_APPEND_ONLY):
                c.execute(statement)

    def insert(self, tenant: str, receipt_id: UUID, subject_ids: Sequence[UUID]) -> None:
        rid = str(receipt_id)
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                f"INSERT INTO {self.table} (receipt_id, idx, tenant, subject_id) "
                "VALUES (?, ?, ?, ?)",
                [(rid, index, tenant, str(sid)) for index, sid in enumerate(subject_ids)],
            )

    def members(self, receipt_id: UUID) -> list[UUID]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT subject_id FROM {self.table} WHERE receipt_id = ? ORDER BY idx",
                (str(receipt_id),),
            )
            return [UUID(row["subject_id"]) for row in c.fetchall()]

    def including(self, tenant: str, subject_id: UUID) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT receipt_id, idx FROM {self.table} WHERE tenant = ? AND subject_id = ?",
                (tenant, str(subject_id)),
            )
            return {UUID(row["receipt_id"]): row["idx"] for row in c.fetchall()}
