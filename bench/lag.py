"""Scenario 5, end-to-end lag: scheduled send → serve → publisher → Kafka → consumer → read model.

Real ``serve``, ``publish`` and ``consume`` processes on a fresh database and the Tansu
broker. The open-loop sender (``bench.openloop``) offers inbound messages at ``RATE``
per second, each from a new person, message i due at t0 + i / RATE by the clock: a
server that falls behind does not slow the schedule, it builds a backlog that shows in
the latencies. For each message, the lag is the time from its *scheduled* send time to
the moment the consumer-kept ``consent_status_subjects`` row of that subject shows the
answer's ledger position. A watcher thread polls the pending subjects every
``POLL_SECONDS`` (one indexed query), so a lag is over-stated by at most one poll
(~5 ms) plus the query.

Before that, the same sender runs against a trivial route (``bench.capacity``) at
``RATE`` and at ``HEADROOM``: it holds the schedule when the server is not the limit.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from dataclasses import dataclass, field
from uuid import UUID

import psycopg
from kafka import KafkaConsumer, TopicPartition

from bench import capacity, openloop
from bench.clients import Counter
from bench.infra import Bench, api_key, client, cpu_by_process, running, serving
from bench.report import Result, Target, compared
from bench.stats import percentile, summarize
from bench.workload import LAG_AREA, post_inbound
from ledger.publishing.cloudevents import POSITION_HEADER
from ledger.publishing.kafka import KafkaSettings
from tests.support.postgres import fresh_database

log = logging.getLogger("bench")

RATE = 1000.0
HEADROOM = 4000.0  # the sender's proof runs here too, against the trivial route
SENDER_WORKERS = 1  # one process holds 1,000/s with room to spare (see the proof rows)
SENDER_CONNECTIONS = 128
POLL_SECONDS = 0.005
OFFERED = f"offered {RATE:,.0f}/s"


@dataclass
class Watcher:
    """Finds when each answered write shows in the read model."""

    url: str
    pending: dict[UUID, tuple[int, float]] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    seen: list[float] = field(default_factory=list)
    visible: dict[int, float] = field(default_factory=dict)  # ledger position -> when seen
    polls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def expect(self, subject_id: UUID, position: int, since: float) -> None:
        """Watch for ``position`` of ``subject_id``; its lag counts from ``since``."""
        with self._lock:
            self.pending[subject_id] = (position, since)

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
                    now = time.monotonic()
                    with self._lock:
                        for subject_id, position in rows:
                            expected = self.pending.get(subject_id)
                            if expected is not None and position >= expected[0]:
                                self.lags.append(now - expected[1])
                                self.seen.append(now)
                                self.visible[expected[0]] = now
                                del self.pending[subject_id]
                self.polls += 1
                time.sleep(POLL_SECONDS)

    def stop(self) -> None:
        self._stop.set()

    @property
    def visible_rate(self) -> float:
        """Events per second into the read model, first to last."""
        if len(self.seen) < 2 or max(self.seen) <= min(self.seen):
            return 0.0
        return (len(self.seen) - 1) / (max(self.seen) - min(self.seen))


def watching(url: str) -> tuple[Watcher, threading.Thread]:
    watcher = Watcher(url)
    thread = threading.Thread(target=watcher.run, name="watcher", daemon=True)
    thread.start()
    return watcher, thread


def drained(watcher: Watcher, thread: threading.Thread, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while watcher.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop()
    thread.join()
    if watcher.pending:
        raise TimeoutError(f"{len(watcher.pending)} events never reached the read model")


def wait_pipeline_ready(url: str, base_url: str, key: str, indexes: Counter) -> None:
    """One message through the whole pipeline: the consumer group has joined."""
    watcher, thread = watching(url)
    with client(base_url, key) as http:
        answer = post_inbound(http, LAG_AREA, indexes.take())
    watcher.expect(UUID(answer["subject_id"]), answer["position"], time.monotonic())
    drained(watcher, thread)


@dataclass
class LagRun:
    sender: openloop.OpenLoopRun
    lags: list[float]
    visible_rate: float
    polls_per_second: float
    # CPU seconds each side used per event that reached the read model.
    cpu_per_event: dict[str, float] = field(default_factory=dict)
    # Seconds per event from its HTTP answer to the publisher handing it to the producer
    # (the Kafka record's creation time), and from there to the read model.
    to_producer: list[float] = field(default_factory=list)
    to_read_model: list[float] = field(default_factory=list)


def one_run(
    url: str,
    base_url: str,
    key: str,
    total: int,
    indexes: Counter,
    pids: dict[str, int],
    kafka: KafkaSettings | None = None,
) -> LagRun:
    """``total`` messages offered at ``RATE``/s; each one watched until it is visible.
    ``kafka``: the topic to read the records back from, to split each message's lag into
    its stages."""
    watcher, thread = watching(url)
    cpu_before = cpu_by_process(pids)
    answered: dict[int, float] = {}  # ledger position -> when answered (monotonic)

    def on_answer(answer: openloop.Answer) -> None:
        if answer.ok:
            subject_id, position = answer.info.split(",")
            answered[int(position)] = answer.answered
            watcher.expect(UUID(subject_id), int(position), answer.due)

    request = openloop.Request(
        "/v1/messages/inbound",
        key=key,
        body="inbound",
        area=LAG_AREA,
        first=indexes.block(total),
        parse=True,
    )
    began = time.monotonic()
    sender = openloop.send(
        base_url,
        request,
        rate=RATE,
        total=total,
        workers=SENDER_WORKERS,
        connections=SENDER_CONNECTIONS,
        drain=max(60.0, 3 * total / RATE),
        on_answer=on_answer,
    )
    if sender.errors or sender.missing:
        log.warning("lag: %s", sender.error_text())
    drained(watcher, thread)
    polls = watcher.polls / (time.monotonic() - began)
    used = {name: spent - cpu_before[name] for name, spent in cpu_by_process(pids).items()}
    per_event = {name: spent / max(1, len(watcher.lags)) for name, spent in used.items()}
    run = LagRun(sender, watcher.lags, watcher.visible_rate, polls, per_event)
    if kafka is not None:
        run.to_producer, run.to_read_model = stages(kafka, answered, watcher.visible)
    return run


def stages(
    kafka: KafkaSettings, answered: dict[int, float], visible: dict[int, float]
) -> tuple[list[float], list[float]]:
    """Each answered message's seconds from its answer to its Kafka record's creation
    (the publisher handing it to the producer: kafka-python stamps a record when it is
    sent), and from there to the read model. The record's time is the wall clock's (ms),
    the others the monotonic clock's: converted once, here."""
    wall_minus_monotonic = time.time() - time.monotonic()
    made: dict[int, float] = {}
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [
            TopicPartition(kafka.events_topic, p)
            for p in consumer.partitions_for_topic(kafka.events_topic) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)  # the earlier runs' records come too
        deadline = time.monotonic() + 60
        while len(made) < len(answered) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                for record in batch:
                    position = dict(record.headers).get(POSITION_HEADER)
                    if position is not None and int(position) in answered:
                        made[int(position)] = record.timestamp / 1000 - wall_minus_monotonic
    finally:
        consumer.close()
    to_producer = [made[p] - answered[p] for p in answered if p in made]
    to_read_model = [visible[p] - made[p] for p in made if p in visible]
    return to_producer, to_read_model


