"""``POST /v1/events``: a batch of consent events from any source, in one transaction."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Ingest, ServicesDep
from api.schemas import ErrorOut, EventIn, EventsIn, EventsOut, RecordedOut
from ledger.domain.commands import Evidence, Notice, RecordConsent, Source

router = APIRouter(prefix="/v1/events", tags=["events"])


def to_command(tenant: str, key_id: str, item: EventIn) -> RecordConsent:
    evidence = item.evidence
    notice = evidence.notice
    return RecordConsent(
        tenant=tenant,
        channel=item.channel,
        address=item.address,
        type=item.type,
        purposes=tuple(item.purposes),
        occurred_at=item.occurred_at,
        source=Source(kind=item.source.kind, id=item.source.id),
        request_id=item.request_id,
        evidence=Evidence(
            method=evidence.method,
            text=evidence.text,
            notice=Notice(notice.id, notice.version, notice.text) if notice else None,
            business_name=evidence.business_name,
            ip=evidence.ip,
            user_agent=evidence.user_agent,
            profile_name=evidence.profile_name,
            button_payload=evidence.button_payload,
            recorded_by=key_id,
        ),
    )


@router.post(
    "",
    response_model=EventsOut,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Record a batch of consent events (all or nothing)",
)
def record_events(body: EventsIn, principal: Ingest, services: ServicesDep) -> EventsOut:
    commands = [to_command(principal.tenant, principal.key_id, item) for item in body.events]
    answers = services.ledger.record_batch(commands)
    return EventsOut(results=[RecordedOut.of(a) for a in answers])
