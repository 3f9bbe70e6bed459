"""What the console shows of one subject, read through the JSON routes' own functions:
status per purpose (``consent_status`` read model), the history (the ledger), and the
status as of a past moment (``api/consent_as_of.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from api.consent_as_of import consent_as_of
from api.console.timeline import TimelineRow, timeline
from api.routers.subjects import subject_history, subject_status
from api.schemas import PurposeOut
from api.services import Services
from ledger.domain.roles import Principal
from ledger.domain.times import format_time


@dataclass(frozen=True)
class SubjectView:
    subject_id: str
    channel: str
    address: str
    purposes: dict[str, PurposeOut]
    pending: str | None
    rows: list[TimelineRow]
    as_of: str | None
    as_of_purposes: dict[str, PurposeOut] | None
    as_of_events: int
    attestation_path: str

    @property
    def found(self) -> bool:
        return bool(self.rows)

    @property
    def erased(self) -> bool:
        return any(row.type == "personal_data_erased" for row in self.rows)


def subject_view(
    services: Services, principal: Principal, channel: str, address: str, moment: datetime | None
) -> SubjectView:
    status = subject_status(channel, address, principal, services)
    history = subject_history(channel, address, principal, services)
    as_of_purposes, as_of_events = None, 0
    if moment is not None:
        _, as_of_purposes, as_of_events = consent_as_of(
            services.ledger, principal.tenant, channel, address, moment
        )
    pending = status.pending_request
    return SubjectView(
        subject_id=str(status.subject_id),
        channel=status.channel,
        address=status.address,
        purposes=status.purposes,
        pending=", ".join(pending.purposes) if pending else None,
        rows=timeline(history.events),
        as_of=format_time(moment) if moment else None,
        as_of_purposes=as_of_purposes,
        as_of_events=as_of_events,
        attestation_path=(
            f"/console/subjects/{quote(status.channel)}/{quote(status.address)}/attestation"
        ),
    )
