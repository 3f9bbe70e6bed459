"""The small HTTP server every worker process runs: ``/healthz`` and ``/metrics``.

``/healthz`` is 200 while the worker's main loop keeps beating (``ledger.liveness``) and
503 with the reason once it stalls; ``/metrics`` is the process's Prometheus registry.

Each worker kind listens on a port of its own by default (``DEFAULT_PORTS``), so the
README's processes can share one host; ``CONSENT_LEDGER_METRICS_PORT`` overrides it
(``0``: any free port, for several instances of one kind on a host). A port already taken
is refused with one line naming that variable.
"""

from __future__ import annotations

import errno
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.runtime.liveness import beat, seconds_since_beat

log = logging.getLogger(__name__)

# The default port of each worker kind's /healthz and /metrics: one host runs them all.
DEFAULT_PORTS = {"publish": 9101, "consume": 9102, "expire": 9103, "seal": 9104, "deliver": 9105}
PORT_VARIABLE = "CONSENT_LEDGER_METRICS_PORT"

# An extra part of /healthz: (healthy, what to show under its name).
HealthPart = Callable[[], tuple[bool, dict[str, Any]]]


class WorkerHttpSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    host: str = Field(default="127.0.0.1", alias="CONSENT_LEDGER_METRICS_HOST")
    # Unset: the worker kind's own port (DEFAULT_PORTS); 0: any free port.
    port: int | None = Field(default=None, ge=0, le=65535, alias=PORT_VARIABLE)
    # A worker whose loop has not beaten for this long is unhealthy.
    max_beat_age: float = Field(default=60.0, gt=0, alias="CONSENT_LEDGER_MAX_BEAT_AGE_SECONDS")

    def port_for(self, kind: str) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[kind]


class PortTaken(Exception):
    """The worker's health and metrics port is in use by another process."""


class _Handler(BaseHTTPRequestHandler):
    max_beat_age = 60.0
    parts: dict[str, HealthPart] = {}  # noqa: RUF012 (set per server by start_worker_http)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/metrics":
            self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            return
        if self.path.split("?")[0] == "/healthz":
            age = seconds_since_beat()
            healthy = age is not None and age <= self.max_beat_age
            body: dict[str, Any] = {
                "status": "ok" if healthy else "stalled",
                "seconds_since_beat": None if age is None else round(age, 3),
                "max_beat_age": self.max_beat_age,
            }
            for name, part in self.parts.items():
                ok, detail = part()
                body[name] = {"ok": ok, **detail}
                if not ok and healthy:
                    healthy = False
                    body["status"] = f"{name} failing"
            self._send(200 if healthy else 503, json.dumps(body).encode(), "application/json")
            return
        self._send(404, b'{"error": {"code": "not_found"}}', "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # probes are not worth a log line each


def start_worker_http(
    settings: WorkerHttpSettings, kind: str, parts: dict[str, HealthPart] | None = None
) -> ThreadingHTTPServer:
    """Serve health and metrics on a daemon thread; returns the server to shut it down.

    Raises ``PortTaken`` (with the one line to show) when the port is in use.
    """
    handler = type(
        "WorkerHandler",
        (_Handler,),
        {"max_beat_age": settings.max_beat_age, "parts": dict(parts or {})},
    )
    port = settings.port_for(kind)
    try:
        server = ThreadingHTTPServer((settings.host, port), handler)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise PortTaken(
            f"consent-ledger {kind}: {settings.host}:{port} is taken (another process "
            f"listens there); set {PORT_VARIABLE} to a free port for /healthz and /metrics, "
            "or to 0 for any free port"
        ) from None
    # The process is alive from here: its health counts from now, so a probe during
    # start-up (before the main loop's first beat) is not "stalled"; a start-up that
    # never reaches the loop goes stale after max_beat_age like a stuck loop.
    beat()
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    log.info("worker http listening", extra={"port": server.server_address[1], "kind": kind})
    return server
