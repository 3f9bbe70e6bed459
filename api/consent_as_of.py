"""The consent a subject had at a past moment: its events folded up to the ledger's own
clock (``recorded_at``) at that moment. ``GET /v1/subjects/{channel}/{address}/consent``
and the console's as-of picker both read through here."""

from __future__ import annotations

from datetime import datetime

from api.schemas import PurposeOut
from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.errors import InvalidInput
from ledger.domain.subjects import SubjectRef, resolve_subject
from ledger.domain.times import format_time, parse_time


def parse_as_of(text: str, field: str = "as_of") -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise InvalidInput(
            f"{field} {text!r} is not an RFC 3339 time with a zone offset",
            field=field,
            code="invalid_time",
        ) from None


def consent_as_of(
    ledger: ConsentLedger, tenant: str, channel: str, address: str, moment: datetime
) -> tuple[SubjectRef, dict[str, PurposeOut], int]:
    """(subject, status per purpose, how many events the ledger held then)."""
    subject = resolve_subject(tenant, channel, address)
    state = SubjectState(id=subject.id, tenant=subject.tenant, channel=subject.channel.value)
    known = 0
    for item in ledger.store.select_positioned(subject.id):
        event = ledger.ledger_event(item.stored)
        if event.timestamp > moment:
            break
        state = apply(state, event)
        known += 1
    purposes = {
        purpose: PurposeOut(
            status=status.status.value,
            since=format_time(status.since),
            event_id=status.event_id,
            method=status.method,
            keyword=status.keyword,
        )
        for purpose, status in state.statuses().items()
    }
    return subject, purposes, known
