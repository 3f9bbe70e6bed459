"""``GET /v1/optin-requests/{request_id}/deliveries``: what the gateway reported of a
request (sent, delivered, read): evidence the person was shown the question; or that it
could not reach them (failed, with the gateway's code and the channel to try instead).

Roles ``ingest`` (the system that sent the request) and ``auditor`` (it is evidence on the
consent request); a ``campaign`` key has no use for it and is refused."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import DeliveryReader
from api.gateway_schemas import DeliveriesOut, DeliveryOut
from api.gateways.services import GatewaysDep
from ledger.domain.times import format_time

router = APIRouter(prefix="/v1/optin-requests", tags=["opt-in requests"])


@router.get(
    "/{request_id}/deliveries",
    response_model=DeliveriesOut,
    summary="Sent, delivered and read reports of an opt-in request",
)
def deliveries(request_id: UUID, principal: DeliveryReader, gateways: GatewaysDep) -> DeliveriesOut:
    found = gateways.signals.deliveries_of(principal.tenant, request_id)
    return DeliveriesOut(
        request_id=request_id,
        deliveries=[
            DeliveryOut(
                status=d.status,
                gateway=d.gateway,
                gateway_message_id=d.gateway_message_id,
                occurred_at=format_time(d.occurred_at),
                recorded_at=format_time(d.recorded_at),
                error_code=d.error_code,
                fallback=d.fallback,
            )
            for d in found
        ],
    )
