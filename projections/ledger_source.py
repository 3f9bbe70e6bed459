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
