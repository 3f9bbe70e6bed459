"""``POST /v1/messages/inbound``: one inbound message, classified by the keyword rules."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import principal_of
from api.json_responses import json_response
from api.raw_body import documented_body, parse_body
from api.schemas import ErrorOut, InboundIn, InboundOut
from api.services import Services
from ledger.domain.commands import ReceiveMessage
from ledger.domain.errors import LedgerError
from ledger.domain.records import InboundOutcome
from ledger.domain.roles import Principal, Role
from ledger.domain.times import utc_now

router = APIRouter(prefix="/v1/messages", tags=["messages"])


@router.post(
    "/inbound",
    response_model=InboundOut,
    responses={422: {"model": ErrorOut}},
    summary="Record what an inbound message means for consent",
    openapi_extra=documented_body(InboundIn),
)
async def inbound(request: Request) -> Response:
    # The hot path: on the event loop, its own body parsing (api/raw_body.py); the writer
    # thread does the ledger's work.
    principal = await principal_of(request, Role.INGEST)
    body = parse_body(InboundIn, await request.body())
    services: Services = request.app.state.services
    try:
        outcome = await _receive(services, principal, body)
    except LedgerError as error:
        if error.field == "address":  # the request calls it "from"
            error.field = "from"
        raise
    recorded = outcome.recorded
    return json_response(
        {
            "action": outcome.action,
            "subject_id": outcome.subject_id,
            "event_id": recorded.event_id if recorded else None,
            "position": recorded.position if recorded else None,
            "duplicate": recorded.duplicate if recorded else False,
            "keyword": outcome.keyword,
            "match": outcome.match,
        }
    )


async def _receive(services: Services, principal: Principal, body: InboundIn) -> InboundOutcome:
    return await services.ledger.receive_message_async(
        ReceiveMessage(
            tenant=principal.tenant,
            channel=body.channel,
            address=body.from_,
            message_id=body.message_id,
            occurred_at=body.occurred_at or utc_now(),
            text=body.text,
            button_payload=body.button_payload,
            profile_name=body.profile_name,
            recorded_by=principal.key_id,
            sender=body.sender,
        )
    )
