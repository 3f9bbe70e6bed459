"""``PUT /v1/tenants/{tenant}/opt-out-scope``: what an opt-out sent to one sender withdraws.

``channel`` (the default): consent on the whole channel, as always; ``sender``: consent
for messages from that sender only. Admin keys of the tenant itself; the change is a
settings event in the ledger, so an audit shows which scope was in force when.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Admin
from api.errors import ApiError
from api.gateways.services import GatewaysDep
from api.schemas import ErrorOut
from api.tenant_schemas import TenantSettingsOut, settings_out
from api.text_fields import Text

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])

ERRORS: dict[int | str, dict[str, Any]] = {403: {"model": ErrorOut}, 422: {"model": ErrorOut}}


class OptOutScopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Text = Field(
        max_length=64, description="channel (default) or sender", examples=["sender"]
    )


@router.put(
    "/{tenant}/opt-out-scope",
    response_model=TenantSettingsOut,
    responses=ERRORS,
    summary="Whether an opt-out sent to one sender withdraws consent from that sender only "
    "or from the whole channel (default)",
)
def put_opt_out_scope(
    tenant: str, body: OptOutScopeIn, principal: Admin, gateways: GatewaysDep
) -> TenantSettingsOut:
    if principal.tenant != tenant:
        raise ApiError(403, "forbidden", "a key manages its own tenant only", "tenant")
    gateways.tenants.change_opt_out_scope(tenant, body.scope, changed_by=principal.key_id)
    return settings_out(gateways.tenants.settings(tenant))
