"""``/p/{token}``: the person's own preference page. No API key: the signed token names
one subject of one tenant and is the only capability (it also guards the forms against
cross-site posts: a forger would need it). Withdrawing a purpose, or all, is one button;
opting back in is offered where the link allows it. Every change is an ordinary ledger
event with method ``preference_page`` and the page version as its notice. Works without
JavaScript; rate-limited per client address; the token never reaches a log line (the
request log writes the route template ``/p/{token}``)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.console.pages_render import render
from api.console.preference_tokens import BadToken, PreferenceLink, open_token
from api.console.preference_view import ALL, preference_view
from api.console.state import console_state
from api.deps import ServicesDep
from api.services import Services
from ledger.domain.commands import CaptureMethod, Evidence, Notice, RecordConsent, Source
from ledger.domain.errors import LedgerError

router = APIRouter(prefix="/p", tags=["preference page"], include_in_schema=False)

PAGE_VERSION = "1"
NOTICE_ID = "preference-page"
DONE = {
    "withdrawn": "Done: you will no longer get these messages.",
    "opted_in": "Done: you opted back in.",
}


def _refused(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "preference_refused.html", {"message": message}, status_code=status)


def _open(request: Request, token: str) -> PreferenceLink | HTMLResponse:
    state = console_state(request)
    client = request.client.host if request.client else "unknown"
    if not state.preference_rate.allow(client):
        return _refused(request, 429, "Too many requests: wait a minute and try again.")
    if state.preference_secret is None:
        return _refused(request, 404, "This page is not available.")
    try:
        return open_token(state.preference_secret, token, datetime.now(UTC))
    except BadToken:
        return _refused(request, 404, "This link is not valid or has expired.")


@router.get("/{token}", response_class=HTMLResponse)
def preference_page(
    request: Request, token: str, services: ServicesDep, done: str | None = None
) -> Response:
    link = _open(request, token)
    if isinstance(link, HTMLResponse):
        return link
    view = preference_view(services, link)
    return render(
        request,
        "preference.html",
        {
            "view": view,
            "token": token,
            "done": DONE.get(done or ""),
            "submission": secrets.token_urlsafe(12),
        },
    )


def _wording(action: str, purpose: str, business: str) -> str:
    if action == "opt_in":
        return f"Yes, send me {purpose} messages from {business}."
    if purpose == ALL:
        return f"Stop all messages from {business}."
    return f"Stop sending me {purpose} messages from {business}."


def _command(
    services: Services,
    link: PreferenceLink,
    request: Request,
    action: str,
    purpose: str,
    submission: str,
) -> RecordConsent:
    view = preference_view(services, link)
    wording = _wording(action, purpose.replace("_", " "), view.business)
    return RecordConsent(
        tenant=link.tenant,
        channel=link.channel,
        address=link.address,
        type="opted_in" if action == "opt_in" else "opted_out",
        purposes=() if purpose == ALL else (purpose,),
        occurred_at=datetime.now(UTC),
        source=Source(kind="preference_page", id=f"{submission}:{action}:{purpose}"[:128]),
        evidence=Evidence(
            method=CaptureMethod.PREFERENCE_PAGE.value,
            text=wording,
            notice=Notice(NOTICE_ID, PAGE_VERSION, wording),
            business_name=view.business,
            ip=request.client.host if request.client else None,
            user_agent=(request.headers.get("user-agent") or "")[:512] or None,
        ),
    )


@router.post("/{token}", response_class=HTMLResponse)
async def change_preference(
    request: Request,
    token: str,
    services: ServicesDep,
    action: Annotated[Literal["withdraw", "opt_in"], Form()],
    purpose: Annotated[str, Form(max_length=64)],
    submission: Annotated[str, Form(min_length=8, max_length=64)],
) -> Response:
    link = _open(request, token)
    if isinstance(link, HTMLResponse):
        return link
    if action == "opt_in" and purpose not in link.reopt_purposes:
        return _refused(request, 403, f"Opting back in to {purpose} is not offered here.")
    try:
        command = await run_in_threadpool(
            _command, services, link, request, action, purpose, submission
        )
        [recorded] = await services.ledger.record_batch_async([command])
        # The page the person is sent back to shows the change (read your writes).
        await run_in_threadpool(services.wait_for, recorded.position)
    except LedgerError as error:
        return _refused(request, 422, f"{error.field or 'purpose'}: {error}")
    done = "opted_in" if action == "opt_in" else "withdrawn"
    return RedirectResponse(f"/p/{token}?done={done}", status_code=303)
