"""``GET|POST /v1/webhooks/whatsapp/{tenant}``: Meta's WhatsApp Cloud API webhook."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.gateways import whatsapp
from api.gateways.services import GatewaysDep
from api.gateways.webhook import (
    WEBHOOK_RESPONSES,
    answer,
    configured,
    json_body,
    refuse_signature,
    refuse_verify_token,
)
from api.schemas import ErrorOut
from ledger.domain.tenants.gateways import Gateway

router = APIRouter(prefix="/v1/webhooks/whatsapp", tags=["webhooks"])


@router.get(
    "/{tenant}",
    response_class=PlainTextResponse,
    responses={403: {"model": ErrorOut}},
    summary="The subscription handshake: echoes hub.challenge for the right verify token",
)
async def handshake(
    tenant: str,
    gateways: GatewaysDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    _, secrets = await run_in_threadpool(
        configured, gateways, tenant, Gateway.WHATSAPP, refuse_verify_token()
    )
    expected = secrets["verify_token"].encode("utf-8")
    if (
        mode != "subscribe"
        or token is None
        or not hmac.compare_digest(token.encode("utf-8"), expected)
    ):
        raise refuse_verify_token()
    return PlainTextResponse(challenge or "")


@router.post(
    "/{tenant}",
    responses=WEBHOOK_RESPONSES,
    summary="Messages, statuses and user preferences, signed with X-Hub-Signature-256",
)
async def receive(
    tenant: str,
    request: Request,
    gateways: GatewaysDep,
    signature: Annotated[str | None, Header(alias=whatsapp.SIGNATURE_HEADER)] = None,
) -> Response:
    config, secrets = await run_in_threadpool(
        configured, gateways, tenant, Gateway.WHATSAPP, refuse_signature(whatsapp.SIGNATURE_HEADER)
    )
    raw = await request.body()
    if not whatsapp.signature_valid(secrets["app_secret"], raw, signature):
        raise refuse_signature(whatsapp.SIGNATURE_HEADER)
    items = whatsapp.parse(tenant, json_body(raw), config.settings["phone_number_id"])
    report = await run_in_threadpool(gateways.intake.accept, whatsapp.GATEWAY, tenant, items)
    return answer(report)
