"""``POST /v1/imports``: a CSV of existing opt-ins and opt-outs, answered with a report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.deps import Ingest, ServicesDep
from api.errors import ApiError
from api.schemas import ErrorOut
from ledger.application.imports import import_rows, parse_csv
from ledger.application.reassigned_numbers import QueryFile, import_results
from ledger.runtime.collector import collection_paused

router = APIRouter(prefix="/v1/imports", tags=["imports"])

MAX_REJECTIONS_SHOWN = 10_000


@router.post(
    "",
    responses={422: {"model": ErrorOut}},
    summary="Import a CSV (text/csv body): rows recorded in batches, bad rows reported",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_csv(request: Request, principal: Ingest, services: ServicesDep) -> dict[str, Any]:
    text = await csv_text(request)

    def run() -> dict[str, Any]:
        # The whole file is read and checked before anything is stored: a file that cannot
        # be read on (at row 1,003, say) is refused whole, naming the row and column.
        with collection_paused():  # every row lives until the import ends
            rows = list(
                parse_csv(
                    text.splitlines(keepends=True),
                    tenant=principal.tenant,
                    recorded_by=principal.key_id,
                )
            )
        report = import_rows(services.ledger, rows, tenant=principal.tenant)
        return report.as_dict(max_rejections=MAX_REJECTIONS_SHOWN)

    return await run_in_threadpool(run)


@router.post(
    "/reassigned-numbers",
    responses={422: {"model": ErrorOut}},
    summary="Import a reassigned-numbers query's answers (text/csv: address, queried_at, "
    "result): each yes records consent_invalidated",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_reassigned_numbers(
    request: Request,
    principal: Ingest,
    services: ServicesDep,
    channel: Annotated[str, Query(description="the channel of rows without a channel column")],
    data_source: Annotated[
        str, Query(description="who answered, e.g. fcc_rnd or a carrier lookup")
    ] = "fcc_rnd",
    reason: Annotated[
        str, Query(description="number_reassigned (default) or number_disconnected")
    ] = "number_reassigned",
) -> dict[str, Any]:
    text = await csv_text(request)
    query = QueryFile(principal.tenant, channel, data_source, principal.key_id, reason)

    def run() -> dict[str, Any]:
        return import_results(services.ledger, text.splitlines(keepends=True), query)

    return await run_in_threadpool(run)


async def csv_text(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("text/csv"):
        raise ApiError(415, "unsupported_media_type", "send the file as text/csv", "Content-Type")
    body = await request.body()
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_csv", "the file is not UTF-8 text", "body") from None
