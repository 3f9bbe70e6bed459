"""The outbox rows of each outbound message, as stored beside their event.

A row's payload holds no personal data the ledger already seals: a message that
follows an event names it, and the recipient (and a request's template text) are read
from that event's sealed disclosures when the message is delivered, so a subject erased
meanwhile is never messaged and leaves no clear copy behind. A help reply follows no
event (HELP records nothing), so it carries its recipient itself.

Every message is transactional (``category: "utility"``), never marketing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson

from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.outbound.ids import OutboundKind, OutboundRef
from ledger.domain.outbound.outbox import OutboxMessage
from ledger.domain.subjects import SubjectRef
from ledger.domain.tenants.reply_texts import ReplyTexts
from ledger.domain.times import format_time
from ledger.events import (
    ConsentEvent,
    OptedIn,
    OptedOut,
    OptInAccepted,
    OptInRejected,
    OptInRequested,
    OptInRequestUndeliverable,
)

PAYLOAD_VERSION = 1
CATEGORY = "utility"
NOTICE = "notice"  # the category of a row that is not a message to send
# The channel to try when a request cannot reach the person on its own channel.
FALLBACKS = {"whatsapp": "sms"}
NO_EVENT = UUID(int=0)


def _row(
    kind: OutboundKind,
    tenant: str,
    channel: str,
    subject_id: UUID,
    ref: UUID,
    event_id: UUID,
    fields: dict[str, Any],
    version: int | None = None,
) -> OutboxMessage:
    outbound = OutboundRef(kind, subject_id, ref)
    payload = {
        "version": PAYLOAD_VERSION,
        "id": outbound.id,
        "kind": kind.value,
        "tenant": tenant,
        "channel": channel,
        "subject_id": str(subject_id),
        "event_id": None if event_id == NO_EVENT else str(event_id),
        "category": CATEGORY,
        **fields,
    }
    return OutboxMessage(
        tenant=tenant,
        channel=channel,
        subject_id=subject_id,
        event_id=event_id,
        kind=kind.value,
        payload=orjson.dumps(payload).decode("utf-8"),
        version=version,
    )


def opt_in_request_message(event: OptInRequested, business_name: str | None) -> OutboxMessage:
    """The request to send; its template text is read from the sealed event on delivery."""
    template = event.evidence.get("notice") or {}
    return _row(
        OutboundKind.OPT_IN_REQUEST,
        event.tenant,
        event.channel,
        event.originator_id,
        event.event_id,
        event.event_id,
        {
            "request_id": str(event.request_id),
            "purposes": list(event.purposes),
            "template": {"id": template.get("id"), "version": template.get("version")},
            "business_name": business_name,
            "expires_at": format_time(event.expires_at),
        },
        version=event.originator_version,
    )


def confirmation_after(
    before: SubjectState,
    events: Sequence[ConsentEvent],
    texts: ReplyTexts,
    after: SubjectState | None = None,
) -> OutboxMessage | None:
    """One confirmation for a change the person made, or None when nothing changed.

    ``after``: the state after ``events`` when the caller folded it already."""
    if not events:
        return None
    event = events[-1]
    if isinstance(event, OptInRejected):
        change, text = "rejected", texts.rejected
    elif isinstance(event, OptedOut):
        scope = event.purposes
        change, text = "opted_out", texts.withdrawal(scope, all_purposes=event.all_purposes)
    elif isinstance(event, OptInAccepted):
        change, text = "accepted", texts.opted_in
    elif isinstance(event, OptedIn):
        change, text = "opted_in", texts.opted_in
    else:
        return None
    if after is None:
        after = before
        for item in events:
            after = apply(after, item)
    if not text or _statuses(before) == _statuses(after):
        return None
    return _row(
        OutboundKind.CONFIRMATION,
        event.tenant,
        event.channel,
        event.originator_id,
        event.event_id,
        event.event_id,
        {
            "change": change,
            "purposes": list(event.purposes),
            "all_purposes": event.all_purposes,
            "text": text,
        },
        version=event.originator_version,
    )


def suggested_fallback(channel: str) -> str | None:
    """The channel to offer instead when a request cannot reach the person on ``channel``."""
    return FALLBACKS.get(channel)


def fallback_notice(event: OptInRequestUndeliverable) -> OutboxMessage | None:
    """A notice for the sender that the request failed, and which channel to try instead.

    Its recipient is read from the sealed event on delivery, like any row's; None when
    the channel has no fallback."""
    fallback = suggested_fallback(event.channel)
    if fallback is None or event.request_id is None:
        return None
    evidence = event.evidence
    return _row(
        OutboundKind.FALLBACK,
        event.tenant,
        event.channel,
        event.originator_id,
        event.event_id,
        event.event_id,
        {
            "category": NOTICE,
            "request_id": str(event.request_id),
            "purposes": list(event.purposes),
            "failure": {
                "gateway": evidence.get("gateway"),
                "status": evidence.get("gateway_status"),
                "error_code": evidence.get("gateway_error"),
                "gateway_message_id": evidence.get("gateway_message_id"),
            },
            "fallback": fallback,
        },
        version=event.originator_version,
    )


def help_message(subject: SubjectRef, ref: UUID, text: str) -> OutboxMessage:
    return _row(
        OutboundKind.HELP,
        subject.tenant,
        subject.channel.value,
        subject.id,
        ref,
        NO_EVENT,
        {"to": subject.address, "text": text},
    )


def _statuses(state: SubjectState) -> dict[str, str]:
    statuses = {purpose: s.status.value for purpose, s in state.statuses().items()}
    if state.pending is not None:
        statuses["~pending"] = str(state.pending.request_id)
    return statuses
