"""Gateway opt-outs counted per tenant and ten-second bucket, beside the events table.

Every process of a deployment (``serve --workers N``, ``reconcile``) counts into the same
rows, so a tenant's burst guard sees one spike, not one per process. A bucket is the
Unix time divided by ``BUCKET_SECONDS``; a window's count is the sum of its buckets
(precise to one bucket). Rows older than the longest window a guard may have are
deleted as new ones are written, so the table stays small.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.domain.tenants.burst_guard import MAX_WINDOW_SECONDS
from ledger.persistence.postgres_ddl import PostgresSideTable

SUFFIX = "_opt_out_counts"
BUCKET_SECONDS = 10
KEEP_BUCKETS = MAX_WINDOW_SECONDS // BUCKET_SECONDS + 1


def bucket_of(unix_time: float) -> int:
    return int(unix_time // BUCKET_SECONDS)


class OptOutCounts(ABC):
    @abstractmethod
    def add(self, tenant: str, bucket: int) -> None:
        """Count one opt-out of ``tenant`` in ``bucket`` (and forget buckets too old)."""

    @abstractmethod
    def since(self, tenant: str, first_bucket: int) -> int:
        """How many opt-outs ``tenant`` had from ``first_bucket`` on."""


def opt_out_counts(recorder: object) -> OptOutCounts:
    table = getattr(recorder, "events_table_name", "") + SUFFIX
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresOptOutCounts(recorder.datastore, table)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return SQLiteOptOutCounts(recorder.datastore, table)
    raise TypeError(f"no opt-out counts table for {type(recorder).__name__}")


class PostgresOptOutCounts(PostgresSideTable, OptOutCounts):
    COLUMNS_SQL = "tenant text NOT NULL, bucket bigint NOT NULL, count bigint NOT NULL, " + (
        "PRIMARY KEY (tenant, bucket)"
    )

    def add(self, tenant: str, bucket: int) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q(
                    "INSERT INTO {table} (tenant, bucket, count) VALUES (%s, %s, 1) "
                    "ON CONFLICT (tenant, bucket) DO UPDATE SET count = {table}.count + 1"
                ),
                (tenant, bucket),
            )
            curs.execute(
                self._q("DELETE FROM {table} WHERE tenant = %s AND bucket < %s"),
                (tenant, bucket - KEEP_BUCKETS),
            )

    def since(self, tenant: str, first_bucket: int) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._q(
                    "SELECT coalesce(sum(count), 0) AS n FROM {table} "
                    "WHERE tenant = %s AND bucket >= %s"
                ),
                (tenant, first_bucket),
            )
            row = curs.fetchone()
            return int(row["n"]) if row else 0


class SQLiteOptOutCounts(OptOutCounts):
    def __init__(self, datastore: SQLiteDatastore, table: str) -> None:
        self.datastore = datastore
        self.table = table
        with datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (tenant TEXT NOT NULL, "
                "bucket INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (tenant, bucket))"
            )

    def add(self, tenant: str, bucket: int) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.table} (tenant, bucket, count) VALUES (?, ?, 1) "
                f"ON CONFLICT (tenant, bucket) DO UPDATE SET count = {self.table}.count + 1",
                (tenant, bucket),
            )
            c.execute(
                f"DELETE FROM {self.table} WHERE tenant = ? AND bucket < ?",
                (tenant, bucket - KEEP_BUCKETS),
            )

    def since(self, tenant: str, first_bucket: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT coalesce(sum(count), 0) AS n FROM {self.table} "
                "WHERE tenant = ? AND bucket >= ?",
                (tenant, first_bucket),
            )
            row = c.fetchone()
            return int(row["n"]) if row else 0
