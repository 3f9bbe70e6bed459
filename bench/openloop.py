"""An open-loop sender: requests on a fixed schedule, latency from the scheduled time.

A closed-loop client (wrk, or a thread that waits for its answer) sends less when the
server slows down, so a slow server is measured at the rate it chose, and the requests
it delayed are never measured (coordinated omission). Here request i is due at
t0 + i / rate by the clock, whatever earlier requests are doing, and its latency runs
from that due time: a server that falls behind sees its backlog in the latencies.

``send`` starts ``workers`` processes (bench/openloop_worker.py, asyncio on uvloop;
worker k takes slots k, k + P, ...), gives them one t0, and reads their answers as they
come (``on_answer`` sees each at once, e.g. to watch for it in a read model). Each
worker keeps up to ``connections`` keep-alive connections; a due request with none free
waits for one, and the wait counts in its latency. CPU time is the workers' own, from
the kernel.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.infra import reap
from bench.stats import percentile

WORKER = Path(__file__).with_name("openloop_worker.py")
START_MARGIN = 0.2  # seconds between handing out t0 and the first due slot


@dataclass(frozen=True)
class Answer:
    slot: int
    status: int  # 0: no answer (the info says why)
    due: float  # time.monotonic()
    dispatched: float  # its task started
    sent: float  # it went out on a connection
    answered: float
    info: str  # "subject_id,position" (inbound, parsed), "-", or "!" and what went wrong

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and not self.info.startswith("!")

    @property
    def latency(self) -> float:
        """Seconds from the scheduled time to the answer."""
        return self.answered - self.due

    @property
    def lateness(self) -> float:
        """Seconds the sender started the request after its scheduled time (its own delay)."""
        return self.dispatched - self.due

    @property
    def queued(self) -> float:
        """Seconds it waited for a free connection (every one busy: the server's backlog)."""
        return self.sent - self.dispatched

    @classmethod
    def parse(cls, line: str) -> Answer:
        slot, status, due, dispatched, sent, answered, info = line.rstrip("\n").split(" ", 6)
        times = float(due), float(dispatched), float(sent), float(answered)
        return cls(int(slot), int(status), *times, info)


@dataclass
class Request:
    """What every slot sends: a new inbound message (``area``, from ``first``) or a GET."""

    path: str
    key: str = ""
    body: str = "none"  # "inbound": POST a new message per slot; "none": GET
    area: str = "646"
    first: int = 0
    parse: bool = False  # read subject_id and position from each 2xx answer


@dataclass
class OpenLoopRun:
    rate: float
    total: int
    t0: float
    answers: list[Answer] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the workers' own, start-up included
    sending_cpu_seconds: float = 0.0  # the workers' own from t0 on
    wall: float = 0.0

    @property
    def ok(self) -> list[Answer]:
        return [a for a in self.answers if a.ok]

    @property
    def errors(self) -> list[Answer]:
        """Answers outside 2xx, no answer at all, and slots no worker reported."""
        return [a for a in self.answers if not a.ok]

    @property
    def missing(self) -> int:
        return self.total - len(self.answers)

    @property
    def answer_rate(self) -> float:
        """2xx answers per second, first to last (a server that keeps up: the rate)."""
        times = sorted(a.answered for a in self.ok)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def latency_ms(self, q: float) -> float:
        return percentile([a.latency for a in self.ok], q) * 1000

    def lateness_ms(self, q: float) -> float:
        return percentile([a.lateness for a in self.answers], q) * 1000

    def queued_ms(self, q: float) -> float:
        return percentile([a.queued for a in self.answers], q) * 1000

    @property
    def cores(self) -> float:
        """Cores the workers used while sending (t0 to their last answer)."""
        end = max((a.answered for a in self.answers), default=self.t0)
        seconds = max(end - self.t0, self.total / self.rate)
        return self.sending_cpu_seconds / seconds

    def error_text(self) -> str:
        bad = self.errors
        text = f"{len(bad) + self.missing} errors ({self.missing} never reported)"
        return f"{text}; first: {bad[0].status} {bad[0].info}" if bad else text


def send(
    base_url: str,
    request: Request,
    *,
    rate: float,
    total: int,
    workers: int = 2,
    connections: int = 64,
    drain: float = 60.0,
    on_answer: Callable[[Answer], None] | None = None,
) -> OpenLoopRun:
    """``total`` requests at ``rate`` per second; answers late by ``drain`` s count as none."""
    url = urlsplit(base_url)
    spec = {
        "host": url.hostname, "port": url.port, "rate": rate, "total": total,
        "workers": workers, "connections": connections, "drain": drain,
        "path": request.path, "key": request.key, "body": request.body,
        "area": request.area, "first": request.first, "parse": request.parse,
    }  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps({**spec, "worker": k})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(workers)
    ]
    began = time.perf_counter()
    run = OpenLoopRun(rate, total, 0.0)
    lock = threading.Lock()
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("an open-loop worker did not start")
        run.t0 = time.monotonic() + START_MARGIN
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{run.t0!r}\n")
            proc.stdin.close()

        def read(proc: subprocess.Popen[str]) -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("cpu "):
                    with lock:
                        run.sending_cpu_seconds += float(line.split()[1])
                    continue
                answer = Answer.parse(line)
                with lock:
                    run.answers.append(answer)
                if on_answer is not None:
                    on_answer(answer)

        readers = [threading.Thread(target=read, args=(p,), daemon=True) for p in procs]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
    except BaseException:
        for proc in procs:  # not Popen.kill: its poll() would reap what reap() waits for
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        raise
    finally:
        codes = []
        for proc in procs:
            code, cpu = reap(proc)
            codes.append(code)
            run.cpu_seconds += cpu
    if any(codes):
        raise RuntimeError(f"open-loop workers exited with {codes}")
    run.wall = time.perf_counter() - began
    return run
