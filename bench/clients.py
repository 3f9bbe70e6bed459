"""HTTP load from threads, each with its own keep-alive ``httpx.Client``.

The clients run in the benchmark's own process, on the same two cores as the server and
PostgreSQL: every load reports the CPU time the client itself used, so the reader can
see what the measurement cost.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.infra import client, cpu_seconds
from bench.stats import percentile

# One operation: given a client and a unique index, do one request; returns the number
# of events (or rows) it accounted for. Raises on an unexpected answer.
Operation = Callable[[httpx.Client, int], int]


@dataclass
class Load:
    count: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    client_cpu: float = 0.0  # CPU seconds the benchmark process used meanwhile
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def latency_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def client_cores(self) -> float:
        """How many cores the client used on average (1.0 = one core busy)."""
        return self.client_cpu / self.seconds if self.seconds else 0.0


class Counter:
    """Unique indexes across every load of a run (so no two requests share an address)."""

    def __init__(self, start: int = 0) -> None:
        self._next = itertools.count(start)
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            return next(self._next)

    def block(self, size: int) -> int:
        """The first of ``size`` consecutive indexes no one else gets (for wrk, the sender)."""
        with self._lock:
            first = next(self._next)
            self._next = itertools.count(first + size)
            return first


def closed_loop(
    base_url: str,
    key: str,
    *,
    threads: int,
    seconds: float,
    operation: Operation,
    indexes: Counter,
) -> Load:
    """``threads`` clients each send their next request as soon as the last one answered."""
    clients = [client(base_url, key) for _ in range(threads)]
    load = Load()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    deadline = 0.0

    def work(http: httpx.Client) -> None:
        done, latencies = 0, []
        start.wait()
        try:
            while time.perf_counter() < deadline:
                index = indexes.take()
                began = time.perf_counter()
                done += operation(http, index)
                latencies.append(time.perf_counter() - began)
        except Exception as error:  # reported with the result; the run is marked failed
            with lock:
                load.errors.append(repr(error))
        with lock:
            load.count += done
            load.latencies.extend(latencies)

    workers = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for worker in workers:
        worker.start()
    cpu_before = cpu_seconds()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for worker in workers:
        worker.join()
    load.seconds = time.perf_counter() - began
    load.client_cpu = cpu_seconds() - cpu_before
    for c in clients:
        c.close()
    if load.errors:
        raise RuntimeError(f"{len(load.errors)} clients failed; first: {load.errors[0]}")
    return load


def paced(
    base_url: str,
    key: str,
    *,
    threads: int,
    rate: float,
    total: int,
    operation: Callable[[httpx.Client, int, float], int],
    indexes: Counter,
) -> Load:
    """``total`` requests at ``rate`` per second (open loop): request i is due at i/rate.

    ``operation`` gets the client, the unique index and the due time; a request whose
    thread is late is sent at once. A server slower than ``rate`` gets fewer: sending
    stops when the schedule's end has passed (the caller reports the achieved rate).
    """
    clients = [client(base_url, key) for _ in range(threads)]
    load = Load()
    lock = threading.Lock()
    slots = itertools.count()
    slot_lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    origin = end = 0.0

    def work(http: httpx.Client) -> None:
        done, latencies = 0, []
        start.wait()
        try:
            while True:
                with slot_lock:
                    slot = next(slots)
                due = origin + slot / rate
                if slot >= total or time.perf_counter() > end:
                    break
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                began = time.perf_counter()
                done += operation(http, indexes.take(), due)
                latencies.append(time.perf_counter() - began)
        except Exception as error:
            with lock:
                load.errors.append(repr(error))
        with lock:
            load.count += done
            load.latencies.extend(latencies)

    workers = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for worker in workers:
        worker.start()
    cpu_before = cpu_seconds()
    origin = time.perf_counter() + 0.05
    end = origin + total / rate
    start.wait()
    for worker in workers:
        worker.join()
    load.seconds = max(time.perf_counter() - origin, total / rate)
    load.client_cpu = cpu_seconds() - cpu_before
    for c in clients:
        c.close()
    if load.errors:
        raise RuntimeError(f"{len(load.errors)} clients failed; first: {load.errors[0]}")
    return load
