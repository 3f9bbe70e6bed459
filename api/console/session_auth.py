"""Who is signed in to the console, and whether a form came from our own page.

The session cookie is HttpOnly and SameSite=Strict and holds only the session's random
id. Every form carries the session's CSRF token; the sign-in form, which has no session
yet, carries one paired with a short-lived cookie of its own (double submit)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.console.sessions import COOKIE, Session
from api.console.state import console_state
from api.services import Services
from ledger.domain.roles import Role
from ledger.persistence.console_sessions import ConsoleSessionTable

SIGNIN_COOKIE = "consent_console_signin"
SIGNIN_PATH = "/console/signin"
CONSOLE_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})


def session_table(request: Request) -> ConsoleSessionTable:
    services: Services = request.app.state.services
    return console_state(request).sessions.bind(services.ledger.store)


def current_session(request: Request) -> Session | None:
    """The signed-in session, while its API key is not revoked (database reads: call it
    off the event loop)."""
    sessions, table = console_state(request).sessions, session_table(request)
    session = sessions.get(table, request.cookies.get(COOKIE))
    if session is None:
        return None
    services: Services = request.app.state.services
    if not services.access.is_active(session.principal.key_id):
        sessions.close(table, session.id)  # the key was revoked: so is the session
        return None
    return session


def to_signin() -> RedirectResponse:
    return RedirectResponse(SIGNIN_PATH, status_code=303)


def set_cookie(request: Request, response: Response, name: str, value: str, seconds: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=console_state(request).settings.secure_cookie,
    )


def new_signin_token() -> str:
    return secrets.token_urlsafe(32)


def signin_token_ok(request: Request, presented: str | None) -> bool:
    expected = request.cookies.get(SIGNIN_COOKIE)
    return bool(expected and presented and hmac.compare_digest(expected, presented))
