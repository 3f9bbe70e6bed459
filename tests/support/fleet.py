"""A deployment's processes for the fault tests: ``consent-ledger`` commands started as an
operator would, each logging to a file of its own, all stopped at the end."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.support.processes import free_port, run_cli, start_cli, wait_healthy


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
            lines += [json.loads(x) for x in path.read_text().splitlines() if x.startswith("{")]
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
