"""A deployment's processes for the fault tests: ``consent-ledger`` commands started as an
operator would, each logging to a file of its own, all stopped at the end."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.support.kafka import Broker, start_broker
from tests.support.processes import (
    clean_env,
    free_port,
    log_lines,
    run_cli,
    start_cli,
    wait_healthy,
)


@dataclass
class Fleet:
    tmp: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: int = 0

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.starts += 1
        log = self.tmp / f"{name}-{self.starts}.log"
        process = start_cli(*(args or (name,)), env=self.env, cwd=self.tmp, log=log)
        self.processes[name] = process
        return process

    def serve(self, *args: str, name: str = "serve") -> str:
        """``serve`` on a free port, once healthy; its base URL."""
        port = free_port()
        process = self.start(name, "serve", "--port", str(port), *args)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process, timeout=90)
        return base

    def key(self, roles: str, tenant: str = "acme") -> str:
        created = run_cli(
            "keys", "create", "--tenant", tenant, "--roles", roles, env=self.env, cwd=self.tmp
        )
        assert created.returncode == 0, created.stderr
        return created.stdout.strip()

    def log_lines(self, name: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for path in sorted(self.tmp.glob(f"{name}-*.log")):
            lines += log_lines(path)
        return lines

    def rss_mib(self, name: str) -> float:
        """Resident memory of a process and its children (serve's workers), in MiB."""
        root = psutil.Process(self.processes[name].pid)
        total = root.memory_info().rss
        for child in root.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def client(base: str, key: str, timeout: float = 60) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)


# Quick reactions for the pipeline under test: the retries and timeouts a test can wait for.
PIPELINE_TIMING = {
    "CONSENT_LEDGER_RECONCILE_SECONDS": "0.2",
    "CONSENT_LEDGER_PUBLISH_POLL_SECONDS": "0.2",
    "CONSENT_LEDGER_PUBLISH_LOCK_RETRY_SECONDS": "0.5",
    "CONSENT_LEDGER_PUBLISH_POSITION_SECONDS": "0.2",
    "CONSENT_LEDGER_PUBLISH_ACK_TIMEOUT_SECONDS": "3",
    "CONSENT_LEDGER_PUBLISH_RETRY_SECONDS": "0.5",
    "CONSENT_LEDGER_PUBLISH_RETRY_MAX_SECONDS": "4",
    "CONSENT_LEDGER_READ_WAIT_SECONDS": "20",
    "CONSENT_LEDGER_METRICS_PORT": "0",  # several workers of a kind on this host
}


def worker_base(fleet: Fleet, name: str) -> str:
    """The /healthz and /metrics address of the newest process started as ``name``."""
    deadline = time.monotonic() + 90
    while True:
        lines = fleet.log_lines(name)
        listening = [x for x in lines if x["message"] == "worker http listening"]
        if listening:
            return f"http://127.0.0.1:{listening[-1]['port']}"
        assert time.monotonic() < deadline, f"{name} serves no /healthz"
        time.sleep(0.1)


def metric(base: str, name: str) -> float:
    """The sum of a metric's samples on a process's /metrics (0 when absent)."""
    total = 0.0
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def own_broker() -> Iterator[Broker]:
    """A broker of this test's own: it is paused, which would stall anyone sharing it."""
    started = start_broker()
    yield started
    os.kill(started.process.pid, signal.SIGCONT)
    started.process.terminate()
    started.process.wait(timeout=10)


@pytest.fixture
def pipeline_fleet(tmp_path: Path, pg_url: str, own_broker: Broker) -> Iterator[Fleet]:
    """serve, publish, consume … as started by the test, on PostgreSQL and ``own_broker``."""
    kafka = own_broker.settings(prefix="consent")  # the default topic names
    running = Fleet(
        tmp_path, clean_env(DATABASE_URL=pg_url, **own_broker.env(kafka), **PIPELINE_TIMING)
    )
    yield running
    running.stop_all()
