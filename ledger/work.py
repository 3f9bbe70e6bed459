"""One unit of ledger work: items decided against current state, saved in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.consent_status import SubjectState
from ledger.errors import LedgerError
from ledger.events import ConsentEvent
from ledger.persistence.store import OutboxMessage, Receipt
from ledger.sealing import Draft
from ledger.subjects import SubjectRef

# Decides the drafts for one item given the subject's state; may return a note
# (e.g. how a message was classified) that the caller gets back with the result.
Decider = Callable[[SubjectState, datetime], tuple[list[Draft], Any]]


@dataclass(frozen=True)
class WorkItem:
    subject: SubjectRef
    decide: Decider
    source_key: tuple[str, str] | None = None
    field_prefix: str = ""
    # Messages the gateways must send because of this item's new events (e.g. a
    # confirmation); stored in the outbox in the same transaction as the events.
    messages: Callable[[ItemResult], list[OutboxMessage]] | None = None


@dataclass
class ItemResult:
    """What became of one item: new events, a duplicate's receipt, or an error."""

    subject_id: UUID
    events: list[ConsentEvent] = field(default_factory=list)
    note: Any = None
    duplicate_of: Receipt | None = None
    error: LedgerError | None = None
    positions: dict[UUID, int] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)

    @property
    def primary(self) -> ConsentEvent | None:
        return self.events[-1] if self.events else None
