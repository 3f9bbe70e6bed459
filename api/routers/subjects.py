"""``GET /v1/subjects/{channel}/{address}`` (status per purpose) and ``…/history``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Auditor, ServicesDep, StatusReader
from api.schemas import MAX_POSITION, ErrorOut, HistoryOut, PendingOut, PurposeOut, SubjectOut
from api.services import Services
from ledger.domain.consent_status import PurposeStatus, Status, SubjectState
from ledger.domain.lapses import add_months
from ledger.domain.records import History
from ledger.domain.subjects import SubjectRef, resolve_subject
from ledger.domain.times import format_time

router = APIRouter(prefix="/v1/subjects", tags=["subjects"])

After = Annotated[
    int | None,
    Query(
        ge=0,
        le=MAX_POSITION,
        description="wait (bounded) until the read model has applied this ledger position",
    ),
]


@router.get(
    "/{channel}/{address}",
    response_model=SubjectOut,
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="Current status per purpose (from the consent_status read model)",
)
def subject_status(
    channel: str,
    address: str,
    principal: StatusReader,
    services: ServicesDep,
    after: After = None,
    sender: Annotated[
        str | None,
        Query(
            max_length=200,
            description="status for messages from this business sender (opt-outs scoped to "
            "it count); unset: the channel's status, with scoped opt-outs under senders",
        ),
    ] = None,
) -> SubjectOut:
    subject = resolve_subject(principal.tenant, channel, address)
    services.wait_for(after)
    return status_out(subject, services, sender)


def status_out(subject: SubjectRef, services: Services, sender: str | None = None) -> SubjectOut:
    """The subject's status per purpose, as the read model has it (``sender``: for
    messages from that business sender, opt-outs scoped to it counted)."""
    projected = services.consent_status.subject(subject.id)
    purposes: dict[str, PurposeOut] = {}
    pending_out = None
    scoped: dict[str, dict[str, PurposeOut]] = {}
    if projected is not None:
        lapse_months = services.ledger.policy_for(subject.tenant).lapse_months
        for row in projected.rows:
            months = lapse_months.get(row.purpose) if row.status == Status.OPTED_IN else None
            purposes[row.purpose] = PurposeOut(
                status=row.status,
                since=format_time(row.since),
                event_id=row.event_id,
                method=row.method,
                keyword=row.keyword,
                lapses_at=format_time(add_months(row.since, months)) if months else None,
            )
        if sender is not None:
            purposes = {p: _purpose(s) for p, s in projected.state.statuses_for(sender).items()}
        scoped = {
            owner: {p: _purpose(s) for p, s in _standing(projected.state, owner).items()}
            for owner in sorted(projected.state.senders)
        }
        pending = projected.state.pending
        if pending is not None:
            pending_out = PendingOut(
                request_id=pending.request_id,
                purposes=list(pending.purposes),
                requested_at=format_time(pending.requested_at),
                expires_at=format_time(pending.expires_at),
            )
    return SubjectOut(
        subject_id=subject.id,
        channel=subject.channel.value,
        address=subject.address,
        purposes=purposes,
        pending_request=pending_out,
        position=projected.position if projected else 0,
        sender=sender,
        senders=scoped,
    )


def _purpose(status: PurposeStatus) -> PurposeOut:
    return PurposeOut(
        status=status.status.value,
        since=format_time(status.since),
        event_id=status.event_id,
        method=status.method,
        keyword=status.keyword,
    )


def _standing(state: SubjectState, owner: str) -> dict[str, PurposeStatus]:
    """The opt-outs scoped to ``owner`` that still stand, by purpose."""
    own = {w.event_id for w in state.senders.get(owner, {}).values()}
    return {p: s for p, s in state.statuses_for(owner).items() if s.event_id in own}


@router.get(
    "/{channel}/{address}/history",
    response_model=HistoryOut,
    responses={422: {"model": ErrorOut}},
    summary="Every event of the subject, in order, with its hash chain (from the ledger)",
)
def subject_history(
    channel: str, address: str, principal: Auditor, services: ServicesDep
) -> HistoryOut:
    return history_out(services.ledger.history(principal.tenant, channel, address))


def history_out(history: History) -> HistoryOut:
    subject, entries = history.subject, history.entries
    events: list[dict[str, Any]] = []
    for entry in entries:
        item = dict(entry.document)
        item["position"] = entry.position
        item["hash"] = entry.hash
        item["disclosures"] = entry.disclosures
        events.append(item)
    return HistoryOut(
        subject_id=subject.id, channel=subject.channel.value, address=subject.address, events=events
    )
