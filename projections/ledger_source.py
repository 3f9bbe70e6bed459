"""The ledger as the projections read it: the source of truth they repair from.

Kafka is only a fast path: when a subject's versions show a gap, or the reconciliation
finds a projection behind the ledger, the missing events are read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.application.core import LedgerCore
from ledger.runtime.notification_log import NotificationLog
from projections.database import Cursor


@dataclass(frozen=True)
class Positioned:
    """A domain event and its ledger position (its notification id)."""

    event: Any
    position: int


class LedgerSource:
    def __init__(self, ledger: LedgerCore) -> None:
        self.ledger = ledger
        self.log = NotificationLog(ledger.recorder)

    @property
    def datastore(self) -> object:
        return getattr(self.ledger.recorder, "datastore", None)

    def events_between(self, subject_id: UUID, after: int, before: int) -> list[Positioned]:
        """The subject's events with versions in (after, before), with their positions."""
        return [
            Positioned(self.ledger.ledger_event(item.stored), item.position)
            for item in self.ledger.store.select_positioned(subject_id)
            if after < item.stored.originator_version < before
        ]

    def decode(self, notifications: Sequence[Any]) -> list[Positioned]:
        mapper = self.ledger.mapper
        return [Positioned(mapper.to_domain_event(n), n.id) for n in notifications]

    def last_position(self) -> int:
        return self.log.last_position()

    def data_keys(self, subject_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        return self.ledger.store.data_keys(subject_ids)

    def data_keys_in(self, cursor: Cursor, subject_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        """``data_keys`` read in the caller's transaction on PostgreSQL, where the read
        models live in the ledger's database: no second pooled connection (taken,
        checked, read: two round trips) for every batch a projection applies. Elsewhere
        (SQLite) as ``data_keys``."""
        recorder = self.ledger.recorder
        table = getattr(recorder, "keys_table", None)
        if not cursor.db.postgres or table is None or self.datastore is not cursor.db.datastore:
            return self.data_keys(subject_ids)
        where, params = cursor.db.in_list("subject_id", "uuid", list(subject_ids))
        rows = cursor.execute(
            f"SELECT subject_id, data_key FROM {cursor.db.table(table)} WHERE {where}", params
        ).fetchall()
        return {cursor.db.uuid_of(row["subject_id"]): bytes(row["data_key"]) for row in rows}
