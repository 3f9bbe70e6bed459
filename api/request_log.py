"""A pure ASGI middleware: the body-size limit, request metrics and one log line each.

The body limit holds whether or not the request says its size: a ``Content-Length``
above it is refused before anything is read, and a body sent without one (chunked) is
counted as it streams in and refused as soon as it passes the limit
(``BodyTooLarge``, a 413), never read whole first.

(Starlette's ``@app.middleware("http")`` wraps every response in a task group and a
memory stream, which cost more CPU than the ledger's own work per inbound message.)
"""

from __future__ import annotations

import logging
import time

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from ledger.runtime.limit_metrics import LIMIT_REFUSALS
from ledger.runtime.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("api.requests")


class BodyTooLarge(HTTPException):
    """Raised by ``receive`` when a streamed body passes the limit (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body exceeds {limit} bytes")


class RequestLog:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        limit = self.max_body_bytes
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    LIMIT_REFUSALS.labels(limit="max_body_bytes").inc()
                    raise BodyTooLarge(limit)
            return message

        try:
            if self._too_large(scope):
                LIMIT_REFUSALS.labels(limit="max_body_bytes").inc()
                refusal = JSONResponse(
                    error_body("body_too_large", f"the body exceeds {self.max_body_bytes} bytes"),
                    status_code=413,
                )
                await refusal(scope, receive, watched)
            else:
                await self.app(scope, counted, watched)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _too_large(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return value.isdigit() and int(value) > self.max_body_bytes
        return False

    @staticmethod
    def _record(scope: Scope, status: int, elapsed: float) -> None:
        # The route template, never the raw path: paths carry phone numbers.
        route = str(getattr(scope.get("route"), "path", "unmatched"))
        method = scope["method"]
        HTTP_REQUESTS.labels(route=route, method=method, status=status).inc()
        HTTP_LATENCY.labels(route=route, method=method).observe(elapsed)
        log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )
