"""What the ledger needs from its recorder beyond the library's own interface.

Both recorders (SQLite, PostgreSQL) extend the library's application recorder with:
source receipts (idempotency), per-subject data keys (crypto-shredding), bulk reads of
several subjects' events, and notification ids (ledger positions) of stored events.
Everything is written in the same transaction as the events: ``Application.save`` takes
one typed keyword argument, ``beside=RowsBeside(...)``, which the recorders read with
``rows_beside(kwargs)``.

The writer (``ledger/application/writer/``) uses calls made for it, on its event loop:
``read_group_async``
reads what a group of units needs (receipts, the subjects' events after the versions it
knows, data keys) in one round trip; ``commit_group_async`` stores a group's events and
the rows beside them, in commit order, in one round trip; ``announce_async`` wakes the
log's followers after a commit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.domain.contacts import ContactLink
from ledger.domain.outbound.outbox import OutboxMessage
from ledger.domain.receipts import Receipt


@dataclass(frozen=True)
class RowsBeside:
    """Rows written in the same transaction as a save's events."""

    receipts: Sequence[Receipt] = ()  # idempotency: which event each source id became
    new_keys: dict[UUID, bytes] = field(default_factory=dict)  # data keys of new subjects
    erase_keys: Sequence[UUID] = ()  # subjects whose data keys are destroyed (erasure)
    outbox: Sequence[OutboxMessage] = ()  # messages for the gateways
    contact_links: Sequence[ContactLink] = ()  # subjects that belong to a contact (index)


NOTHING_BESIDE = RowsBeside()


def rows_beside(kwargs: dict[str, Any]) -> RowsBeside:
    """The ``beside=`` argument a recorder was given with a save (none: nothing beside)."""
    beside = kwargs.get("beside", NOTHING_BESIDE)
    if not isinstance(beside, RowsBeside):
        raise TypeError(f"beside= takes RowsBeside, not {type(beside).__name__}")
    return beside


@dataclass(frozen=True)
class GroupRead:
    """What a group of units needs from the database before it is decided."""

    receipts: dict[str, list[tuple[str, str]]]  # tenant -> (source kind, source id) keys
    subjects: dict[UUID, int]  # subject id -> the version already known (0: nothing)


@dataclass(frozen=True)
class GroupReads:
    receipts: dict[str, dict[tuple[str, str], Receipt]]  # tenant -> found receipts
    events: dict[UUID, list[StoredEvent]]  # each subject's events after the known version
    data_keys: dict[UUID, bytes]  # (absent: none yet, or erased)


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
    def select_events_at(
        self, keys: Sequence[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], StoredEvent]:
        """The stored events at these (subject id, version) keys (absent: none there)."""

    @abstractmethod
    def positions(self, keys: Sequence[tuple[UUID, int]]) -> dict[tuple[UUID, int], int]:
        """Ledger positions of the events at these (subject id, version) keys."""

    @abstractmethod
    async def read_group_async(self, request: GroupRead) -> GroupReads:
        """Receipts, the subjects' newer events and data keys, in one round trip."""

    @abstractmethod
    async def select_subjects_async(
        self, subject_ids: Sequence[UUID]
    ) -> dict[UUID, list[StoredEvent]]:
        """``select_subjects`` on the writer's loop, failing as fast as its reads do."""

    @abstractmethod
    async def commit_group_async(
        self, events: Sequence[StoredEvent], beside: RowsBeside
    ) -> list[int]:
        """Store events and the rows beside them in one transaction; their positions.

        Positions follow commit order (the events table is locked for the insert). A
        version or receipt that is already stored raises ``IntegrityError``; nothing of
        the group is stored then. Followers are not woken: call ``announce_async``.
        """

    @abstractmethod
    async def announce_async(self) -> None:
        """Wake the followers of the log (PostgreSQL ``NOTIFY``, SQLite in-process)."""

    @abstractmethod
    async def close_async(self) -> None:
        """Close what the asynchronous calls opened (on the writer's loop)."""
