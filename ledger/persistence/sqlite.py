"""SQLite recorder extension: append-only events, receipts, data keys, positions,
and a polling subscription so the library's projection runner can follow the log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent, Subscription
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.domain.outbound.outbox import OutboxMessage
from ledger.domain.receipts import Receipt
from ledger.persistence.sqlite_subscription import SQLitePollingSubscription, signal_commit
from ledger.persistence.sqlite_triggers import APPEND_ONLY, KEEP_DELETE, refuse_in_sqlite
from ledger.persistence.store import (
    GroupRead,
    GroupReads,
    LedgerStore,
    PositionedEvent,
    RowsBeside,
    rows_beside,
)


class LedgerSQLiteRecorder(SQLiteApplicationRecorder, LedgerStore):
    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.receipts_table = f"{events_table_name}_receipts"
        self.keys_table = f"{events_table_name}_subject_keys"
        self.outbox_table = f"{events_table_name}_outbox"
        self.contacts_table = f"{events_table_name}_contacts"
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        events, receipts, keys = self.events_table_name, self.receipts_table, self.keys_table
        statements = super().construct_create_table_statements()
        statements += [
            f"CREATE TABLE IF NOT EXISTS {receipts} (tenant TEXT NOT NULL, "
            "source_kind TEXT NOT NULL, source_id TEXT NOT NULL, subject_id TEXT NOT NULL, "
            "event_id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, "
            "PRIMARY KEY (tenant, source_kind, source_id))",
            f"CREATE TABLE IF NOT EXISTS {keys} (subject_id TEXT PRIMARY KEY, "
            "data_key BLOB NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
            f"CREATE TABLE IF NOT EXISTS {self.outbox_table} ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "tenant TEXT NOT NULL, channel TEXT NOT NULL, subject_id TEXT NOT NULL, "
            "event_id TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL, "
            "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, version INTEGER)",
            # The keyed index of contacts (ledger/domain/contacts.py); erasure deletes rows.
            f"CREATE TABLE IF NOT EXISTS {self.contacts_table} (tenant TEXT NOT NULL, "
            "contact_key TEXT NOT NULL, subject_id TEXT NOT NULL, channel TEXT NOT NULL, "
            "created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, "
            "PRIMARY KEY (tenant, contact_key, subject_id))",
        ]
        for table in (events, receipts):
            statements += refuse_in_sqlite(table, APPEND_ONLY)
        # Erasure deletes a subject's data key, its unsent outbox rows and its contact link.
        for table in (keys, self.outbox_table, self.contacts_table):
            statements += refuse_in_sqlite(table, KEEP_DELETE)
        return statements

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        # Outboxes made before rows carried their event's version get the column; their
        # rows keep NULL (a sender finds those events as it did before).
        c.execute(f"PRAGMA table_info({self.outbox_table})")
        if "version" not in {row["name"] for row in c.fetchall()}:
            c.execute(f"ALTER TABLE {self.outbox_table} ADD COLUMN version INTEGER")

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        signal_commit(self.datastore.pool.db_name)
        return ids

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        beside = rows_beside(kwargs)
        new_keys, receipts = beside.new_keys, beside.receipts
        erase_keys, outbox = beside.erase_keys, beside.outbox
        if erase_keys:
            erased = [(s.hex,) for s in erase_keys]
            c.executemany(f"DELETE FROM {self.keys_table} WHERE subject_id = ?", erased)
            # Messages not yet sent to an erased subject go too (a help reply holds the
            # address in clear).
            c.executemany(f"DELETE FROM {self.outbox_table} WHERE subject_id = ?", erased)
            # The contact index forgets erased subjects.
            c.executemany(f"DELETE FROM {self.contacts_table} WHERE subject_id = ?", erased)
        if beside.contact_links:
            c.executemany(
                f"INSERT INTO {self.contacts_table} (tenant, contact_key, subject_id, channel) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (k.tenant, k.contact_key, k.subject_id.hex, k.channel)
                    for k in beside.contact_links
                ],
            )
        if outbox:
            c.executemany(
                f"INSERT INTO {self.outbox_table} (tenant, channel, subject_id, event_id, kind, "
                "payload, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        m.tenant,
                        m.channel,
                        m.subject_id.hex,
                        m.event_id.hex,
                        m.kind,
                        m.payload,
                        m.version,
                    )
                    for m in outbox
                ],
            )
        if new_keys:
            c.executemany(
                f"INSERT INTO {self.keys_table} (subject_id, data_key) VALUES (?, ?)",
                [(sid.hex, key) for sid, key in new_keys.items()],
            )
        if receipts:
            c.executemany(
                f"INSERT INTO {self.receipts_table} VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.tenant,
                        r.source_kind,
                        r.source_id,
                        r.subject_id.hex,
                        r.event_id.hex,
                        r.version,
                        r.type,
                    )
                    for r in receipts
                ],
            )
        return super()._insert_events(c, stored_events, **kwargs)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return SQLitePollingSubscription(self, self.datastore.pool.db_name, gt=gt, topics=topics)

    def receipts(
        self, tenant: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Receipt]:
        found: dict[tuple[str, str], Receipt] = {}
        with self.datastore.transaction(commit=False) as c:
            for kind, source_id in dict.fromkeys(keys):
                c.execute(
                    f"SELECT * FROM {self.receipts_table} "
                    "WHERE tenant = ? AND source_kind = ? AND source_id = ?",
                    (tenant, kind, source_id),
                )
                row = c.fetchone()
                if row is not None:
                    receipt = Receipt(
                        tenant=row["tenant"],
                        source_kind=row["source_kind"],
                        source_id=row["source_id"],
                        subject_id=UUID(row["subject_id"]),
                        event_id=UUID(row["event_id"]),
                        version=row["version"],
                        type=row["type"],
                    )
                    found[receipt.key] = receipt
        return found

    def data_keys(self, subject_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        result: dict[UUID, bytes] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(list(subject_ids)):
                c.execute(
                    f"SELECT subject_id, data_key FROM {self.keys_table} "
                    f"WHERE subject_id IN ({','.join('?' * len(chunk))})",
                    [sid.hex for sid in chunk],
                )
                result.update({UUID(r["subject_id"]): bytes(r["data_key"]) for r in c.fetchall()})
        return result

    def select_subjects(self, subject_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        result: dict[UUID, list[StoredEvent]] = {sid: [] for sid in subject_ids}
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(list(subject_ids)):
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY originator_id, originator_version",
                    [sid.hex for sid in chunk],
                )
                for row in c.fetchall():
                    stored = self._stored(row)
                    result[UUID(row["originator_id"])].append(stored)
        return result

    def select_positioned(
        self, subject_id: UUID, *, lte_position: int | None = None
    ) -> list[PositionedEvent]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, * FROM {self.events_table_name} WHERE originator_id = ? "
                "AND (? IS NULL OR rowid <= ?) ORDER BY originator_version",
                (subject_id.hex, lte_position, lte_position),
            )
            return [PositionedEvent(self._stored(row), row["rowid"]) for row in c.fetchall()]

    def select_outbox(
        self, *, after: int, limit: int, tenant: str | None = None
    ) -> list[OutboxMessage]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {self.outbox_table} WHERE id > ? AND (? IS NULL OR tenant = ?) "
                "ORDER BY id LIMIT ?",
                (after, tenant, tenant, limit),
            )
            return [
                OutboxMessage(
                    id=row["id"],
                    tenant=row["tenant"],
                    channel=row["channel"],
                    subject_id=UUID(row["subject_id"]),
                    event_id=UUID(row["event_id"]),
                    kind=row["kind"],
                    payload=row["payload"],
                    version=row["version"],
                )
                for row in c.fetchall()
            ]

    def select_events_at(
        self, keys: Sequence[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], StoredEvent]:
        rows = self._events_at(keys, "originator_id, originator_version, topic, state")
        return {key: self._stored(row) for key, row in rows.items()}

    def positions(self, keys: Sequence[tuple[UUID, int]]) -> dict[tuple[UUID, int], int]:
        return {key: row["rowid"] for key, row in self._events_at(keys, "rowid").items()}

    def _events_at(
        self, keys: Sequence[tuple[UUID, int]], columns: str
    ) -> dict[tuple[UUID, int], Any]:
        """``columns`` of the events at these (subject id, version) keys, by key."""
        found: dict[tuple[UUID, int], Any] = {}
        with self.datastore.transaction(commit=False) as c:
            for sid, version in keys:
                c.execute(
                    f"SELECT {columns} FROM {self.events_table_name} "
                    "WHERE originator_id = ? AND originator_version = ?",
                    (sid.hex, version),
                )
                row = c.fetchone()
                if row is not None:
                    found[(sid, version)] = row
        return found

    # SQLite has no asynchronous driver: the writer's calls run on worker threads.
    async def read_group_async(self, request: GroupRead) -> GroupReads:
        return await asyncio.to_thread(self._read_group, request)

    async def select_subjects_async(
        self, subject_ids: Sequence[UUID]
    ) -> dict[UUID, list[StoredEvent]]:
        return await asyncio.to_thread(self.select_subjects, subject_ids)

    async def commit_group_async(
        self, events: Sequence[StoredEvent], beside: RowsBeside
    ) -> list[int]:
        return await asyncio.to_thread(self._commit_group, events, beside)

    async def announce_async(self) -> None:
        signal_commit(self.datastore.pool.db_name)

    async def close_async(self) -> None:
        """Nothing: the calls ran on the library's own connections."""

    def _read_group(self, request: GroupRead) -> GroupReads:
        # SQLite is in-process: "one round trip" is one read transaction.
        receipts = {
            tenant: self.receipts(tenant, keys) for tenant, keys in request.receipts.items()
        }
        found = [r for by_key in receipts.values() for r in by_key.values()]
        positions = self.positions([(r.subject_id, r.version) for r in found])
        for by_key in receipts.values():
            for key, receipt in by_key.items():
                by_key[key] = replace(
                    receipt, position=positions.get((receipt.subject_id, receipt.version))
                )
        events: dict[UUID, list[StoredEvent]] = {sid: [] for sid in request.subjects}
        with self.datastore.transaction(commit=False) as c:
            for sid, known in request.subjects.items():
                c.execute(
                    f"SELECT originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} WHERE originator_id = ? "
                    "AND originator_version > ? ORDER BY originator_version",
                    (sid.hex, known),
                )
                events[sid] = [self._stored(row) for row in c.fetchall()]
        return GroupReads(receipts, events, self.data_keys(list(request.subjects)))

    def _commit_group(self, events: Sequence[StoredEvent], beside: RowsBeside) -> list[int]:
        # The library's insert: SQLite's one writer orders commits, the ids follow them.
        ids = super().insert_events(events, beside=beside)
        return list(ids or [])

    def _stored(self, row: Any) -> StoredEvent:
        return StoredEvent(
            originator_id=self.convert_originator_id(row["originator_id"]),
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=row["state"],
        )


def _chunks(items: list[UUID], size: int = 500) -> list[list[UUID]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
