"""What every long-running command shares: a clean stop on SIGTERM and SIGINT (an event
the loops watch), and the worker's health and metrics server."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from api.cli.worker_http import HealthPart, PortTaken, WorkerHttpSettings, start_worker_http

log = logging.getLogger(__name__)


@contextmanager
def worker_http(
    kind: str, *, enabled: bool = True, parts: dict[str, HealthPart] | None = None
) -> Iterator[None]:
    """A long-running worker's ``/healthz`` and ``/metrics`` (``CONSENT_LEDGER_METRICS_*``,
    the kind's own default port). A taken port ends the process with exit code 2 and one
    line on stderr naming the variable to set (no traceback)."""
    if not enabled:
        yield
        return
    try:
        server = start_worker_http(WorkerHttpSettings(), kind, parts)
    except PortTaken as taken:
        log.error("worker http port taken", extra={"error": str(taken)})
        print(str(taken), file=sys.stderr)
        raise SystemExit(2) from None
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
