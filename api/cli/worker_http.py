"""The small HTTP server every worker process runs: ``/healthz`` and ``/metrics``.

``/healthz`` is 200 while the worker's main loop keeps beating (``ledger.liveness``) and
503 with the reason once it stalls; ``/metrics`` is the process's Prometheus registry.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.runtime.liveness import seconds_since_beat

log = logging.getLogger(__name__)


class WorkerHttpSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    host: str = Field(default="127.0.0.1", alias="CONSENT_LEDGER_METRICS_HOST")
    port: int = Field(default=9100, ge=0, le=65535, alias="CONSENT_LEDGER_METRICS_PORT")
    # A worker whose loop has not beaten for this long is unhealthy.
    max_beat_age: float = Field(default=60.0, gt=0, alias="CONSENT_LEDGER_MAX_BEAT_AGE_SECONDS")


class _Handler(BaseHTTPRequestHandler):
    max_beat_age = 60.0

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/metrics":
            self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            return
        if self.path.split("?")[0] == "/healthz":
            age = seconds_since_beat()
            healthy = age is not None and age <= self.max_beat_age
            body = {
                "status": "ok" if healthy else "stalled",
                "seconds_since_beat": None if age is None else round(age, 3),
                "max_beat_age": self.max_beat_age,
            }
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


def start_worker_http(settings: WorkerHttpSettings) -> ThreadingHTTPServer:
    """Serve health and metrics on a daemon thread; returns the server to shut it down."""
    handler = type("WorkerHandler", (_Handler,), {"max_beat_age": settings.max_beat_age})
    server = ThreadingHTTPServer((settings.host, settings.port), handler)
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    log.info("worker http listening", extra={"port": server.server_address[1]})
    return server
