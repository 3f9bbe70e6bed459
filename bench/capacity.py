"""Each load generator against a trivial route: what it can drive on this machine.

A figure is only a measurement of the server if the generator could have sent more.
These runs point each generator, with the same script and settings as in its scenario,
at ``bench/trivial_server.py`` (answers at once, does nothing), on the same cores: the
rate each reaches there is its ceiling here, to set beside the rate its scenario needs.
pgbench's counterpart is a statement that does nothing (``bench.pgbench_load``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench import ingest, openloop, wrk_load
from bench.clients import Counter, Load, closed_loop
from bench.workload import BATCH_AREA, batch_body
from tests.support.processes import free_port

TRIVIAL_SERVER = Path(__file__).with_name("trivial_server.py")
# Generators address the trivial route in a range of their own (it records nothing).
TRIVIAL_AREA = "650"


@contextmanager
def trivial_route() -> Iterator[str]:
    """``bench/trivial_server.py`` on a free port, in its own process; its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(TRIVIAL_SERVER), str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the trivial server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wrk_inbound(base_url: str, *, connections: int, seconds: float) -> wrk_load.WrkRun:
    """The single-events script (a new message per request), answers unchecked."""
    return wrk_load.run(
        base_url,
        wrk_load.INBOUND,
        key="trivial",
        connections=connections,
        seconds=seconds,
        args=wrk_load.inbound_args(TRIVIAL_AREA, 0, 5_000_000, check=False),
    )


def batch_clients(base_url: str, *, seconds: float) -> Load:
    """The batch-ingest clients (a new body of ``ingest.BATCH`` events per request)."""

    def operation(http: httpx.Client, index: int) -> int:
        response = http.post(
            "/v1/events",
            content=batch_body(BATCH_AREA, index * ingest.BATCH, ingest.BATCH),
            headers={"content-type": "application/json"},
        )
        if response.status_code != 200:
            raise RuntimeError(f"trivial route: {response.status_code}")
        return ingest.BATCH

    return closed_loop(
        base_url,
        "trivial",
        threads=ingest.CLIENTS,
        seconds=seconds,
        operation=operation,
        indexes=Counter(),
    )


def sender(base_url: str, *, rate: float, seconds: float, workers: int) -> openloop.OpenLoopRun:
    """The open-loop sender at ``rate``: new inbound messages, answers parsed as in (5)."""
    request = openloop.Request(
        "/v1/messages/inbound", key="trivial", body="inbound", area=TRIVIAL_AREA, parse=True
    )
    return openloop.send(
        base_url, request, rate=rate, total=round(rate * seconds), workers=workers, drain=30
    )
