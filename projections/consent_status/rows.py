"""The ``consent_status`` read model: one row per (subject, purpose) with its effective
status, built so "every opted-in subject for tenant/channel/purpose" is an index scan.

The rows are a pure function of the subject's folded state, and the fold is the ledger's
own, so the read model always equals the fold of the ledger. Writing rows and the
tracked position in one transaction is the projection engine's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.domain.consent_status import PurposeStatus, SubjectState


@dataclass(frozen=True)
class StatusRow:
    subject_id: UUID
    tenant: str
    channel: str
    address: str | None
    purpose: str
    status: str
    since: datetime
    event_id: UUID
    method: str | None
    keyword: str | None
    version: int
    position: int


def rows_of(state: SubjectState, *, address: str | None, position: int) -> list[StatusRow]:
    return [
        _row(state, purpose, status, address, position)
        for purpose, status in state.statuses().items()
    ]


def _row(
    state: SubjectState, purpose: str, status: PurposeStatus, address: str | None, position: int
) -> StatusRow:
    return StatusRow(
        subject_id=state.id,
        tenant=state.tenant,
        channel=state.channel,
        address=address,
        purpose=purpose,
        status=status.status.value,
        since=status.since,
        event_id=status.event_id,
        method=status.method,
        keyword=status.keyword,
        version=status.version,
        position=position,
    )
