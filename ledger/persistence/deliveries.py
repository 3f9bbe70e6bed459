"""Delivery evidence of opt-in requests: sent, delivered and read, as the gateway reported.

Kept beside the events table on both backends, one row per (request event, status): a
redelivered status is a no-op, and no row is ever changed or removed (the database's
triggers refuse it). A request that could not reach the person (the gateway's "not on
WhatsApp") is a ``failed`` row with the gateway's error code and the channel to try
instead. It is evidence *on* the request (the person was shown the question, or could
not be), not a change of consent, so it is not an event of the subject's chain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from ledger.domain.times import format_time, parse_time
from ledger.persistence.postgres_ddl import APPEND_ONLY, PostgresSideTable
from ledger.persistence.side_sql import SideSql
from ledger.persistence.sqlite_triggers import refuse_in_sqlite

SUFFIX = "_deliveries"
COLUMNS = (
    "(tenant, request_id, subject_id, event_id, status, gateway, gateway_message_id, "
    "occurred_at, recorded_at, error_code, fallback)"
)
# Columns added after the first release: tables made before lack them.
ERROR_COLUMNS = {"error_code": "text", "fallback": "text"}


@dataclass(frozen=True)
class Delivery:
    tenant: str
    request_id: UUID
    subject_id: UUID
    event_id: UUID  # the OptInRequested event
    status: str  # sent, delivered, read; failed (the request cannot reach the person)
    gateway: str
    gateway_message_id: str
    occurred_at: datetime
    recorded_at: datetime
    error_code: str | None = None  # the gateway's, for a failed request
    fallback: str | None = None  # the channel to try instead, for a failed request


class DeliveryTable(ABC):
    @abstractmethod
    def add(self, delivery: Delivery) -> bool:
        """Store it; False when this status of this request was stored already."""

    @abstractmethod
    def of_request(self, tenant: str, request_id: UUID) -> list[Delivery]: ...


def delivery_table(recorder: object) -> DeliveryTable:
    table = getattr(recorder, "events_table_name", "") + SUFFIX
    deliveries: DeliveryTable
    if isinstance(recorder, PostgresApplicationRecorder):
        deliveries = PostgresDeliveries(recorder.datastore, table)
    elif isinstance(recorder, SQLiteApplicationRecorder):
        deliveries = SQLiteDeliveries(recorder.datastore, table)
    else:
        raise TypeError(f"no deliveries table for {type(recorder).__name__}")
    sql = SideSql(recorder)
    sql.add_columns(sql.table(SUFFIX), ERROR_COLUMNS)  # a table of an earlier release
    return deliveries


def _delivery(row: Any) -> Delivery:
    def moment(value: Any) -> datetime:
        return value if isinstance(value, datetime) else parse_time(value)

    return Delivery(
        tenant=row["tenant"],
        request_id=UUID(str(row["request_id"])),
        subject_id=UUID(str(row["subject_id"])),
        event_id=UUID(str(row["event_id"])),
        status=row["status"],
        gateway=row["gateway"],
        gateway_message_id=row["gateway_message_id"],
        occurred_at=moment(row["occurred_at"]),
        recorded_at=moment(row["recorded_at"]),
        error_code=row["error_code"],
        fallback=row["fallback"],
    )


class PostgresDeliveries(PostgresSideTable, DeliveryTable):
    COLUMNS_SQL = (
        "tenant text NOT NULL, "
        "request_id uuid NOT NULL, subject_id uuid NOT NULL, "
        "event_id uuid NOT NULL, status text NOT NULL, gateway text NOT NULL, "
        "gateway_message_id text NOT NULL, occurred_at timestamptz NOT NULL, "
        "recorded_at timestamptz NOT NULL, error_code text, fallback text, "
        "PRIMARY KEY (tenant, event_id, status)"
    )
    REFUSED = APPEND_ONLY

    def add(self, delivery: Delivery) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._q(
                    "INSERT INTO {table} " + COLUMNS + " VALUES (%s, %s, %s, %s, %s, %s, %s, "
                    "%s, %s, %s, %s) ON CONFLICT DO NOTHING"
                ),
                (
                    delivery.tenant,
                    delivery.request_id,
                    delivery.subject_id,
                    delivery.event_id,
                    delivery.status,
                    delivery.gateway,
                    delivery.gateway_message_id,
                    delivery.occurred_at,
                    delivery.recorded_at,
                    delivery.error_code,
                    delivery.fallback,
                ),
            )
            return curs.rowcount == 1

    def of_request(self, tenant: str, request_id: UUID) -> list[Delivery]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._q(
                    "SELECT * FROM {table} WHERE tenant = %s AND request_id = %s "
                    "ORDER BY occurred_at, status"
                ),
                (tenant, request_id),
            )
            return [_delivery(row) for row in curs.fetchall()]


class SQLiteDeliveries(DeliveryTable):
    def __init__(self, datastore: SQLiteDatastore, table: str) -> None:
        self.datastore = datastore
        self.table = table
        with datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (tenant TEXT NOT NULL, "
                "request_id TEXT NOT NULL, subject_id TEXT NOT NULL, event_id TEXT NOT NULL, "
                "status TEXT NOT NULL, gateway TEXT NOT NULL, gateway_message_id TEXT NOT NULL, "
                "occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, "
                "error_code TEXT, fallback TEXT, "
                "PRIMARY KEY (tenant, event_id, status))"
            )
            for statement in refuse_in_sqlite(table, ("UPDATE", "DELETE")):
                c.execute(statement)

    def add(self, delivery: Delivery) -> bool:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.table} {COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (
                    delivery.tenant,
                    str(delivery.request_id),
                    str(delivery.subject_id),
                    str(delivery.event_id),
                    delivery.status,
                    delivery.gateway,
                    delivery.gateway_message_id,
                    format_time(delivery.occurred_at),
                    format_time(delivery.recorded_at),
                    delivery.error_code,
                    delivery.fallback,
                ),
            )
            return bool(c.sqlite_cursor.rowcount == 1)

    def of_request(self, tenant: str, request_id: UUID) -> list[Delivery]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.table} WHERE tenant = ? AND request_id = ? "
                "ORDER BY occurred_at, status",
                (tenant, str(request_id)),
            )
            return [_delivery(row) for row in c.fetchall()]
