"""``GET /v1/outbound``: the messages to send, for a sender that pulls (no Kafka needed).

On the embedded default there is no ``consent.outbound`` topic; the business's sender
polls this endpoint instead, passing the last ``next_after`` it got. Messages of
subjects erased meanwhile are skipped. Delivery is at-least-once: a sender dedupes by
the message ``id``.
"""

from __future__ import annotations

from typing import Annotated

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import Ingest, ServicesDep
from api.gateway_schemas import OutboundOut
from api.schemas import MAX_POSITION, ErrorOut
from ledger.application.outbound.delivery import deliverable
from ledger.domain.errors import DatabaseAway

router = APIRouter(prefix="/v1/outbound", tags=["outbound"])


@router.get(
    "",
    response_model=OutboundOut,
    responses={422: {"model": ErrorOut}},
    summary="Messages the gateways must send (opt-in requests, confirmations, help replies)",
)
async def pull(
    principal: Ingest,
    services: ServicesDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="the last outbox id already handled")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OutboundOut:
    def read() -> OutboundOut:
        try:
            rows = services.ledger.store.select_outbox(
                after=after, limit=limit, tenant=principal.tenant
            )
            messages = [o.document for o in deliverable(services.ledger, rows) if o.document]
        except PersistenceError as exc:
            raise DatabaseAway("the ledger database is unavailable; retry") from exc
        return OutboundOut(messages=messages, next_after=rows[-1].id if rows else after)

    return await run_in_threadpool(read)
