"""Eligibility: may this purpose be sent on this channel to this subject, right now?

A pure function of the subject's ``consent_status`` rows: eligible only when the purpose's
effective status is ``opted_in``. Reasons: ``opted_in`` (since, by method), ``opted_out``
(at, by keyword; a plain STOP shows as purpose ``*``), ``pending``, ``no_consent``
(never asked, rejected, expired, undeliverable, or a status this module does not
know yet), ``erased`` (the subject's personal data was erased: never targeted again),
``invalidated`` (the number was reassigned or disconnected: no purpose until a new
opt-in), ``lapsed`` (a grant older than the tenant's lapse policy, not renewed),
``held`` (a gateway's opt-out is held for review: no messages meanwhile) and, decided
before any lookup, ``invalid_address``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from ledger.domain.consent_status import ALL_PURPOSES, Status


class Reason(StrEnum):
    OPTED_IN = "opted_in"
    OPTED_OUT = "opted_out"
    PENDING = "pending"
    NO_CONSENT = "no_consent"
    ERASED = "erased"
    INVALIDATED = "invalidated"
    LAPSED = "lapsed"
    HELD = "held"
    INVALID_ADDRESS = "invalid_address"


@dataclass(frozen=True)
class StatusCell:
    """What ``consent_status`` holds for one (subject, purpose)."""

    status: str
    since: datetime
    method: str | None
    keyword: str | None


@dataclass(frozen=True)
class Eligibility:
    address: str  # as the caller wrote it
    eligible: bool
    reason: Reason
    since: datetime | None = None
    method: str | None = None
    keyword: str | None = None
    status: str | None = None
    subject_id: UUID | None = None


def decide(
    address: str,
    subject_id: UUID,
    purpose: str,
    cells: dict[str, StatusCell],
    withdrawn: StatusCell | None = None,
) -> Eligibility:
    """``cells`` maps purpose (and ``*``) to the subject's rows; absent rows mean none.
    ``withdrawn``: an opt-out scoped to the sender asked about that stands."""
    cell = cells.get(purpose) or cells.get(ALL_PURPOSES)
    if withdrawn is not None and (
        cell is None or cell.status not in (Status.OPTED_OUT.value, Status.ERASED.value)
    ):
        cell = withdrawn
    if cell is None:
        return Eligibility(address, False, Reason.NO_CONSENT, subject_id=subject_id, status="none")
    reason = {
        Status.OPTED_IN.value: Reason.OPTED_IN,
        Status.OPTED_OUT.value: Reason.OPTED_OUT,
        Status.PENDING.value: Reason.PENDING,
        Status.ERASED.value: Reason.ERASED,
        Status.INVALIDATED.value: Reason.INVALIDATED,
        Status.LAPSED.value: Reason.LAPSED,
        Status.HELD.value: Reason.HELD,
    }.get(cell.status, Reason.NO_CONSENT)
    return Eligibility(
        address=address,
        eligible=reason is Reason.OPTED_IN,
        reason=reason,
        since=cell.since,
        method=cell.method,
        keyword=cell.keyword,
        status=cell.status,
        subject_id=subject_id,
    )


def invalid(address: str) -> Eligibility:
    return Eligibility(address, False, Reason.INVALID_ADDRESS)
