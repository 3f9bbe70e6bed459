"""Closed-loop HTTP load from ``wrk``, a compiled load generator, with bench/wrk/*.lua.

``wrk`` keeps ``connections`` keep-alive connections busy for ``seconds`` (each sends
its next request as soon as the last one answered) from ``threads`` event-loop
threads. The Lua script builds every request (a new message each time) and checks
every answer; its ``done()`` prints one JSON line with the latency percentiles and the
counts, read here. wrk's own CPU time (user + system) is measured from the kernel.

Accounting, as wrk does it: requests still in flight when the time is up are not
counted (at most one per connection), and the rate is over wrk's whole run.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.infra import run_measured

SCRIPTS = Path(__file__).with_name("wrk")
INBOUND = SCRIPTS / "inbound.lua"
MARKER = "wrk-json "


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return found


@dataclass(frozen=True)
class WrkRun:
    seconds: float
    requests: int  # answers received (any status)
    ok: int  # 2xx answers with what the script expects
    items: int  # events those answers accounted for
    non2xx: int
    unexpected: int  # 2xx answers without what the script expects
    socket_errors: int  # connect, read and write errors
    timeouts: int
    overflow: int  # requests numbered past a thread's range (ids would collide)
    first_bad: str
    latency_ms: dict[str, float]  # p50, p90, p99, p99_9, mean, max
    cpu_seconds: float  # wrk's own

    @property
    def rate(self) -> float:
        """Items (events) per second that the server accepted."""
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non2xx + self.unexpected + self.socket_errors + self.timeouts + self.overflow

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0

    def error_text(self) -> str:
        text = (
            f"{self.errors} errors ({self.non2xx} non-2xx, {self.unexpected} 2xx without an "
            f"event, {self.socket_errors} socket, {self.timeouts} timeouts, "
            f"{self.overflow} id overflows)"
        )
        return f"{text}; first: {self.first_bad}" if self.first_bad else text


def parse(stdout: str, cpu_seconds: float) -> WrkRun:
    line = next((x for x in stdout.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no report: {stdout[-1000:]}")
    found: dict[str, Any] = json.loads(line[len(MARKER) :])
    errors = found["errors"]
    return WrkRun(
        seconds=found["duration_us"] / 1e6,
        requests=found["requests"],
        ok=found["ok"],
        items=found["items"],
        non2xx=found["non2xx"],
        unexpected=found["unexpected"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"],
        timeouts=errors["timeout"],
        overflow=found["overflow"],
        first_bad=found["first_bad"],
        latency_ms={name: value / 1000 for name, value in found["latency_us"].items()},
        cpu_seconds=cpu_seconds,
    )


def run(
    base_url: str,
    script: Path,
    *,
    key: str,
    connections: int,
    seconds: float,
    args: list[str],
    threads: int = 2,
) -> WrkRun:
    """``wrk`` with ``script`` against ``base_url`` for ``seconds`` (whole seconds, >= 1)."""
    duration = max(1, round(seconds))
    command = [
        wrk_binary(),
        "--threads", str(min(threads, connections)),
        "--connections", str(connections),
        "--duration", f"{duration}s",
        "--timeout", "60s",  # a slow answer is a slow answer, not an error
        "--script", str(script),
        "--header", f"Authorization: Bearer {key}",
        base_url,
        "--", *args,
    ]  # fmt: skip
    done = run_measured(command, timeout=duration + 90)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr[-1000:]}")
    return parse(done.stdout, done.cpu_seconds)


def inbound_args(area: str, first: int, stride: int, *, check: bool) -> list[str]:
    """The inbound script's arguments: thread t numbers from ``first + t * stride``."""
    return [area, str(first), str(stride), "1" if check else "0"]
