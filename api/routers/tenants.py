"""``/v1/tenants/{tenant}``: gateway settings, keyword rules, reply texts, request window.

Admin keys of the tenant itself only. Every change is an event in the ledger's log;
secrets go to their own store and are never returned.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from api.deps import Admin, Auditor
from api.errors import ApiError
from api.gateways.services import GatewaysDep
from api.schemas import ErrorOut
from api.tenant_schemas import (
    CaptureMethodsIn,
    FirstMessageRequestIn,
    KeywordsIn,
    RequestWindowIn,
    TenantHistoryOut,
    TenantSettingsOut,
    TextsIn,
    settings_out,
)
from api.text_fields import Text
from ledger.domain.keywords import KeywordRules
from ledger.domain.roles import Principal
from ledger.domain.tenants.buttons import parse_buttons
from ledger.domain.tenants.first_message import parse_first_message_request
from ledger.domain.tenants.gateways import parse_gateway

# A gateway setting or secret (a token, an app secret, a URL).
GatewaySetting = Annotated[Text, Field(max_length=2048)]

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


def _own(principal: Principal, tenant: str) -> None:
    if principal.tenant != tenant:
        raise ApiError(403, "forbidden", "a key manages its own tenant only", "tenant")


@router.get(
    "/{tenant}", response_model=TenantSettingsOut, responses=ERRORS, summary="Current settings"
)
def get_settings(tenant: str, principal: Admin, gateways: GatewaysDep) -> TenantSettingsOut:
    _own(principal, tenant)
    return settings_out(gateways.tenants.settings(tenant))


@router.get(
    "/{tenant}/history",
    response_model=TenantHistoryOut,
    responses=ERRORS,
    summary="Every settings change, hash-chained: which rules were in force when",
)
def get_history(tenant: str, principal: Auditor, gateways: GatewaysDep) -> TenantHistoryOut:
    _own(principal, tenant)
    events = [
        {**entry.document, "position": entry.position, "hash": entry.hash}
        for entry in gateways.tenants.history(tenant)
    ]
    return TenantHistoryOut(tenant=tenant, events=events)


@router.put(
    "/{tenant}/gateways/{gateway}",
    response_model=TenantSettingsOut,
    responses=ERRORS,
    summary="Configure a gateway: whatsapp {app_secret, verify_token, phone_number_id}, "
    "twilio {auth_token, webhook_url}, gupshup {app_name, token}",
)
def put_gateway(
    tenant: str,
    gateway: str,
    body: dict[Text, GatewaySetting],
    principal: Admin,
    gateways: GatewaysDep,
) -> TenantSettingsOut:
    _own(principal, tenant)
    which = parse_gateway(gateway)
    gateways.tenants.configure_gateway(tenant, which, body, changed_by=principal.key_id)
    return settings_out(gateways.tenants.settings(tenant))


@router.put(
    "/{tenant}/keywords",
    response_model=TenantSettingsOut,
    responses=ERRORS,
    summary="Replace the keyword rules, button payload ids and opt-in purposes",
)
def put_keywords(
    tenant: str, body: KeywordsIn, principal: Admin, gateways: GatewaysDep
) -> TenantSettingsOut:
    _own(principal, tenant)
    rules = body.model_dump(exclude_none=True, exclude={"buttons", "opt_in_purposes"})
    buttons = {k: v if isinstance(v, str) else v.model_dump() for k, v in body.buttons.items()}
    gateways.tenants.change_keywords(
        tenant,
        KeywordRules.from_dict(rules),
        parse_buttons(buttons),
        tuple(body.opt_in_purposes),
        changed_by=principal.key_id,
    )
    return settings_out(gateways.tenants.settings(tenant))


@router.put(
    "/{tenant}/texts",
    response_model=TenantSettingsOut,
    responses=ERRORS,
    summary="Set confirmation, rejection and help texts (empty: send nothing)",
)
def put_texts(
    tenant: str, body: TextsIn, principal: Admin, gateways: GatewaysDep
) -> TenantSettingsOut:
    _own(principal, tenant)
    gateways.tenants.change_texts(
        tenant, body.model_dump(exclude_none=True), changed_by=principal.key_id
    )
    return settings_out(gateways.tenants.settings(tenant))


@router.put(
    "/{tenant}/request-window",
    response_model=TenantSettingsOut,
    responses=ERRORS,
    summary="How long an opt-in request stays pending",
)
def put_request_window(
    tenant: str, body: RequestWindowIn, principal: Admin, gateways: GatewaysDep
) -> TenantSettingsOut:
    _own(principal, tenant)
    gateways.tenants.change_request_window(
        tenant, timedelta(seconds=body.seconds), changed_by=principal.key_id
    )
    return settings_out(gateways.tenants.settings(tenant))


@router.put(
    "/{tenant}/first-message-request",
    response_model=TenantSettingsOut,
    responses=ERRORS,
    summary="Ask on first message: the opt-in request a new subject's unmatched first "
    "message gets (off by default)",
)
def put_first_message_request(
    tenant: str, body: FirstMessageRequestIn, principal: Admin, gateways: GatewaysDep
) -> TenantSettingsOut:
    _own(principal, tenant)
    ask = (
        parse_first_message_request(
            purposes=body.purposes,
            template=body.template.model_dump() if body.template else None,
            business_name=body.business_name,
        )
        if body.enabled
        else None
    )
    gateways.tenants.change_first_message_request(tenant, ask, changed_by=principal.key_id)
    return settings_out(gateways.tenants.settings(tenant))


@router.put(
    "/{tenant}/capture-methods",
    response_model=TenantSettingsOut,
    responses=ERRORS,
    summary="The tenant's own capture methods, beside the built-in ones (PUT replaces them)",
)
def put_capture_methods(
    tenant: str, body: CaptureMethodsIn, principal: Admin, gateways: GatewaysDep
) -> TenantSettingsOut:
    _own(principal, tenant)
    gateways.tenants.change_capture_methods(tenant, body.methods, changed_by=principal.key_id)
    return settings_out(gateways.tenants.settings(tenant))
