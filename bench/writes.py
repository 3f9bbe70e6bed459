"""Scenarios 1-4 side by side: every baseline and the ledger, alternating, in one database.

One fresh database holds the ledger (fed by a real ``consent-ledger serve``), the raw
copy of its events table and the mutable baseline's tables. Each round runs, in turn:
raw batched appends (COPY, then INSERT), the ledger's batch ingest, raw one-row
transactions, the mutable baseline on 1 and on 32 connections, and the ledger's single
events; ratios are medians over medians of these interleaved runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import psycopg

from bench import ingest, mutable, raw, single_events
from bench.clients import Counter, Load
from bench.infra import Bench, api_key, client, serving
from bench.report import Result, Target, compared
from bench.stats import Summary, summarize
from bench.workload import BATCH_AREA, SINGLE_AREA, post_batch, post_inbound
from tests.support.postgres import fresh_database

log = logging.getLogger("bench")

RAW_SINGLE = "raw 1 row/tx"
RAW_COPY = "raw COPY 1,000/tx"
MUTABLE_1 = "mutable 1 conn"
MUTABLE_32 = "mutable 32 conns"


@dataclass(frozen=True)
class WriteSettings:
    rounds: int
    raw_seconds: float
    ledger_seconds: float
    contacts: int
    # How serve runs: "pipeline" (DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS: the production
    # path, read models kept by `consume` elsewhere) or "embedded" (projections in-process).
    mode: str = "pipeline"


@dataclass
class Runs:
    rates: dict[str, list[float]] = field(default_factory=dict)
    loads: dict[str, list[Load]] = field(default_factory=dict)

    def add(self, name: str, count: int, seconds: float) -> None:
        rate = count / seconds
        self.rates.setdefault(name, []).append(rate)
        log.info("%-28s %10.0f /s  (%d in %.1fs)", name, rate, count, seconds)

    def add_load(self, name: str, load: Load) -> None:
        self.loads.setdefault(name, []).append(load)
        self.add(name, load.count, load.seconds)

    def summary(self, name: str) -> Summary:
        return summarize(self.rates[name])


def serve_env(bench: Bench, url: str, mode: str) -> dict[str, str]:
    if mode == "pipeline":
        settings = bench.broker.settings(prefix=f"bench{time.time_ns()}")
        return bench.env(url, **bench.broker.env(settings))
    return bench.env(url)


def wait_quiet(url: str, mode: str, timeout: float = 120) -> None:
    """Embedded mode: let the in-process projections catch up before the next run."""
    if mode != "embedded":
        return
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT (SELECT coalesce(max(notification_id), 0) FROM consentledger_events) "
                "- (SELECT coalesce(min(position), 0) FROM projection_positions)"
            ).fetchone()
            if row is not None and row[0] <= 0:
                return
            time.sleep(0.1)
    raise TimeoutError("the projections did not catch up")


def run(bench: Bench, settings: WriteSettings) -> list[Result]:
    runs = Runs()
    with fresh_database(bench.server) as url:
        env = serve_env(bench, url, settings.mode)
        key = api_key(bench, env, "ingest")
        with serving(bench, env, name="serve-writes") as serve:
            assert serve.base_url is not None
            batches, singles = Counter(), Counter()
            with client(serve.base_url, key) as http:  # warm-up, and the rows raw copies
                for _ in range(2):
                    post_batch(http, BATCH_AREA, batches.take() * ingest.BATCH, ingest.BATCH)
                batch_rows = raw.sample_rows(url, limit=ingest.BATCH)
                for _ in range(200):
                    post_inbound(http, SINGLE_AREA, singles.take())
                single_rows = raw.sample_rows(url, limit=200)
            raw.create_table(url)
            mutable.prepare(url, settings.contacts)
            contacts = mutable.Contacts(settings.contacts)
            wait_quiet(url, settings.mode)
            for round_ in range(settings.rounds):
                log.info("writes: round %d of %d", round_ + 1, settings.rounds)
                runs.add(RAW_COPY, *raw.batched_copy(url, batch_rows, settings.raw_seconds))
                runs.add(
                    "raw INSERT 1,000/tx",
                    *raw.batched_insert(url, batch_rows, settings.raw_seconds),
                )
                load = ingest.run(
                    serve.base_url, key, seconds=settings.ledger_seconds, indexes=batches
                )
                runs.add_load("ledger batch", load)
                wait_quiet(url, settings.mode)
                runs.add(
                    RAW_SINGLE, *raw.one_per_transaction(url, single_rows, settings.raw_seconds)
                )
                runs.add(
                    MUTABLE_1,
                    *mutable.run(url, contacts, connections=1, seconds=settings.raw_seconds),
                )
                runs.add(
                    MUTABLE_32,
                    *mutable.run(url, contacts, connections=32, seconds=settings.raw_seconds),
                )
                load = single_events.run(
                    serve.base_url, key, seconds=settings.ledger_seconds, indexes=singles
                )
                runs.add_load("ledger single", load)
                wait_quiet(url, settings.mode)
    return results(runs, settings, raw.mean_row_bytes(batch_rows), raw.mean_row_bytes(single_rows))


def results(
    runs: Runs, settings: WriteSettings, batch_bytes: float, single_bytes: float
) -> list[Result]:
    batch_loads = runs.loads["ledger batch"]
    single_loads = runs.loads["ledger single"]
    batch_cpu = max(load.client_cores for load in batch_loads)
    single_cpu = max(load.client_cores for load in single_loads)
    ledger_single = runs.summary("ledger single")
    out = [
        Result(
            "(1) raw appends, 1 row/tx, 1 conn",
            "events/s",
            runs.summary(RAW_SINGLE),
            note=f"rows copied from the ledger's own inbound events, {single_bytes:.0f} B each",
        ),
        Result(
            "(1) raw appends, COPY 1,000/tx",
            "events/s",
            runs.summary(RAW_COPY),
            note=f"rows copied from the ledger's own batch events, {batch_bytes:.0f} B each",
        ),
        compared(
            "(1) raw appends, INSERT unnest 1,000/tx",
            "events/s",
            runs.summary("raw INSERT 1,000/tx"),
            RAW_COPY,
            runs.summary(RAW_COPY),
        ),
        Result("(2) mutable baseline, 1 conn", "events/s", runs.summary(MUTABLE_1)),
        Result("(2) mutable baseline, 32 conns", "events/s", runs.summary(MUTABLE_32)),
        compared(
            "(3) ledger batch ingest, HTTP 1,000/request",
            "events/s",
            runs.summary("ledger batch"),
            RAW_COPY,
            runs.summary(RAW_COPY),
            Target(">= 0.5x raw batched", 0.5, metric="ratio"),
            note=f"{ingest.CLIENTS} clients; client used up to {batch_cpu:.2f} cores",
        ),
        compared(
            "(4) ledger single events, 32 clients",
            "events/s",
            ledger_single,
            RAW_SINGLE,
            runs.summary(RAW_SINGLE),
            Target(">= 1.5x raw 1 row/tx", 1.5, metric="ratio"),
            note=f"client used up to {single_cpu:.2f} cores of the 2",
        ),
        compared(
            "(4) ledger single events vs mutable, 1 conn",
            "events/s",
            ledger_single,
            MUTABLE_1,
            runs.summary(MUTABLE_1),
            Target(">= 1x mutable", 1.0, metric="ratio"),
        ),
        compared(
            "(4) ledger single events vs mutable, 32 conns",
            "events/s",
            ledger_single,
            MUTABLE_32,
            runs.summary(MUTABLE_32),
            Target(">= 1x mutable", 1.0, metric="ratio"),
        ),
        Result(
            "(4) ledger single events, p50 latency",
            "ms",
            summarize([load.latency_ms(50) for load in single_loads]),
        ),
        Result(
            "(4) ledger single events, p99 latency",
            "ms",
            summarize([load.latency_ms(99) for load in single_loads]),
            target=Target("< 50 ms", 50, op="<"),
        ),
    ]
    for result in out:
        result.extra["serve_mode"] = settings.mode
    return out
