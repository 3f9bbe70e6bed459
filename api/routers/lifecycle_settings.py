"""``/v1/tenants/{tenant}/lapse-policy``: how long a grant stays in force without renewal;
``/v1/tenants/{tenant}/burst-guard``: when a spike of gateway opt-outs is held for review.

Admin keys of the tenant itself only; every change is a settings event in the ledger's
log, like the tenant's other settings.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Admin
from api.errors import ApiError
from api.gateways.services import GatewaysDep
from api.schemas import ErrorOut, Input
from api.text_fields import Text
from ledger.domain.roles import Principal

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

ERRORS: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class LapsePolicyIn(Input):
    months: dict[Annotated[Text, Field(max_length=64)], int] = Field(
        description="purpose -> months (1-120) a grant stays in force after the last grant "
        "or renewal; purposes not named never lapse (PUT replaces the policy)",
        examples=[{"marketing": 18}],
    )


class LapsePolicyOut(BaseModel):
    months: dict[str, int]
    version: int = Field(description="the settings version the policy is in")


def _own(principal: Principal, tenant: str) -> None:
    if principal.tenant != tenant:
        raise ApiError(403, "forbidden", "a key manages its own tenant only", "tenant")


@router.get(
    "/{tenant}/lapse-policy",
    response_model=LapsePolicyOut,
    responses=ERRORS,
    summary="Months a grant of each purpose stays in force without a renewal",
)
def get_lapse_policy(tenant: str, principal: Admin, gateways: GatewaysDep) -> LapsePolicyOut:
    _own(principal, tenant)
    settings = gateways.tenants.settings(tenant)
    return LapsePolicyOut(months=dict(settings.lapse_months), version=settings.version)


@router.put(
    "/{tenant}/lapse-policy",
    response_model=LapsePolicyOut,
    responses=ERRORS,
    summary="Replace the lapse policy (consent-ledger expire records consent_lapsed)",
)
def put_lapse_policy(
    tenant: str, body: LapsePolicyIn, principal: Admin, gateways: GatewaysDep
) -> LapsePolicyOut:
    _own(principal, tenant)
    gateways.tenants.change_lapse_policy(tenant, body.months, changed_by=principal.key_id)
    settings = gateways.tenants.settings(tenant)
    return LapsePolicyOut(months=dict(settings.lapse_months), version=settings.version)


class BurstGuardIn(Input):
    enabled: bool = True
    max_opt_outs: int = Field(
        description="gateway opt-outs within the window before the next ones are held"
    )
    window_seconds: int = Field(description="the window, in seconds (1-604800)")


class BurstGuardOut(BaseModel):
    enabled: bool
    max_opt_outs: int
    window_seconds: int
    version: int = Field(description="the settings version the guard is in")


def _guard_out(gateways: GatewaysDep, tenant: str) -> BurstGuardOut:
    settings = gateways.tenants.settings(tenant)
    return BurstGuardOut(**settings.burst_guard.to_dict(), version=settings.version)


@router.get(
    "/{tenant}/burst-guard",
    response_model=BurstGuardOut,
    responses=ERRORS,
    summary="When a spike of gateway opt-outs is held for review (default 500 in 10 min)",
)
def get_burst_guard(tenant: str, principal: Admin, gateways: GatewaysDep) -> BurstGuardOut:
    _own(principal, tenant)
    return _guard_out(gateways, tenant)


@router.put(
    "/{tenant}/burst-guard",
    response_model=BurstGuardOut,
    responses=ERRORS,
    summary="Change the burst guard (enabled false: every gateway opt-out is recorded)",
)
def put_burst_guard(
    tenant: str, body: BurstGuardIn, principal: Admin, gateways: GatewaysDep
) -> BurstGuardOut:
    _own(principal, tenant)
    gateways.tenants.change_burst_guard(
        tenant,
        enabled=body.enabled,
        max_opt_outs=body.max_opt_outs,
        window_seconds=body.window_seconds,
        changed_by=principal.key_id,
    )
    return _guard_out(gateways, tenant)
