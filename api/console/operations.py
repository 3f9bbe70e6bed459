"""``/console/operations``: the operator dashboard (admin), and ``GET
/v1/operations/summary`` (admin key), both from ``operations_summary.summarize``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.console.charts import daily_chart, keyword_chart
from api.console.operations_summary import OperationsSummary, summarize
from api.console.pages_render import render
from api.console.session_auth import current_session, to_signin
from api.console.state import console_state
from api.deps import Admin, ServicesDep
from api.readiness import Readiness
from api.schemas import ErrorOut
from api.services import Services
from ledger.domain.roles import Role
from ledger.domain.times import format_time

router = APIRouter(tags=["operations"])


async def _summary(request: Request, services: Services, tenant: str) -> OperationsSummary:
    state = console_state(request)
    readiness: Readiness = request.app.state.readiness
    return await run_in_threadpool(
        summarize, services, readiness, tenant, state.settings.events_topic, state.opened
    )


@router.get(
    "/v1/operations/summary",
    response_model=OperationsSummary,
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}},
    summary="The operator dashboard's figures: daily opt-ins/outs, lag, publisher, checkpoint",
)
async def operations_summary(
    request: Request, principal: Admin, services: ServicesDep
) -> OperationsSummary:
    return await _summary(request, services, principal.tenant)


@router.get("/console/operations", response_class=HTMLResponse, include_in_schema=False)
async def operations_page(request: Request, services: ServicesDep) -> Response:
    session = await run_in_threadpool(current_session, request)
    if session is None:
        return to_signin()
    if Role.ADMIN not in session.principal.roles:
        return render(
            request,
            "forbidden.html",
            {"session": session, "message": "The operations dashboard needs an admin key."},
            status_code=403,
        )
    summary = await _summary(request, services, session.principal.tenant)
    return render(
        request,
        "operations.html",
        {
            "session": session,
            "is_admin": True,
            "summary": summary,
            "daily": daily_chart(summary.daily),
            "keywords": keyword_chart(summary.daily),
            "refresh": console_state(request).settings.operations_refresh_seconds,
            "generated": format_time(datetime.now(UTC)),
        },
    )
