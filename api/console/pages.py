"""``/console``: the auditor console. Sign in and out, find a subject, its timeline and
status (now and as of a date), the bundle (verified in the browser) and downloads.

Every page reads through the same functions as the JSON routes (``subjects``,
``consent_as_of``, ``attestation``), with the session's principal in place of a key."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from api.console.pages_render import render
from api.console.session_auth import (
    CONSOLE_ROLES,
    SIGNIN_COOKIE,
    current_session,
    new_signin_token,
    session_table,
    set_cookie,
    signin_token_ok,
    to_signin,
)
from api.console.sessions import COOKIE
from api.console.state import console_state
from api.console.subject_view import subject_view
from api.deps import ServicesDep
from api.errors import ApiError
from api.routers.attestation import attestation
from ledger.domain.errors import LedgerError
from ledger.domain.roles import Role

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

SIGNIN_SECONDS = 600
CHANNELS = ("whatsapp", "sms")


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> Response:
    token = new_signin_token()
    response = render(request, "signin.html", {"signin_token": token})
    set_cookie(request, response, SIGNIN_COOKIE, token, SIGNIN_SECONDS)
    return response


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request,
    services: ServicesDep,
    api_key: Annotated[str, Form(max_length=512)] = "",
    signin_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    if not signin_token_ok(request, signin_token):
        return render(
            request,
            "signin.html",
            {"error": "The sign-in form expired; try again.", "signin_token": ""},
            status_code=403,
        )
    principal = await run_in_threadpool(services.access.authenticate, api_key.strip())
    error = None
    if principal is None:
        error = "That API key is not valid."
    elif not principal.roles & CONSOLE_ROLES:
        error = "That key has no auditor or admin role."
    if principal is None or error is not None:
        token = new_signin_token()
        response = render(
            request,
            "signin.html",
            {"error": error, "signin_token": token},
            status_code=401 if principal is None else 403,
        )
        set_cookie(request, response, SIGNIN_COOKIE, token, SIGNIN_SECONDS)
        return response
    state = console_state(request)
    session = await run_in_threadpool(state.sessions.open, session_table(request), principal)
    signed_in = RedirectResponse("/console", status_code=303)
    set_cookie(request, signed_in, COOKIE, session.id, state.settings.session_seconds)
    signed_in.delete_cookie(SIGNIN_COOKIE, path="/console")
    return signed_in


@router.post("/signout")
def signout(request: Request, csrf: Annotated[str, Form(max_length=256)] = "") -> Response:
    session = current_session(request)
    if session is not None and session.csrf_ok(csrf):
        console_state(request).sessions.close(session_table(request), session.id)
    response = to_signin()
    response.delete_cookie(COOKIE, path="/console")
    return response


def end_of_day(text: str) -> datetime:
    """A picked date means the status at the end of that day, UTC."""
    return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)


@router.get("", response_class=HTMLResponse)
def console(
    request: Request,
    services: ServicesDep,
    channel: Annotated[str, Query(max_length=32)] = "",
    address: Annotated[str, Query(max_length=64)] = "",
    as_of: Annotated[str, Query(max_length=32)] = "",
    contact: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    session = current_session(request)
    if session is None:
        return to_signin()
    context: dict[str, Any] = {
        "session": session,
        "channels": CHANNELS,
        "channel": channel or "whatsapp",
        "address": address,
        "as_of": as_of,
        "contact": contact,
        "is_admin": Role.ADMIN in session.principal.roles,
    }
    status_code = 200
    if contact:  # every number of one person (the tenant's keyed contact index)
        try:
            subjects = services.ledger.contact_subjects(session.principal.tenant, contact)
            context["contact_subjects"] = [(s.channel.value, s.address) for s in subjects]
        except LedgerError as error:
            status_code = 422
            context["error"] = {"field": error.field or "contact_id", "message": str(error)}
    if address:
        moment = None
        if as_of:
            try:
                moment = end_of_day(as_of)
            except ValueError:
                context["error"] = {"field": "as_of", "message": "Pick a date (YYYY-MM-DD)."}
                return render(request, "console.html", context, status_code=422)
        try:
            context["view"] = subject_view(services, session.principal, channel, address, moment)
        except LedgerError as error:
            status_code = 422
            context["error"] = {"field": error.field or "address", "message": str(error)}
    return render(request, "console.html", context, status_code=status_code)


@router.get("/subjects/{channel}/{address}/attestation")
def download(
    request: Request,
    channel: str,
    address: str,
    services: ServicesDep,
    fmt: Annotated[Literal["json", "csv", "html"], Query(alias="format")] = "json",
    as_of: Annotated[str | None, Query(max_length=40)] = None,
    attachment: bool = False,
) -> Response:
    """The bundle, its CSV or its printable report: the attestation route itself."""
    session = current_session(request)
    if session is None:
        raise ApiError(401, "unauthorized", "sign in to the console first", "session")
    response = attestation(channel, address, session.principal, services, fmt, as_of)
    if fmt == "json" and attachment:
        name = f"attestation-{channel}-{address.lstrip('+')}.json"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
