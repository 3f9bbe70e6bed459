"""The ``consent_status`` tables: one row per (subject, purpose) with its effective status.

"Every opted-in subject for tenant/channel/purpose" is an index scan of
``consent_status_audience`` (tenant, channel, purpose, status, subject_id).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from projections.consent_status.rows import StatusRow, rows_of
from projections.consent_status.sender_rows import sender_rows_of
from projections.database import Cursor
from projections.read_model import BatchChanges, Index, ReadModel

SENDERS = "consent_sender_opt_outs"
COLUMN_TYPES = (
    "uuid", "text", "text", "text", "text", "text", "timestamptz", "uuid", "text", "text",
    "bigint", "bigint",
)  # fmt: skip


class ConsentStatusModel(ReadModel):
    name = "consent_status"

    @property
    def tables(self) -> tuple[str, ...]:
        return ("consent_status", SENDERS)

    def create_statements(self) -> list[str]:
        db = self.db
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t('consent_status')} ("
            f"subject_id {db.uuid_type} NOT NULL, purpose TEXT NOT NULL, tenant TEXT NOT NULL, "
            "channel TEXT NOT NULL, address TEXT, status TEXT NOT NULL, "
            f"since {db.time_type} NOT NULL, event_id {db.uuid_type} NOT NULL, method TEXT, "
            f"keyword TEXT, version {db.int_type} NOT NULL, position {db.int_type} NOT NULL, "
            f"CONSTRAINT consent_status{self.suffix}_pkey PRIMARY KEY (subject_id, purpose))",
            # Opt-outs scoped to one sender that stand (sender_rows.py).
            f"CREATE TABLE IF NOT EXISTS {self.t(SENDERS)} ("
            f"subject_id {db.uuid_type} NOT NULL, sender TEXT NOT NULL, purpose TEXT NOT NULL, "
            "tenant TEXT NOT NULL, channel TEXT NOT NULL, "
            f"since {db.time_type} NOT NULL, event_id {db.uuid_type} NOT NULL, "
            f"CONSTRAINT {SENDERS}{self.suffix}_pkey PRIMARY KEY (subject_id, sender, purpose))",
        ]

    def indexes(self) -> list[Index]:
        return [
            Index(
                "consent_status_audience",
                "consent_status",
                "tenant, channel, purpose, status, subject_id",
            ),
            # Suppression lists: everyone opted out on a channel, whatever the purpose.
            Index(
                "consent_status_suppressions",
                "consent_status",
                "tenant, channel, status, subject_id, purpose",
            ),
            # Suppression lists of opt-outs scoped to a sender.
            Index("consent_sender_opt_outs_list", SENDERS, "tenant, channel, subject_id, purpose"),
        ]

    def write(self, cursor: Cursor, changes: BatchChanges) -> None:
        db, table = self.db, self.t("consent_status")
        ids = [db.uuid(sid) for sid in changes.subjects]
        cursor.delete_where_in(f"DELETE FROM {table} WHERE subject_id", "uuid", ids)
        rows = [
            row
            for now in changes.subjects.values()
            for row in rows_of(now.state, address=now.address, position=now.position)
        ]
        cursor.insert_rows(
            f"INSERT INTO {table} (subject_id, purpose, tenant, channel, address, status, since, "
            "event_id, method, keyword, version, position)",
            COLUMN_TYPES,
            [
                (
                    db.uuid(r.subject_id),
                    r.purpose,
                    r.tenant,
                    r.channel,
                    r.address,
                    r.status,
                    db.time(r.since),
                    db.uuid(r.event_id),
                    r.method,
                    r.keyword,
                    r.version,
                    r.position,
                )
                for r in rows
            ],
        )
        self.write_senders(cursor, changes)

    def write_senders(self, cursor: Cursor, changes: BatchChanges) -> None:
        db, table = self.db, self.t(SENDERS)
        ids = [db.uuid(sid) for sid in changes.subjects]
        cursor.delete_where_in(f"DELETE FROM {table} WHERE subject_id", "uuid", ids)
        rows = [row for now in changes.subjects.values() for row in sender_rows_of(now.state)]
        cursor.insert_rows(
            f"INSERT INTO {table} (subject_id, sender, purpose, tenant, channel, since, event_id)",
            ("uuid", "text", "text", "text", "text", "timestamptz", "uuid"),
            [
                (
                    db.uuid(r.subject_id),
                    r.sender,
                    r.purpose,
                    r.tenant,
                    r.channel,
                    db.time(r.since),
                    db.uuid(r.event_id),
                )
                for r in rows
            ],
        )

    def rows(self, cursor: Cursor, subject_id: UUID) -> list[StatusRow]:
        found = cursor.execute(
            f"SELECT * FROM {self.t('consent_status')} WHERE subject_id = ? ORDER BY purpose",
            (self.db.uuid(subject_id),),
        ).fetchall()
        return [self._row(r) for r in found]

    def _row(self, row: Any) -> StatusRow:
        db = self.db
        return StatusRow(
            subject_id=db.uuid_of(row["subject_id"]),
            tenant=row["tenant"],
            channel=row["channel"],
            address=row["address"],
            purpose=row["purpose"],
            status=row["status"],
            since=db.time_of(row["since"]),
            event_id=db.uuid_of(row["event_id"]),
            method=row["method"],
            keyword=row["keyword"],
            version=int(row["version"]),
            position=int(row["position"]),
        )