def proof(seconds: float) -> dict[float, list[openloop.OpenLoopRun]]:
    """The sender against the trivial route at ``RATE`` and ``HEADROOM``, 3 runs each."""
    runs: dict[float, list[openloop.OpenLoopRun]] = {RATE: [], HEADROOM: []}
    with capacity.trivial_route() as trivial:
        for _ in range(3):
            for rate in runs:
                done = capacity.sender(trivial, rate=rate, seconds=seconds, workers=SENDER_WORKERS)
                log.info(
                    "open-loop sender vs trivial route at %.0f/s: %.0f/s, p99 %.1f ms, %s",
                    rate, done.answer_rate, done.latency_ms(99), done.error_text(),
                )  # fmt: skip
                runs[rate].append(done)
    return runs


def run(bench: Bench, *, runs: int, seconds: float) -> list[Result]:
    proved = proof(seconds)
    results: list[LagRun] = []
    with fresh_database(bench.server) as url:
        settings = bench.broker.settings(prefix=f"lag{time.time_ns()}")
        env = bench.env(url, **bench.broker.env(settings))
        key = api_key(bench, env, "ingest")
        with serving(bench, env, name="serve-lag") as serve:
            assert serve.base_url is not None
            with (
                running(bench, "publish", "publish", env=env) as publish,
                running(bench, "consume", "consume", env=env) as consume,
            ):
                indexes = Counter()
                wait_pipeline_ready(url, serve.base_url, key, indexes)
                pids = {"serve": serve.pid, "publish": publish.pid, "consume": consume.pid}
                for n in range(runs):
                    total = int(RATE * seconds)
                    lag_run = one_run(url, serve.base_url, key, total, indexes, pids, settings)
                    log.info(
                        "lag run %d: answered %.0f/s, visible %.0f/s, p50 %.1f ms p99 %.1f ms",
                        n + 1,
                        lag_run.sender.answer_rate,
                        lag_run.visible_rate,
                        percentile(lag_run.lags, 50) * 1000,
                        percentile(lag_run.lags, 99) * 1000,
                    )
                    results.append(lag_run)
    return proof_results(proved) + lag_results(results)


