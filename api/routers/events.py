"""``POST /v1/events``: a batch of consent events from any source, in one transaction."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from api.deps import principal_of
from api.json_responses import json_response, recorded_json
from api.raw_body import documented_body, parse_body
from api.schemas import ErrorOut, EventIn, EventsIn, EventsOut
from api.services import Services
from ledger.domain.commands import Evidence, Notice, NumberCheck, RecordConsent, Source
from ledger.domain.roles import Role
from ledger.runtime.collector import collection_paused

router = APIRouter(prefix="/v1/events", tags=["events"])

LARGE_BODY = 64 * 1024


def to_command(tenant: str, key_id: str, item: EventIn) -> RecordConsent:
    evidence = item.evidence
    notice = evidence.notice
    check = item.number_check
    return RecordConsent(
        tenant=tenant,
        channel=item.channel,
        address=item.address,
        type=item.type,
        purposes=tuple(item.purposes),
        occurred_at=item.occurred_at,
        source=Source(kind=item.source.kind, id=item.source.id),
        request_id=item.request_id,
        contact_id=item.contact_id,
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
            sender=evidence.sender,
        ),
        reason=item.reason,
        number_check=NumberCheck(check.data_source, check.queried_at, check.result)
        if check
        else None,
    )


def read_commands(tenant: str, key_id: str, raw: bytes) -> list[RecordConsent]:
    """The batch's commands, or the 422 naming the first bad field."""
    with collection_paused():  # thousands of models, all alive until the batch is stored
        body = parse_body(EventsIn, raw)
        return [to_command(tenant, key_id, item) for item in body.events]


@router.post(
    "",
    response_model=EventsOut,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Record a batch of consent events (all or nothing)",
    openapi_extra=documented_body(EventsIn),
)
async def record_events(request: Request) -> Response:
    principal = await principal_of(request, Role.INGEST)
    raw = await request.body()
    if len(raw) > LARGE_BODY:  # validating megabytes takes a while: not on the loop
        commands = await asyncio.to_thread(read_commands, principal.tenant, principal.key_id, raw)
    else:
        commands = read_commands(principal.tenant, principal.key_id, raw)
    services: Services = request.app.state.services
    answers = await services.ledger.record_batch_async(commands)
    return json_response({"results": [recorded_json(a) for a in answers]})
