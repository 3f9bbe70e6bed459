"""Scenario 5, end-to-end lag: HTTP answer → publisher → Kafka → consumer → read model.

Real ``serve``, ``publish`` and ``consume`` processes on a fresh database and the Tansu
broker. Inbound messages are paced at ``RATE`` per second, each from a new person; for
each, the lag is the time from the HTTP answer to the moment the consumer-kept
``consent_status_subjects`` row of that subject shows the answer's ledger position. A
watcher thread polls the pending subjects every ``POLL_SECONDS`` (one indexed query), so
a lag is over-stated by at most one poll (~5 ms) plus the query.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from uuid import UUID

import httpx
import psycopg

from bench.clients import Counter, Load, paced
from bench.infra import Bench, api_key, client, running, serving
from bench.report import Result, Target
from bench.stats import percentile, summarize
from bench.workload import LAG_AREA, post_inbound
from tests.support.postgres import fresh_database

log = logging.getLogger("bench")

RATE = 1000.0
SENDERS = 24
POLL_SECONDS = 0.005


@dataclass
class Watcher:
    """Finds when each answered write shows in the read model."""

    url: str
    pending: dict[UUID, tuple[int, float]] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    polls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def expect(self, subject_id: UUID, position: int, answered_at: float) -> None:
        with self._lock:
            self.pending[subject_id] = (position, answered_at)

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set() or self.pending:
                with self._lock:
                    wanted = list(self.pending)
                if wanted:
                    rows = conn.execute(
                        "SELECT subject_id, position FROM consent_status_subjects "
                        "WHERE subject_id = ANY(%s)",
                        (wanted,),
                    ).fetchall()
                    seen = time.perf_counter()
                    with self._lock:
                        for subject_id, position in rows:
                            expected = self.pending.get(subject_id)
                            if expected is not None and position >= expected[0]:
                                self.lags.append(seen - expected[1])
                                del self.pending[subject_id]
                self.polls += 1
                time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        self._stop.set()


def wait_pipeline_ready(url: str, base_url: str, key: str, indexes: Counter) -> None:
    """One message through the whole pipeline: the consumer group has joined."""
    watcher = Watcher(url)
    thread = threading.Thread(target=watcher.run, daemon=True)
    with client(base_url, key) as http:
        answer = post_inbound(http, LAG_AREA, indexes.take())
    watcher.expect(UUID(answer["subject_id"]), answer["position"], time.perf_counter())
    thread.start()
    deadline = time.monotonic() + 120
    while watcher.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop()
    thread.join()
    if watcher.pending:
        raise TimeoutError("the pipeline did not deliver the first event within 120 s")


@dataclass
class LagRun:
    load: Load
    lags: list[float]
    polls_per_second: float


def one_run(url: str, base_url: str, key: str, total: int, indexes: Counter) -> LagRun:
    watcher = Watcher(url)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()

    def operation(http: httpx.Client, index: int, due: float) -> int:
        answer = post_inbound(http, LAG_AREA, index)
        watcher.expect(UUID(answer["subject_id"]), answer["position"], time.perf_counter())
        return 1

    began = time.perf_counter()
    load = paced(
        base_url, key, threads=SENDERS, rate=RATE, total=total, operation=operation,
        indexes=indexes,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while watcher.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop()
    thread.join()
    if watcher.pending:
        raise TimeoutError(f"{len(watcher.pending)} events never reached the read model")
    return LagRun(load, watcher.lags, watcher.polls / (time.perf_counter() - began))


def run(bench: Bench, *, runs: int, seconds: float) -> list[Result]:
    results: list[LagRun] = []
    with fresh_database(bench.server) as url:
        settings = bench.broker.settings(prefix=f"lag{time.time_ns()}")
        env = bench.env(url, **bench.broker.env(settings))
        key = api_key(bench, env, "ingest")
        with serving(bench, env, name="serve-lag") as serve:
            assert serve.base_url is not None
            with (
                running(bench, "publish", "publish", env=env),
                running(bench, "consume", "consume", env=env),
            ):
                indexes = Counter()
                wait_pipeline_ready(url, serve.base_url, key, indexes)
                for n in range(runs):
                    lag_run = one_run(url, serve.base_url, key, int(RATE * seconds), indexes)
                    log.info(
                        "lag run %d: %.0f msg/s sent, p50 %.1f ms p99 %.1f ms",
                        n + 1,
                        lag_run.load.rate,
                        percentile(lag_run.lags, 50) * 1000,
                        percentile(lag_run.lags, 99) * 1000,
                    )
                    results.append(lag_run)
    achieved = summarize([r.load.rate for r in results])
    note = (
        f"paced at {RATE:.0f}/s by {SENDERS} clients; achieved {achieved.median:.0f}/s; "
        f"watcher polled {min(r.polls_per_second for r in results):.0f}/s or more"
    )

    def lag(q: float) -> list[float]:
        return [percentile(r.lags, q) * 1000 for r in results]

    return [
        Result("(5) end-to-end lag, achieved write rate", "events/s", achieved, note=note),
        Result("(5) end-to-end lag p50", "ms", summarize(lag(50))),
        Result("(5) end-to-end lag p95", "ms", summarize(lag(95))),
        Result(
            "(5) end-to-end lag p99",
            "ms",
            summarize(lag(99)),
            target=Target("< 250 ms", 250, op="<"),
        ),
        Result(
            "(5) HTTP answer p99 at that rate",
            "ms",
            summarize([r.load.latency_ms(99) for r in results]),
        ),
    ]
