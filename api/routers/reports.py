"""``GET /v1/reports/revocations``: every opt-out of a period, how fast it was honoured,
its confirmations and the first campaign after it, with flags (JSON or CSV; auditor).
Paged in ledger order: at most ``limit`` opt-outs (1,000; up to 10,000), and
``next_cursor`` (or the CSV's ``X-Next-Cursor`` header) when more may follow."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import Auditor, ServicesDep
from api.json_responses import json_response
from api.schemas import ErrorOut
from api.streaming import CSV, stream_rows
from ledger.attestation.revocations import COLUMNS, revocations
from ledger.domain.errors import InvalidInput
from ledger.domain.times import format_time, parse_time

router = APIRouter(prefix="/v1/reports", tags=["reports"])

PAGE = 1_000
MAX_PAGE = 10_000

Time = Annotated[
    str | None, Query(description="RFC 3339; opt-outs recorded in [from, to) by ledger time")
]
Format = Annotated[Literal["json", "csv"], Query(alias="format")]


def parse_moment(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise InvalidInput(
            f"{field} {text!r} is not an RFC 3339 time with a zone offset",
            field=field,
            code="invalid_time",
        ) from None


@router.get(
    "/revocations",
    responses={200: {"content": {"text/csv": {}}}, 422: {"model": ErrorOut}},
    summary="Revocation timeliness: received, effective, confirmed, first campaign after; "
    "flags late, multiple_confirmations, included_after_opt_out",
)
def revocation_report(
    principal: Auditor,
    services: ServicesDep,
    start_text: Annotated[str | None, Query(alias="from")] = None,
    end_text: Annotated[str | None, Query(alias="to")] = None,
    fmt: Format = "json",
    cursor: Annotated[
        int | None, Query(ge=0, description="next_cursor of the page before (a ledger position)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="opt-outs per page")] = PAGE,
) -> Response:
    start, end = parse_moment(start_text, "from"), parse_moment(end_text, "to")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to must be after from", field="to")
    policy = services.compliance.policy_for(principal.tenant)
    found = revocations(
        services.ledger,
        services.campaign_receipts,
        policy,
        principal.tenant,
        start=start,
        end=end,
        after_position=cursor or 0,
    )
    page = list(itertools.islice(found, limit))
    rows = [r.to_json() for r in page]
    next_cursor = str(page[-1].opt_out.position) if len(page) == limit else None
    if fmt == "csv":
        name = f"revocations-{principal.tenant}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if next_cursor is not None:
            headers["X-Next-Cursor"] = next_cursor
        return stream_rows(iter(rows), COLUMNS, CSV, headers)
    body: dict[str, Any] = {
        "tenant": principal.tenant,
        "from": format_time(start) if start else None,
        "to": format_time(end) if end else None,
        "policy": policy.to_dict(),
        "count": len(rows),
        "flagged": sum(1 for row in rows if row["flags"]),
        "revocations": rows,
        "next_cursor": next_cursor,
    }
    return json_response(body)
