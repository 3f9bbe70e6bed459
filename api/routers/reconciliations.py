"""``POST /v1/reconciliations/{gateway}``: compare a gateway's opt-out list with the
ledger (admin). The body is the gateway's exported list as text/csv with an ``address``
column; the answer is the drift report (``api/reconciliation.py``). With
``record=true`` each opt-out the ledger missed is recorded as a gateway opt-out, through
the tenant's burst guard.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import Admin, ServicesDep
from api.gateways.services import GatewaysDep
from api.reconciliation import GatewayList, check_list, read_addresses, reconcile
from api.routers.campaigns import queries_for
from api.routers.imports import csv_text
from api.schemas import ErrorOut
from ledger.domain.times import format_time, utc_now

router = APIRouter(prefix="/v1/reconciliations", tags=["reconciliations"])


@router.post(
    "/{gateway}",
    responses={422: {"model": ErrorOut}},
    summary="Compare a gateway's opt-out list (text/csv, an address column) with the ledger",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def reconcile_list(
    gateway: str,
    request: Request,
    principal: Admin,
    services: ServicesDep,
    gateways: GatewaysDep,
    channel: Annotated[str, Query(description="the channel the list is for: sms, whatsapp")],
    record: Annotated[
        bool, Query(description="record the opt-outs the ledger missed (through the burst guard)")
    ] = False,
    list_id: Annotated[
        str | None,
        Query(description="names this export; the same list recorded twice records once"),
    ] = None,
    after: Annotated[int | None, Query(ge=0, description="wait for this ledger position")] = None,
) -> dict[str, Any]:
    text = await csv_text(request)
    listed = check_list(
        GatewayList(
            principal.tenant,
            channel,
            gateway,
            list_id or format_time(utc_now())[:10],
            principal.key_id,
        )
    )

    def run() -> dict[str, Any]:
        queries, position = queries_for(services, after)
        rows = read_addresses(text.splitlines(keepends=True))
        report = reconcile(queries, gateways.signals, listed, rows, record=record)
        return {**report.as_dict(), "position": position}

    return await run_in_threadpool(run)
