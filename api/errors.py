"""One error shape for every 4xx and 5xx: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.domain.errors import (
    DatabaseAway,
    InvalidInput,
    LedgerError,
    NotCaughtUp,
    RequestPending,
    RuleViolation,
    Unavailable,
)
from ledger.domain.times import format_time
from ledger.runtime.metrics import DATABASE_AWAY_ANSWERS

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error raised by the HTTP layer itself (authentication, roles, sizes)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


# An error never echoes a caller's huge input back: messages and field paths are cut.
MAX_MESSAGE = 300
MAX_FIELD = 120


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": _cut(message, MAX_MESSAGE),
            "field": None if field is None else _cut(field, MAX_FIELD),
        }
    }


def _status_of(error: LedgerError) -> int:
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, RuleViolation):
        return 409
    if isinstance(error, NotCaughtUp | Unavailable):
        return 503
    return 400


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("body", "events", 3, "address")`` -> ``events[3].address``; a bad mapping key
    (``("body", "months", <key>, "[key]")``) -> ``months[key]``, never the key itself."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    path = ""
    for index, part in enumerate(parts):
        if part == "[key]":
            path += "[key]"
        elif index + 1 < len(parts) and parts[index + 1] == "[key]":
            continue  # the caller's key: not echoed
        else:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LedgerError)
    async def ledger_error(_: Request, error: LedgerError) -> JSONResponse:
        status = _status_of(error)
        body = error_body(error.code, error.message, error.field)
        headers: dict[str, str] = {}
        if isinstance(error, RequestPending):
            body["retry_after"] = format_time(error.retry_after)
        if status == 503:
            headers["Retry-After"] = "1"
        if isinstance(error, DatabaseAway):
            DATABASE_AWAY_ANSWERS.inc()
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_away(request: Request, error: Exception) -> JSONResponse:
        # A read through the library's pool while the database is away or its pool is
        # still reconnecting: the same 503 the writes answer, never a bare 500.
        log.error("database unavailable", extra={"error": str(error)})
        return await ledger_error(
            request, DatabaseAway("the ledger database is unavailable; try again shortly")
        )

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
        return JSONResponse(
            error_body(error.code, error.message, error.field),
            status_code=error.status,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        field = field_path(tuple(first.get("loc", ())))
        kind = first.get("type", "")
        if kind == "json_invalid" or (
            field == "" and kind in ("model_attributes_type", "dict_type")
        ):
            return JSONResponse(
                error_body(
                    "malformed_json", f"the body is not a valid JSON object: {first.get('msg')}"
                ),
                status_code=400,
            )
        code = {
            "missing": "missing_field",
            "extra_forbidden": "unknown_field",
            "invalid_text": "invalid_text",
            "string_unicode": "invalid_text",
            "string_too_long": "too_long",
        }.get(kind, "invalid_input")
        message = f"{field or 'body'}: {first.get('msg', 'invalid')}"
        if field == "events" and kind == "too_long":
            code = "batch_too_large"
        elif kind == "too_long" and isinstance(first.get("input"), str):
            # A string whose limit pydantic checked after its validator (``Text``).
            code = "too_long"
            limit = first.get("ctx", {}).get("max_length")
            message = f"{field}: longer than {limit} characters"
        return JSONResponse(error_body(code, message, field or None), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        # (FastAPI raises a 400 only when it cannot parse a body: deep nesting and the like.)
        code = {
            400: "malformed_json",
            404: "not_found",
            405: "method_not_allowed",
            413: "body_too_large",
        }.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(error.detail)),
            status_code=error.status_code,
            headers=error.headers,  # e.g. Allow on a 405
        )
