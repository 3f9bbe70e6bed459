"""Campaign targeting: eligibility checks, audiences and suppression lists (campaign role).

Every answer streams in bounded chunks from the ``consent_status`` read model, so memory
stays flat whatever the size. ``X-Ledger-Position`` says how far the read model had
applied the ledger when the answer began; ``?after=<position>`` first waits until it has
applied at least that position (e.g. the position an opt-out was recorded at).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from api.deps import Campaign, ServicesDep
from api.errors import ApiError
from api.openapi_rules import ADDRESS, CHANNEL, PURPOSE
from api.schemas import MAX_POSITION, ErrorOut, Input
from api.services import Services
from api.streaming import chosen_format, stream_rows
from api.text_fields import Text
from ledger.domain.addresses import parse_channel
from ledger.domain.errors import InvalidInput
from ledger.domain.lapses import add_months
from ledger.domain.times import format_time
from ledger.domain.validation import check_purposes
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.queries import AudienceRow, ConsentQueries, PageCursor

router = APIRouter(tags=["campaigns"])

MAX_ADDRESSES = 100_000
MAX_PAGE = 50_000
After = Annotated[
    int | None,
    Query(
        ge=0, le=MAX_POSITION, description="wait until the read model applied this ledger position"
    ),
]
Format = Annotated[str | None, Query(description="ndjson (default) or csv; or send Accept")]
Limit = Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="one page of at most N rows")]
SenderParam = Annotated[
    str | None,
    Query(
        max_length=200,
        description="the business sender the campaign goes out from: an opt-out scoped to "
        "it counts (unset: an opt-out scoped to any sender counts)",
    ),
]
CursorParam = Annotated[
    str | None, Query(alias="cursor", description="X-Next-Cursor of the page before")
]


class EligibilityIn(Input):
    channel: Text = Field(json_schema_extra=CHANNEL)
    purpose: Text = Field(json_schema_extra=PURPOSE)
    addresses: list[Annotated[Text, Field(json_schema_extra=ADDRESS)]] = Field(
        min_length=1, max_length=MAX_ADDRESSES
    )
    sender: Text | None = Field(
        default=None,
        max_length=200,
        description="the sender the campaign goes out from (see the audiences' sender)",
    )


def queries_for(services: Services, after: int | None) -> tuple[ConsentQueries, int]:
    view = services.consent_status
    if not isinstance(view, ConsentStatusProjection):
        raise RuntimeError("the consent_status read model is not available in this process")
    services.wait_for(after)
    return ConsentQueries(view.model), view.applied_position()


def checked_target(channel: str, purpose: str) -> tuple[str, str]:
    parsed = parse_channel(channel).value
    try:
        return parsed, check_purposes([purpose])[0]
    except InvalidInput as error:
        error.field = "purpose"
        raise


@router.post(
    "/v1/eligibility",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}, 422: {"model": ErrorOut}},
    summary="Eligibility of up to 100,000 addresses, streamed as NDJSON in request order",
)
def eligibility(
    body: EligibilityIn, principal: Campaign, services: ServicesDep, after: After = None
) -> StreamingResponse:
    channel, purpose = checked_target(body.channel, body.purpose)
    queries, position = queries_for(services, after)
    # A grant lapses this many months after it was given or renewed (None: never).
    months = services.ledger.policy_for(principal.tenant).lapse_months.get(purpose)

    def rows() -> Iterator[dict[str, Any]]:
        for answer in queries.eligibility(
            principal.tenant, channel, purpose, body.addresses, body.sender
        ):
            since = answer.since if answer.eligible else None
            lapses = add_months(since, months) if months and since else None
            yield {
                "address": answer.address,
                "eligible": answer.eligible,
                "reason": answer.reason.value,
                "since": format_time(answer.since) if answer.since else None,
                "method": answer.method,
                "keyword": answer.keyword,
                "lapses_at": format_time(lapses) if lapses else None,
            }

    columns = ["address", "eligible", "reason", "since", "method", "keyword", "lapses_at"]
    headers = {"X-Ledger-Position": str(position)}
    return stream_rows(rows(), columns, "application/x-ndjson", headers)


def _export(
    found: Iterator[AudienceRow],
    limit: int | None,
    position: int,
    columns: list[str],
    media_type: str,
) -> StreamingResponse:
    """The whole stream, or a bounded page with X-Next-Cursor when more may follow."""
    headers = {"X-Ledger-Position": str(position)}
    rows: Iterator[AudienceRow] | list[AudienceRow] = found
    if limit is not None:
        page = list(found)
        if len(page) == limit:
            headers["X-Next-Cursor"] = PageCursor(page[-1].subject_id, page[-1].purpose).encode()
        rows = page
    return stream_rows((_row(r) for r in rows), columns, media_type, headers)


def _cursor(text: str | None) -> PageCursor | None:
    if text is None:
        return None
    try:
        return PageCursor.decode(text)
    except ValueError:
        raise ApiError(422, "invalid_cursor", "not a cursor this API gave out", "cursor") from None


def _row(row: AudienceRow) -> dict[str, Any]:
    return {
        "address": row.address,
        "subject_id": str(row.subject_id),
        "purpose": row.purpose,
        "status": row.status,
        "since": format_time(row.since),
        "method": row.method,
        "keyword": row.keyword,
        "event_id": str(row.event_id),
    }


@router.get(
    "/v1/audiences/{channel}/{purpose}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
        422: {"model": ErrorOut},
    },
    summary="Every subject opted in to the purpose on the channel (NDJSON or CSV)",
)
def audience(
    request: Request,
    channel: str,
    purpose: str,
    principal: Campaign,
    services: ServicesDep,
    after: After = None,
    format: Format = None,
    cursor: CursorParam = None,
    limit: Limit = None,
    sender: SenderParam = None,
) -> StreamingResponse:
    media_type = chosen_format(request, format)
    channel, checked = checked_target(channel, purpose)
    queries, position = queries_for(services, after)
    found = queries.audience(
        principal.tenant, channel, checked, after=_cursor(cursor), limit=limit, sender=sender
    )
    columns = ["address", "subject_id", "since", "method", "keyword", "event_id"]
    return _export(found, limit, position, columns, media_type)


@router.get(
    "/v1/audiences/{channel}/{purpose}/count",
    responses={422: {"model": ErrorOut}},
    summary="How many subjects are opted in to the purpose on the channel",
)
def audience_count(
    channel: str,
    purpose: str,
    principal: Campaign,
    services: ServicesDep,
    after: After = None,
    sender: SenderParam = None,
) -> dict[str, Any]:
    channel, checked = checked_target(channel, purpose)
    queries, position = queries_for(services, after)
    count = queries.audience_count(principal.tenant, channel, checked, sender)
    return {"channel": channel, "purpose": checked, "count": count, "position": position}


@router.get(
    "/v1/suppressions/{channel}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
        422: {"model": ErrorOut},
    },
    summary="Everyone opted out on the channel, with when and how (purpose * = everything); "
    "erased subjects as status erased, without an address; reassigned or disconnected "
    "numbers as invalidated, gateway opt-outs under review as held",
)
def suppressions(
    request: Request,
    channel: str,
    principal: Campaign,
    services: ServicesDep,
    after: After = None,
    format: Format = None,
    cursor: CursorParam = None,
    limit: Limit = None,
    sender: SenderParam = None,
) -> StreamingResponse:
    media_type = chosen_format(request, format)
    channel = parse_channel(channel).value
    queries, position = queries_for(services, after)
    found = queries.suppressions(
        principal.tenant, channel, after=_cursor(cursor), limit=limit, sender=sender
    )
    columns = [
        "address", "subject_id", "purpose", "since", "method", "keyword", "event_id", "status"
    ]  # fmt: skip
    return _export(found, limit, position, columns, media_type)
