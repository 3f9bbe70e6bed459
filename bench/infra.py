"""The real parts the benchmarks run against: PostgreSQL, the broker, the CLI processes.

PostgreSQL is the tests' (``$DATABASE_URL``, else 127.0.0.1:5432, else an embedded
server), with a fresh database per benchmark run; Kafka is the tests' Tansu broker. The
ledger's processes are the real ``consent-ledger`` commands, configured through the
environment as an operator would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.support.kafka import Broker, start_broker
from tests.support.postgres import EmbeddedServer, server_conninfo
from tests.support.processes import CLI, clean_env, free_port, run_cli, wait_healthy

# Production defaults, except: each worker's health server on a free port, and short group
# timeouts so the consumer group joins in about a second on Tansu (as the e2e tests do).
WORKER_ENV = {
    "CONSENT_LEDGER_METRICS_PORT": "0",
    "CONSENT_LEDGER_CONSUMER_SESSION_TIMEOUT_MS": "2000",
    "CONSENT_LEDGER_CONSUMER_HEARTBEAT_MS": "500",
}


@dataclass
class Bench:
    """What every benchmark shares: the PostgreSQL server, a scratch folder, the broker."""

    server: str
    workdir: Path
    embedded: EmbeddedServer | None = None
    _broker: Broker | None = None

    @classmethod
    def start(cls, workdir: Path) -> Bench:
        server, embedded = server_conninfo()
        workdir.mkdir(parents=True, exist_ok=True)
        return cls(server, workdir, embedded)

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            self._broker = start_broker()
        return self._broker

    def env(self, database_url: str, **settings: str) -> dict[str, str]:
        """A clean environment for a ``consent-ledger`` process on that database."""
        return clean_env(DATABASE_URL=database_url, **settings)

    def close(self) -> None:
        if self._broker is not None:
            self._broker.process.terminate()
            self._broker.process.wait(timeout=10)
        if self.embedded is not None:
            self.embedded.close()


def api_key(bench: Bench, env: dict[str, str], roles: str, tenant: str = "acme") -> str:
    done = run_cli(
        "keys", "create", "--tenant", tenant, "--roles", roles, env=env, cwd=bench.workdir
    )
    if done.returncode != 0:
        raise RuntimeError(f"keys create failed: {done.stderr}")
    return done.stdout.strip()


@dataclass
class Process:
    """A running ``consent-ledger`` command; stopped with SIGTERM, as an operator would."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    base_url: str | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self, timeout: float = 30) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def start_process(bench: Bench, name: str, *args: str, env: dict[str, str]) -> Process:
    log = bench.workdir / f"{name}.log"
    out = log.open("ab")
    try:
        popen = subprocess.Popen([CLI, *args], env=env, cwd=bench.workdir, stdout=out, stderr=out)
    finally:
        out.close()
    return Process(name, popen, log)


@contextmanager
def serving(bench: Bench, env: dict[str, str], name: str = "serve") -> Iterator[Process]:
    """``consent-ledger serve`` on a free port, healthy before the block starts."""
    port = free_port()
    process = start_process(bench, name, "serve", "--port", str(port), env=env)
    process.base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process.base_url, process.popen, timeout=120)
        yield process
    finally:
        process.stop()


@contextmanager
def running(bench: Bench, name: str, *args: str, env: dict[str, str]) -> Iterator[Process]:
    process = start_process(bench, name, *args, env={**env, **WORKER_ENV})
    try:
        yield process
    finally:
        process.stop()


def client(base_url: str, key: str, timeout: float = 120) -> httpx.Client:
    """One keep-alive connection's worth of client (each thread gets its own)."""
    return httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=timeout,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


@dataclass
class RssSampler:
    """Samples a process's resident memory every ``interval`` seconds on a thread."""

    pid: int
    interval: float = 0.05
    tree: bool = False  # the process and its children (an import's recording processes)
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        process = psutil.Process(self.pid)

        def sample() -> None:
            while not self._stop.is_set():
                try:
                    rss = process.memory_info().rss
                    if self.tree:
                        rss += sum(_rss(c) for c in process.children(recursive=True))
                    self.samples.append(rss)
                except psutil.NoSuchProcess:
                    return
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=sample, name="rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def peak_mb(self) -> float:
        return max(self.samples, default=0) / 2**20


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def cpu_seconds(pid: int | None = None) -> float:
    """User plus system CPU time of a process (this one by default)."""
    times = psutil.Process(pid or os.getpid()).cpu_times()
    return float(times.user + times.system)


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL server process (the server's own processes)."""
    total = 0.0
    for process in psutil.process_iter(["username"]):
        if process.info["username"] == "postgres":
            with suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
    return total


POSTGRES = "PostgreSQL"


def cpu_by_process(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process (with its children) and of PostgreSQL
    (``POSTGRES``)."""
    return {**{name: tree_cpu_seconds(pid) for name, pid in pids.items()}, POSTGRES: postgres_cpu()}


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its live children: ``serve --workers N`` is a
    supervisor whose workers do the work."""
    process = psutil.Process(pid)
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += float(times.user + times.system)
    return total


@dataclass(frozen=True)
class Finished:
    """A command run to its end, with the CPU time it used."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float  # wall time
    cpu_seconds: float  # user + system, all its threads and the children it waited for

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def reap(popen: subprocess.Popen[Any]) -> tuple[int, float]:
    """Waits for ``popen``; its exit code and CPU seconds, from the kernel (``wait4``).

    psutil cannot read a process that has exited, and sampling it before loses the end:
    ``wait4`` returns the whole run's user and system time (every thread) exactly.
    """
    _, status, usage = os.wait4(popen.pid, 0)
    popen.returncode = os.waitstatus_to_exitcode(status)
    return popen.returncode, usage.ru_utime + usage.ru_stime


def run_measured(args: list[str], *, timeout: float, env: dict[str, str] | None = None) -> Finished:
    """Runs a load generator (wrk, pgbench) to its end; killed after ``timeout`` seconds."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        popen = subprocess.Popen(args, stdout=out, stderr=err, env=env)
        timer = threading.Timer(timeout, popen.kill)
        timer.start()
        try:
            returncode, cpu = reap(popen)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        return Finished(
            returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            cpu,
        )
