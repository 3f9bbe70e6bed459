"""``POST /v1/optin-requests``: ask a subject for consent."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import Ingest, ServicesDep
from api.schemas import ErrorOut, OptInRequestIn, OptInRequestOut
from ledger.domain.commands import CaptureMethod, Notice, RequestOptIn, Source
from ledger.domain.outbound.ids import OutboundKind, OutboundRef
from ledger.domain.times import format_time
from ledger.domain.validation import BUILT_IN_METHODS

router = APIRouter(prefix="/v1/optin-requests", tags=["opt-in requests"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OptInRequestOut,
    responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
    summary="Record an opt-in request (409 while one is pending inside the window)",
)
def request_opt_in(
    body: OptInRequestIn, principal: Ingest, services: ServicesDep
) -> OptInRequestOut:
    source = Source(kind=body.source.kind, id=body.source.id) if body.source else Source(kind="api")
    # An agent's request ({"source": {"kind": "agent"}}) records method agent, not api.
    method = body.method or (source.kind if source.kind in BUILT_IN_METHODS else CaptureMethod.API)
    requested = services.ledger.request_opt_in(
        RequestOptIn(
            tenant=principal.tenant,
            channel=body.channel,
            address=body.address,
            purposes=tuple(body.purposes),
            template=Notice(body.template.id, body.template.version, body.template.text),
            business_name=body.business_name,
            source=source,
            recorded_by=principal.key_id,
            method=method,
            contact_id=body.contact_id,
        )
    )
    answer, request_id = requested.recorded, requested.request_id
    state = services.ledger.state_of(principal.tenant, body.channel, body.address)
    pending = state.pending
    expires_at = (
        format_time(pending.expires_at) if pending and pending.request_id == request_id else None
    )
    return OptInRequestOut(
        request_id=request_id,
        subject_id=answer.subject_id,
        event_id=answer.event_id,
        position=answer.position,
        expires_at=expires_at,
        duplicate=answer.duplicate,
        outbound_id=OutboundRef(OutboundKind.OPT_IN_REQUEST, answer.subject_id, answer.event_id).id,
    )
