"""The HTTP/1.1 protocol ``serve`` runs: uvicorn's (httptools) with bounds on what a
connection may hold.

uvicorn bounds neither the size of a request head nor how long a client may take to send
it or its body: a client writing one byte a second, or heads of megabytes, held a
connection (and its memory) for as long as it liked. Here:

- a request head (request line and headers) larger than ``CONSENT_LEDGER_MAX_HEADER_BYTES``
  is answered ``431`` and the connection closed;
- a head not complete within ``CONSENT_LEDGER_HEADER_TIMEOUT_SECONDS`` of the connection
  (or of the request's first byte) closes the connection, and so does a body not complete
  within ``CONSENT_LEDGER_BODY_TIMEOUT_SECONDS`` of its head, whether or not the route
  reads it;
- a worker holds at most ``CONSENT_LEDGER_MAX_CONNECTIONS`` connections: one more is closed
  at once.

Each is counted in ``consent_ledger_limit_refusals_total{limit=…}``.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.serve_settings import ServeSettings
from ledger.runtime.limit_metrics import LIMIT_REFUSALS

log = logging.getLogger("api.connections")

REASONS = {400: "Bad Request", 431: "Request Header Fields Too Large"}
# How long a refused connection's remaining input is read and dropped before closing.
LINGER_SECONDS = 1.0


@functools.cache
def _settings() -> ServeSettings:
    """This worker's settings (from the environment ``serve`` passes on), read once."""
    return ServeSettings()


class BoundedHttpProtocol(HttpToolsProtocol):
    _deadline: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _refusal: tuple[int, str, str] | None = None
    _discarding = False

    @property
    def _limits(self) -> ServeSettings:
        return _settings()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._limits.max_connections:
            self._drop("max_connections")
            return
        self._arm(self._limits.header_timeout_seconds, "header_timeout")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        if self._deadline is None:
            self._arm(self._limits.header_timeout_seconds, "header_timeout")

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._arm(self._limits.body_timeout_seconds, "body_timeout")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """The parser's refusals, in the API's error shape: a head past the limit (431),
        or a request that is not HTTP (400: an unknown method, a broken request line)."""
        if self._refusal is not None:
            status, code, reason = self._refusal
        else:
            status, code, reason = 400, "malformed_request", "the request is not valid HTTP/1.1"
        body = f'{{"error":{{"code":"{code}","message":"{reason}","field":null}}}}'.encode()
        self.transport.write(
            f"HTTP/1.1 {status} {REASONS[status]}\r\n".encode()
            + b"content-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n".encode()
            + b"connection: close\r\n\r\n"
            + body
        )
        # A lingering close: closing at once with the rest of the head unread would reset
        # the connection and lose the answer. Stop sending, discard what still comes for
        # a moment, then close.
        self._discarding = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if not self._discarding:
            super().data_received(data)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        limit = self._limits.max_header_bytes
        if self._head_bytes > limit and self._refusal is None:
            LIMIT_REFUSALS.labels(limit="max_header_bytes").inc()
            reason = f"the request line and headers exceed {limit} bytes"
            self._refusal = (431, "headers_too_large", reason)
            raise ValueError(reason)  # the parser stops; send_400_response answers

    def _arm(self, seconds: float, limit: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._drop, limit)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _drop(self, limit: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        LIMIT_REFUSALS.labels(limit=limit).inc()
        log.warning("connection dropped", extra={"limit": limit})
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()
