"""The revocation timeliness report: for each opt-out, when it was received, when it took
effect, when it was confirmed, which campaign came next, and what broke the rules.

An opt-out is an ``opted_out`` event, or a ``held_opt_out_released`` (a gateway's opt-out
held for review, then released: its gateway time is when the gateway reported it, so
the hold counts against the limit). For an opt-out recorded at ledger position ``p``:
- ``received_at_gateway`` is its ``occurred_at`` (the gateway's or source's time), and
  ``received_at_ledger`` its ``recorded_at``;
- ``effective_position`` is ``p``. The read models apply the log in order, so every
  audience or eligibility answer at ``X-Ledger-Position >= p`` excludes the subject, and
  ``effective_at`` is the ledger time of ``p``;
- ``confirmations`` are the ``confirmation_sent`` events after it, up to the subject's next
  change of consent;
- ``first_receipt`` is the first campaign receipt the opt-out covers (see
  ``campaigns/subject_receipts.py``), and ``included_receipts`` are the covered receipts
  that still held the subject.

Flags:
- ``late``: more business days from the gateway's time to the ledger's than the tenant's
  limit for the subject's jurisdiction;
- ``multiple_confirmations``: more than one confirmation;
- ``included_after_opt_out``: a covered receipt held the subject.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.application.core import LedgerCore
from ledger.attestation.campaigns.receipts import CampaignReceipts, StoredReceipt
from ledger.attestation.campaigns.subject_receipts import OPT_OUTS, PositionedConsent, covered
from ledger.crypto.encryption import readable_disclosures
from ledger.domain.compliance_policy import (
    CompliancePolicy,
    business_days_between,
    jurisdiction_of,
)
from ledger.domain.times import format_time
from ledger.events import ConfirmationSent, ConsentEvent

SCAN_BATCH = 1_000
OPT_OUT_TOPICS = [get_topic(cls) for cls in OPT_OUTS]

LATE = "late"
MULTIPLE_CONFIRMATIONS = "multiple_confirmations"
INCLUDED_AFTER_OPT_OUT = "included_after_opt_out"

COLUMNS = [
    "subject_id",
    "channel",
    "jurisdiction",
    "event_id",
    "position",
    "purposes",
    "received_at_gateway",
    "received_at_ledger",
    "effective_position",
    "effective_at",
    "business_days",
    "limit_business_days",
    "confirmations",
    "first_confirmation_at",
    "first_receipt_campaign_id",
    "first_receipt_position",
    "first_receipt_at",
    "first_receipt_included",
    "included_receipts",
    "flags",
]


@dataclass(frozen=True)
class Revocation:
    subject_id: UUID
    channel: str
    jurisdiction: str
    opt_out: PositionedConsent
    business_days: int
    limit: int
    confirmations: list[datetime]
    first_receipt: tuple[StoredReceipt, bool] | None
    included: list[StoredReceipt] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        flags = []
        if self.business_days > self.limit:
            flags.append(LATE)
        if len(self.confirmations) > 1:
            flags.append(MULTIPLE_CONFIRMATIONS)
        if self.included:
            flags.append(INCLUDED_AFTER_OPT_OUT)
        return flags

    def to_json(self) -> dict[str, Any]:
        event = self.opt_out.event
        first = self.first_receipt
        return {
            "subject_id": str(self.subject_id),
            "channel": self.channel,
            "jurisdiction": self.jurisdiction,
            "event_id": str(event.event_id),
            "position": self.opt_out.position,
            "purposes": "*" if event.all_purposes else " ".join(event.purposes),
            "received_at_gateway": format_time(event.occurred_at),
            "received_at_ledger": format_time(event.timestamp),
            "effective_position": self.opt_out.position,
            "effective_at": format_time(event.timestamp),
            "business_days": self.business_days,
            "limit_business_days": self.limit,
            "confirmations": len(self.confirmations),
            "first_confirmation_at": format_time(min(self.confirmations))
            if self.confirmations
            else None,
            "first_receipt_campaign_id": first[0].event.campaign_id if first else None,
            "first_receipt_position": first[0].position if first else None,
            "first_receipt_at": format_time(first[0].event.timestamp) if first else None,
            "first_receipt_included": first[1] if first else None,
            "included_receipts": " ".join(str(r.id) for r in self.included),
            "flags": " ".join(self.flags),
        }


def revocations(
    ledger: LedgerCore,
    receipts: CampaignReceipts,
    policy: CompliancePolicy,
    tenant: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    subject_id: UUID | None = None,
    after_position: int = 0,
) -> Iterator[Revocation]:
    """Every opt-out of the tenant recorded in ``[start, end)`` (ledger time) after a
    ledger position, in ledger order."""
    tenant_receipts = list(receipts.receipts(tenant))
    for item in _opt_outs(ledger, tenant, after_position):
        event = item.event
        if start is not None and event.timestamp < start:
            continue
        if end is not None and event.timestamp >= end:
            continue
        if subject_id is not None and event.originator_id != subject_id:
            continue
        yield _revocation(ledger, receipts, policy, tenant_receipts, item)


def subject_revocations(
    ledger: LedgerCore,
    receipts: CampaignReceipts,
    policy: CompliancePolicy,
    tenant: str,
    subject_id: UUID,
) -> list[Revocation]:
    """Every opt-out of one subject, read from its own history (no scan of the log)."""
    opt_outs = [
        PositionedConsent(event, item.position)
        for item in ledger.store.select_positioned(subject_id)
        if isinstance(event := ledger.ledger_event(item.stored), OPT_OUTS)
    ]
    if not opt_outs:
        return []
    tenant_receipts = list(receipts.receipts(tenant))
    return [_revocation(ledger, receipts, policy, tenant_receipts, o) for o in opt_outs]


def _opt_outs(ledger: LedgerCore, tenant: str, after: int) -> Iterator[PositionedConsent]:
    while True:
        batch = ledger.recorder.select_notifications(
            start=after, limit=SCAN_BATCH, topics=OPT_OUT_TOPICS, inclusive_of_start=False
        )
        for notification in batch:
            event = ledger.ledger_event(notification)
            if isinstance(event, OPT_OUTS) and event.tenant == tenant:
                yield PositionedConsent(event, notification.id)
        if len(batch) < SCAN_BATCH:
            return
        after = batch[-1].id


def _revocation(
    ledger: LedgerCore,
    receipts: CampaignReceipts,
    policy: CompliancePolicy,
    tenant_receipts: list[StoredReceipt],
    opt_out: PositionedConsent,
) -> Revocation:
    sid = opt_out.event.originator_id
    history = [
        PositionedConsent(event, item.position)
        for item in ledger.store.select_positioned(sid)
        if isinstance(event := ledger.ledger_event(item.stored), ConsentEvent)
    ]
    jurisdiction = jurisdiction_of(_address(ledger, sid, history))
    confirmations: list[datetime] = []
    for item in history:
        if item.position <= opt_out.position:
            continue
        if not isinstance(item.event, ConfirmationSent):
            break
        confirmations.append(item.event.occurred_at)
    first: tuple[StoredReceipt, bool] | None = None
    included: list[StoredReceipt] = []
    for receipt in tenant_receipts:
        if not covered(history, opt_out, receipt):
            continue
        held = receipts.tree(receipt).membership(sid) is not None
        if first is None:
            first = (receipt, held)
        if held:
            included.append(receipt)
    return Revocation(
        subject_id=sid,
        channel=opt_out.event.channel,
        jurisdiction=jurisdiction,
        opt_out=opt_out,
        business_days=business_days_between(opt_out.event.occurred_at, opt_out.event.timestamp),
        limit=policy.revocation_limit(jurisdiction),
        confirmations=confirmations,
        first_receipt=first,
        included=included,
    )


def _address(ledger: LedgerCore, subject_id: UUID, history: list[PositionedConsent]) -> str | None:
    """The subject's address, read from its personal data (None once erased)."""
    key = ledger.store.data_keys([subject_id]).get(subject_id)
    for item in history:
        for disclosure in readable_disclosures(item.event, key) or []:
            if disclosure.field == "address":
                return disclosure.value
    return None