def proof_results(proved: dict[float, list[openloop.OpenLoopRun]]) -> list[Result]:
    out = []
    for rate, done in proved.items():
        offered = summarize([rate] * len(done))
        errors = sum(len(r.errors) + r.missing for r in done)
        name = f"(g) open-loop sender vs trivial route, {rate:,.0f}/s offered"
        out.append(
            compared(
                name,
                "requests/s",
                summarize([r.answer_rate for r in done]),
                f"offered {rate:,.0f}/s",
                offered,
                note=f"{SENDER_WORKERS} process(es); p99 from the scheduled time up to "
                f"{max(r.latency_ms(99) for r in done):.1f} ms, the sender's own lateness "
                f"p99 up to {max(r.lateness_ms(99) for r in done):.1f} ms; it used up to "
                f"{max(r.cores for r in done):.2f} cores; {errors} errors",
            )
        )
        out.append(Result(f"{name}, p99", "ms", summarize([r.latency_ms(99) for r in done])))
    return out


def lag_results(results: list[LagRun]) -> list[Result]:
    offered = summarize([RATE] * len(results))
    senders = [r.sender for r in results]
    errors = sum(len(s.errors) + s.missing for s in senders)
    note = (
        f"offered {RATE:.0f}/s open-loop by {SENDER_WORKERS} sender process(es) with up to "
        f"{SENDER_CONNECTIONS} connections; the sender's own lateness p99 up to "
        f"{max(s.lateness_ms(99) for s in senders):.1f} ms, waits for a free connection "
        f"(all busy: the server's backlog) p99 up to "
        f"{max(s.queued_ms(99) for s in senders):,.0f} ms; the sender used up to "
        f"{max(s.cores for s in senders):.2f} cores; {errors} errors; watcher polled "
        f"{min(r.polls_per_second for r in results):.0f}/s or more; CPU per event "
        "(median of runs, offer to drain): "
        + ", ".join(
            f"{name} {statistics.median(r.cpu_per_event[name] for r in results) * 1e6:,.0f} µs"
            for name in results[0].cpu_per_event
        )
    )

    def lag(q: float) -> list[float]:
        return [percentile(r.lags, q) * 1000 for r in results]

    answered = compared(
        "(5) end-to-end lag, answered write rate",
        "events/s",
        summarize([s.answer_rate for s in senders]),
        OFFERED,
        offered,
        note=note,
    )
    answered.extra["errors"] = errors
    return [
        answered,
        compared(
            "(5) end-to-end, rate into the read model",
            "events/s",
            summarize([r.visible_rate for r in results]),
            OFFERED,
            offered,
            Target(">= 0.95x offered", 0.95, metric="ratio"),
        ),
        Result("(5) end-to-end lag p50 (from scheduled send)", "ms", summarize(lag(50))),
        Result("(5) end-to-end lag p95 (from scheduled send)", "ms", summarize(lag(95))),
        Result(
            "(5) end-to-end lag p99 (from scheduled send)",
            "ms",
            summarize(lag(99)),
            target=Target("< 250 ms", 250, op="<"),
        ),
        Result(
            "(5) HTTP answer p99 (from scheduled send)",
            "ms",
            summarize([s.latency_ms(99) for s in senders]),
        ),
        *stage_results(results),
    ]


def stage_results(results: list[LagRun]) -> list[Result]:
    """Where the lag goes: answer -> producer, producer -> read model (p50, p99)."""
    if not all(r.to_producer and r.to_read_model for r in results):
        return []
    note = (
        "from the Kafka record's creation time (kafka-python stamps a record as the "
        "publisher hands it to the producer); the rest of the lag is the HTTP answer "
        "(row above) and the read model's watcher (up to one poll)"
    )
    rows = []
    for label, attribute in (
        ("from the HTTP answer to the producer", "to_producer"),
        ("from the producer to the read model", "to_read_model"),
    ):
        for q in (50, 99):
            values = [percentile(getattr(r, attribute), q) * 1000 for r in results]
            rows.append(
                Result(f"(5) {label}, p{q}", "ms", summarize(values), note=note if q == 50 else "")
            )
    return rows
