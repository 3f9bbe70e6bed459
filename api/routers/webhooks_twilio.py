"""``POST /v1/webhooks/twilio/{tenant}``: Twilio inbound messages and status callbacks."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.gateways import twilio
from api.gateways.services import GatewaysDep
from api.gateways.webhook import WEBHOOK_RESPONSES, answer, configured, refuse_signature
from ledger.domain.tenants.gateways import Gateway

router = APIRouter(prefix="/v1/webhooks/twilio", tags=["webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post(
    "/{tenant}",
    responses=WEBHOOK_RESPONSES,
    summary="Inbound SMS/WhatsApp messages and status callbacks, signed with X-Twilio-Signature",
)
async def receive(
    tenant: str,
    request: Request,
    gateways: GatewaysDep,
    signature: Annotated[str | None, Header(alias=twilio.SIGNATURE_HEADER)] = None,
) -> Response:
    config, secrets = await run_in_threadpool(
        configured, gateways, tenant, Gateway.TWILIO, refuse_signature(twilio.SIGNATURE_HEADER)
    )
    raw = await request.body()
    try:
        params = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        # Twilio signs the form's fields: a body that is not a form cannot carry a valid
        # signature, and answering it apart would tell a configured tenant from an
        # unknown one.
        raise refuse_signature(twilio.SIGNATURE_HEADER) from None
    query = request.url.query
    url = twilio.signed_url(config.settings["webhook_url"], query)
    if not twilio.signature_valid(secrets["auth_token"], url, params, signature):
        raise refuse_signature(twilio.SIGNATURE_HEADER)
    item = twilio.parse(tenant, params, dict(parse_qsl(query)))
    report = await run_in_threadpool(gateways.intake.accept, twilio.GATEWAY, tenant, [item])
    # Twilio expects TwiML; an empty <Response/> sends nothing (replies go via the outbox).
    return answer(report, Response(EMPTY_TWIML, media_type="application/xml"))
