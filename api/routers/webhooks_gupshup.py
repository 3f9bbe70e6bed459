"""``POST /v1/webhooks/gupshup/{tenant}``: Gupshup user events and inbound messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.gateways import gupshup
from api.gateways.services import GatewaysDep
from api.gateways.webhook import WEBHOOK_RESPONSES, answer, configured, json_body, refuse_token
from ledger.domain.tenants.gateways import Gateway

router = APIRouter(prefix="/v1/webhooks/gupshup", tags=["webhooks"])


@router.post(
    "/{tenant}",
    responses=WEBHOOK_RESPONSES,
    summary="User events (opted-in/opted-out) and inbound messages; token-authenticated",
)
async def receive(
    tenant: str,
    request: Request,
    gateways: GatewaysDep,
    authorization: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query()] = None,
) -> Response:
    config, secrets = await run_in_threadpool(
        configured, gateways, tenant, Gateway.GUPSHUP, refuse_token()
    )
    if not gupshup.token_valid(secrets["token"], authorization, token):
        raise refuse_token()
    payload = json_body(await request.body())
    item = gupshup.parse(tenant, payload, config.settings["app_name"])
    report = await run_in_threadpool(gateways.intake.accept, gupshup.GATEWAY, tenant, [item])
    # Gupshup wants a 2xx with an empty body (docs.gupshup.io/docs/webhook-key-points).
    return answer(report, Response(status_code=200))
