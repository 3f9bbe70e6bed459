"""The ``pending_requests`` read model: opt-in requests still waiting for an answer.

One row per subject with a pending request, indexed by ``expires_at`` so the expiry
process finds the requests that are due with an index range scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from projections.database import Cursor
from projections.read_model import BatchChanges, Index, ReadModel
from projections.subject_projection import SubjectProjection


@dataclass(frozen=True)
class PendingRow:
    subject_id: UUID
    tenant: str
    channel: str
    address: str | None
    request_id: UUID
    purposes: tuple[str, ...]
    requested_at: datetime
    expires_at: datetime


class PendingRequestsModel(ReadModel):
    name = "pending_requests"

    @property
    def tables(self) -> tuple[str, ...]:
        return ("pending_requests",)

    def create_statements(self) -> list[str]:
        db = self.db
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t('pending_requests')} ("
            f"subject_id {db.uuid_type} NOT NULL, tenant TEXT NOT NULL, channel TEXT NOT NULL, "
            f"address TEXT, request_id {db.uuid_type} NOT NULL, purposes TEXT NOT NULL, "
            f"requested_at {db.time_type} NOT NULL, expires_at {db.time_type} NOT NULL, "
            f"position {db.int_type} NOT NULL, "
            f"CONSTRAINT pending_requests{self.suffix}_pkey PRIMARY KEY (subject_id))"
        ]

    def indexes(self) -> list[Index]:
        return [Index("pending_requests_due", "pending_requests", "expires_at")]

    def write(self, cursor: Cursor, changes: BatchChanges) -> None:
        db, table = self.db, self.t("pending_requests")
        cursor.delete_where_in(
            f"DELETE FROM {table} WHERE subject_id",
            "uuid",
            [db.uuid(sid) for sid in changes.subjects],
        )
        cursor.insert_rows(
            f"INSERT INTO {table} (subject_id, tenant, channel, address, request_id, purposes, "
            "requested_at, expires_at, position)",
            (
                "uuid",
                "text",
                "text",
                "text",
                "uuid",
                "text",
                "timestamptz",
                "timestamptz",
                "bigint",
            ),
            [
                (
                    db.uuid(sid),
                    now.state.tenant,
                    now.state.channel,
                    now.address,
                    db.uuid(pending.request_id),
                    ",".join(pending.purposes),
                    db.time(pending.requested_at),
                    db.time(pending.expires_at),
                    now.position,
                )
                for sid, now in changes.subjects.items()
                if (pending := now.state.pending) is not None
            ],
        )

    def due(self, cursor: Cursor, now: datetime, limit: int) -> list[PendingRow]:
        """Pending requests whose window ended at or before ``now``, oldest first."""
        db = self.db
        rows = cursor.execute(
            f"SELECT * FROM {self.t('pending_requests')} WHERE expires_at <= ? "
            "ORDER BY expires_at, subject_id LIMIT ?",
            (db.time(now), limit),
        ).fetchall()
        return [
            PendingRow(
                subject_id=db.uuid_of(r["subject_id"]),
                tenant=r["tenant"],
                channel=r["channel"],
                address=r["address"],
                request_id=db.uuid_of(r["request_id"]),
                purposes=tuple(p for p in r["purposes"].split(",") if p),
                requested_at=db.time_of(r["requested_at"]),
                expires_at=db.time_of(r["expires_at"]),
            )
            for r in rows
        ]


class PendingRequestsProjection(SubjectProjection):
    model: PendingRequestsModel

    def due(self, now: datetime, limit: int = 1000) -> list[PendingRow]:
        with self.db.read() as cursor:
            return self.model.due(cursor, now, limit)
