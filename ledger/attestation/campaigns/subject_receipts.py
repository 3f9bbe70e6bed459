"""A subject's campaign receipts: every receipt that included it (with inclusion proofs),
and, for one of its opt-outs, every later receipt the opt-out covers (with a proof that
the subject was *not* in it, or the inclusion proof that shows it was: a violation).

An opt-out covers a receipt when the receipt is on the subject's channel, was recorded
after the opt-out, is for a purpose the opt-out withdrew, and no grant of that purpose
(opted in, request accepted) was recorded between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.application.ports import LedgerReader
from ledger.attestation.campaigns.receipts import CampaignReceipts, StoredReceipt
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.subjects import SubjectRef
from ledger.domain.times import format_time
from ledger.events import ConsentEvent, HeldOptOutReleased, OptedIn, OptedOut, OptInAccepted

# What withdraws consent: an opt-out, or a held one an admin released.
OPT_OUTS = (OptedOut, HeldOptOutReleased)

DEFAULT_PAGE = 100
MAX_PAGE = 1_000


class SubjectNotFound(LedgerError):
    code = "subject_not_found"


@dataclass(frozen=True)
class PositionedConsent:
    event: ConsentEvent
    position: int

    def names(self, purpose: str) -> bool:
        return self.event.all_purposes or purpose in self.event.purposes


def receipt_object(receipt: StoredReceipt) -> dict[str, Any]:
    """The receipt event as hashed, its hash and where it is in the ledger."""
    return {**receipt.event.document(), "hash": receipt.event.hash, "position": receipt.position}


def consent_events(ledger: LedgerReader, subject: SubjectRef) -> list[PositionedConsent]:
    found = [
        PositionedConsent(event, item.position)
        for item in ledger.store.select_positioned(subject.id)
        if isinstance(event := ledger.ledger_event(item.stored), ConsentEvent)
    ]
    if not found:
        raise SubjectNotFound("the ledger holds no events of this subject", field="address")
    return found


def including(
    receipts: CampaignReceipts,
    subject: SubjectRef,
    *,
    after_position: int = 0,
    limit: int = DEFAULT_PAGE,
) -> tuple[list[dict[str, Any]], int | None]:
    """The receipts that included the subject, with proofs; and the next page's cursor."""
    indexes = receipts.including(subject.tenant, subject.id)
    entries: list[dict[str, Any]] = []
    if not indexes:
        return entries, None
    for receipt in receipts.receipts(subject.tenant, after_position=after_position):
        if receipt.id not in indexes:
            continue
        entries.append(_entry(receipts, receipt, subject.id))
        if len(entries) == limit:
            return entries, receipt.position
    return entries, None


def opt_out_of(events: list[PositionedConsent], opt_out_id: str) -> PositionedConsent:
    for item in events:
        if str(item.event.event_id) == opt_out_id and isinstance(item.event, OPT_OUTS):
            return item
    raise InvalidInput(
        f"{opt_out_id!r} is not an opt-out of this subject",
        field="after_opt_out",
        code="opt_out_not_found",
    )


def covered(
    events: list[PositionedConsent], opt_out: PositionedConsent, receipt: StoredReceipt
) -> bool:
    """Whether the opt-out still stood for the receipt's purpose when it was recorded."""
    event = receipt.event
    if event.channel != opt_out.event.channel or receipt.position <= opt_out.position:
        return False
    if not opt_out.names(event.purpose):
        return False
    return not any(
        opt_out.position < item.position < receipt.position
        and isinstance(item.event, OptedIn | OptInAccepted)
        and item.names(event.purpose)
        for item in events
    )


def after_opt_out(
    receipts: CampaignReceipts,
    ledger: LedgerReader,
    subject: SubjectRef,
    opt_out_id: str,
    *,
    after_position: int = 0,
    limit: int = DEFAULT_PAGE,
) -> tuple[PositionedConsent, list[dict[str, Any]], int | None]:
    """The opt-out, every receipt it covers (after ``after_position``) with a proof of
    non-inclusion, or of inclusion where the receipt wrongly held the subject."""
    events = consent_events(ledger, subject)
    opt_out = opt_out_of(events, opt_out_id)
    start = max(after_position, opt_out.position)
    entries: list[dict[str, Any]] = []
    for receipt in receipts.receipts(subject.tenant, after_position=start):
        if not covered(events, opt_out, receipt):
            continue
        entries.append(_entry(receipts, receipt, subject.id))
        if len(entries) == limit:
            return opt_out, entries, receipt.position
    return opt_out, entries, None


def opt_out_object(item: PositionedConsent) -> dict[str, Any]:
    event = item.event
    return {
        "event_id": str(event.event_id),
        "position": item.position,
        "purposes": list(event.purposes),
        "all_purposes": event.all_purposes,
        "occurred_at": format_time(event.occurred_at),
        "recorded_at": format_time(event.timestamp),
    }


def _entry(receipts: CampaignReceipts, receipt: StoredReceipt, subject_id: UUID) -> dict[str, Any]:
    tree = receipts.tree(receipt)
    member = tree.membership(subject_id)
    absent = tree.non_membership(subject_id) if member is None else None
    return {
        "receipt": receipt_object(receipt),
        "included": member is not None,
        "inclusion": member.to_json() if member is not None else None,
        "non_inclusion": absent.to_json() if absent is not None else None,
    }
