"""``POST /v1/messages/inbound``: one inbound message, classified by the keyword rules."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Ingest, ServicesDep
from api.schemas import ErrorOut, InboundIn, InboundOut
from ledger.domain.commands import ReceiveMessage
from ledger.domain.times import utc_now

router = APIRouter(prefix="/v1/messages", tags=["messages"])


@router.post(
    "/inbound",
    response_model=InboundOut,
    responses={422: {"model": ErrorOut}},
    summary="Record what an inbound message means for consent",
)
def inbound(body: InboundIn, principal: Ingest, services: ServicesDep) -> InboundOut:
    outcome = services.ledger.receive_message(
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
        )
    )
    recorded = outcome.recorded
    return InboundOut(
        action=outcome.action,
        subject_id=outcome.subject_id,
        event_id=recorded.event_id if recorded else None,
        position=recorded.position if recorded else None,
        duplicate=recorded.duplicate if recorded else False,
        keyword=outcome.keyword,
        match=outcome.match,
    )
