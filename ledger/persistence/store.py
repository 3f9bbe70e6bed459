"""What the ledger needs from its recorder beyond the library's own interface.

Both recorders (SQLite, PostgreSQL) extend the library's application recorder with:
source receipts (idempotency), per-subject data keys (crypto-shredding), bulk reads of
several subjects' events, and notification ids (ledger positions) of stored events.
Everything is written in the same transaction as the events, through keyword arguments
of ``Application.save``: ``receipts=`` (source receipts), ``new_keys=`` (data keys of new
subjects), ``erase_keys=`` (subject ids whose data keys are destroyed) and ``outbox=``
(messages for the gateways).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import StoredEvent


@dataclass(frozen=True)
class Receipt:
    """The first event recorded for a (tenant, source kind, source id)."""

    tenant: str
    source_kind: str
    source_id: str
    subject_id: UUID
    event_id: UUID
    version: int
    type: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_kind, self.source_id)


@dataclass(frozen=True)
class OutboxMessage:
    """A message a gateway must send, stored in the same transaction as its event.

    ``id`` is assigned by the database (0 before it is stored). ``payload`` is opaque to
    the store; whoever writes it decides its format (and seals any personal data in it).
    """

    tenant: str
    channel: str
    subject_id: UUID
    event_id: UUID
    kind: str
    payload: str
    id: int = 0


@dataclass(frozen=True)
class PositionedEvent:
    stored: StoredEvent
    position: int


class LedgerStore(ABC):
    """Mixed into both backends' application recorders."""

    @abstractmethod
    def receipts(
        self, tenant: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Receipt]:
        """The receipts already stored for these (source kind, source id) keys."""

    @abstractmethod
    def data_keys(self, subject_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        """The data keys of these subjects (absent: none yet, or erased)."""

    @abstractmethod
    def select_subjects(self, subject_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Every stored event of each subject, in version order, in one query."""

    @abstractmethod
    def select_positioned(
        self, subject_id: UUID, *, lte_position: int | None = None
    ) -> list[PositionedEvent]:
        """A subject's events with their ledger positions, optionally up to a position."""

    @abstractmethod
    def select_outbox(
        self, *, after: int, limit: int, tenant: str | None = None
    ) -> list[OutboxMessage]:
        """Outbox messages with ids greater than ``after``, in id order."""

    @abstractmethod
    def positions(self, keys: Sequence[tuple[UUID, int]]) -> dict[tuple[UUID, int], int]:
        """Ledger positions of the events at these (subject id, version) keys."""
