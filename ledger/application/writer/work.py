"""One unit of ledger work: items decided against current state, saved in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from ledger.domain.consent_status import SubjectState
from ledger.domain.contacts import ContactLink
from ledger.domain.drafts import Draft
from ledger.domain.errors import LedgerError
from ledger.domain.keywords import Match
from ledger.domain.outbound.outbox import OutboxMessage
from ledger.domain.receipts import Receipt
from ledger.domain.records import Recorded
from ledger.domain.subjects import SubjectRef
from ledger.events import ConsentEvent


@dataclass(frozen=True)
class Decision:
    """The drafts an item decided, and what the caller wants back about the decision."""

    drafts: list[Draft]
    match: Match | None = None  # how an inbound message was classified
    reason: str | None = None  # why a gateway's signal recorded nothing (in_force, …)


# Decides one item given the subject's state and the time of the decision.
Decider = Callable[[SubjectState, datetime], Decision]


@dataclass(frozen=True)
class WorkItem:
    subject: SubjectRef
    decide: Decider
    source_key: tuple[str, str] | None = None
    field_prefix: str = ""
    # Messages the gateways must send because of this item's new events (e.g. a
    # confirmation); stored in the outbox in the same transaction as the events.
    messages: Callable[[ItemResult], list[OutboxMessage]] | None = None
    # The index key of the contact the subject belongs to: linked with the item's events.
    contact_key: str | None = None


@dataclass
class ItemResult:
    """What became of one item: new events, a duplicate's receipt, or an error."""

    subject_id: UUID
    events: list[ConsentEvent] = field(default_factory=list)
    match: Match | None = None
    reason: str | None = None
    duplicate_of: Receipt | None = None
    error: LedgerError | None = None
    positions: dict[UUID, int] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    contact_links: list[ContactLink] = field(default_factory=list)
    # The subject's state after ``events`` (set when there are events).
    state_after: SubjectState | None = None

    @property
    def primary(self) -> ConsentEvent | None:
        return self.events[-1] if self.events else None


def recorded(result: ItemResult) -> Recorded | None:
    """The public answer for one item: its primary event, or the original of a duplicate."""
    receipt = result.duplicate_of
    if receipt is not None:
        return Recorded(
            subject_id=receipt.subject_id,
            event_id=receipt.event_id,
            type=receipt.type,
            version=receipt.version,
            position=result.positions.get(receipt.event_id, 0),
            duplicate=True,
        )
    primary = result.primary
    if primary is None:
        return None
    return Recorded(
        subject_id=result.subject_id,
        event_id=primary.event_id,
        type=primary.type_name,
        version=primary.originator_version,
        position=result.positions[primary.event_id],
    )
