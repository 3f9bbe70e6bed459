"""The opt-outs scoped to one sender that stand, one row per (subject, sender, purpose).

Beside ``consent_status`` (the channel's statuses), so "opted in, and not withdrawn for
this sender" stays an index lookup. A row for a purpose the subject has on record is
the fold's ``status_for(purpose, sender)`` (a scoped plain STOP shows there too); the
``"*"`` row stands for the purposes never named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.domain.consent_status import Status, SubjectState


@dataclass(frozen=True)
class SenderRow:
    subject_id: UUID
    tenant: str
    channel: str
    sender: str
    purpose: str
    since: datetime
    event_id: UUID


def sender_rows_of(state: SubjectState) -> list[SenderRow]:
    rows: list[SenderRow] = []
    for sender, own in sorted(state.senders.items()):
        withdrawals = {w.event_id for w in own.values()}
        for purpose, effective in state.statuses_for(sender).items():
            if effective.status is Status.OPTED_OUT and effective.event_id in withdrawals:
                rows.append(
                    SenderRow(
                        subject_id=state.id,
                        tenant=state.tenant,
                        channel=state.channel,
                        sender=sender,
                        purpose=purpose,
                        since=effective.since,
                        event_id=effective.event_id,
                    )
                )
    return rows
