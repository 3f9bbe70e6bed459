"""Scenarios 1-4 side by side: every baseline and the ledger, alternating, in one database.

One fresh database holds the ledger (fed by a real ``consent-ledger serve``), the raw
copy of its events table and the mutable baseline's tables. Each round runs, in turn:
raw batched appends (psycopg: COPY, then INSERT unnest), the ledger's batch ingest
(2 Python clients), raw one-row transactions and the mutable baseline (pgbench, on 1
and on 32 connections), the ledger's single events (wrk, 32 connections), then each
generator against a trivial route (its ceiling here). Ratios are medians over medians
of these interleaved runs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import psycopg

from bench import capacity, ingest, mutable, pgbench_load, raw, wrk_load
from bench.clients import Counter, Load
from bench.infra import Bench, api_key, client, cpu_seconds, serving, tree_cpu_seconds
from bench.report import Result
from bench.workload import BATCH_AREA, SINGLE_AREA, post_batch, post_inbound
from bench.writes_report import (
    BATCH_TRIVIAL,
    LEDGER_BATCH,
    LEDGER_SINGLE,
    MUTABLE_1,
    MUTABLE_32,
    PGBENCH_SELECT,
    RAW_COPY,
    RAW_SINGLE,
    RAW_SINGLE_32,
    RAW_UNNEST,
    WRK_TRIVIAL,
    GeneratorRuns,
    results,
)
from tests.support.postgres import fresh_database

log = logging.getLogger("bench")

CONNECTIONS = 32  # the single-events clients, and the baselines' "32 connections"


@dataclass(frozen=True)
class WriteSettings:
    rounds: int
    raw_seconds: float
    ledger_seconds: float
    contacts: int  # a multiple of 32: each pgbench client keeps to its own contacts
    # How serve runs: "pipeline" (DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS: the production
    # path, read models kept by `consume` elsewhere) or "embedded" (projections in-process).
    mode: str = "pipeline"


@dataclass
class Runs:
    """Every run of every scenario of the group, by name, in the order they ran."""

    rates: dict[str, list[float]] = field(default_factory=dict)
    generators: GeneratorRuns = field(default_factory=GeneratorRuns)

    def add(self, name: str, count: float, seconds: float) -> None:
        rate = count / seconds
        self.rates.setdefault(name, []).append(rate)
        log.info("%-34s %10.0f /s  (%d in %.1fs)", name, rate, count, seconds)


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


def psycopg_run(runs: Runs, name: str, work: tuple[int, float], cpu_before: float) -> None:
    count, seconds = work
    runs.add(name, count, seconds)
    runs.generators.cores.setdefault(name, []).append((cpu_seconds() - cpu_before) / seconds)


def pgbench_run(runs: Runs, name: str, done: pgbench_load.PgbenchRun) -> None:
    if done.failed:
        raise RuntimeError(f"{name}: pgbench reported {done.failed} failed transactions")
    runs.rates.setdefault(name, []).append(done.tps)
    runs.generators.cores.setdefault(name, []).append(done.cores)
    log.info("%-34s %10.0f /s  (%d, pgbench)", name, done.tps, done.transactions)


def wrk_stride(seconds: float) -> int:
    """Numbers per wrk thread and run: far more than any server here answers."""
    return int(20_000 * seconds) + 10_000


def run(bench: Bench, settings: WriteSettings) -> list[Result]:
    runs = Runs()
    with fresh_database(bench.server) as url:
        env = serve_env(bench, url, settings.mode)
        key = api_key(bench, env, "ingest")
        with serving(bench, env, name="serve-writes") as serve, capacity.trivial_route() as trivial:
            assert serve.base_url is not None
            batches, singles = Counter(), Counter()
            with client(serve.base_url, key) as http:  # warm-up, and the rows raw copies
                for _ in range(2):
                    post_batch(http, BATCH_AREA, batches.take() * ingest.BATCH, ingest.BATCH)
                batch_rows = raw.sample_rows(url, limit=ingest.BATCH)
                for _ in range(200):
                    post_inbound(http, SINGLE_AREA, singles.take())
                single_rows = raw.sample_rows(url, limit=200)
            single_row = raw.typical_row(single_rows)
            raw.create_table(url)
            mutable.prepare(url, settings.contacts)
            contacts = pgbench_load.MutableCursor(settings.contacts)
            wait_quiet(url, settings.mode)
            seconds = settings.raw_seconds
            for round_ in range(settings.rounds):
                log.info("writes: round %d of %d", round_ + 1, settings.rounds)
                before = cpu_seconds()
                psycopg_run(runs, RAW_COPY, raw.batched_copy(url, batch_rows, seconds), before)
                before = cpu_seconds()
                work = raw.batched_insert(url, batch_rows, seconds)
                psycopg_run(runs, RAW_UNNEST, work, before)
                load = ingest.run(
                    serve.base_url, key, seconds=settings.ledger_seconds, indexes=batches
                )
                runs.add(LEDGER_BATCH, load.count, load.seconds)
                runs.generators.loads.setdefault(LEDGER_BATCH, []).append(load)
                wait_quiet(url, settings.mode)
                for clients, name in ((1, RAW_SINGLE), (CONNECTIONS, RAW_SINGLE_32)):
                    done = pgbench_load.raw_inserts(
                        url, single_row, clients=clients, seconds=seconds
                    )
                    pgbench_run(runs, name, done)
                for clients, name in ((1, MUTABLE_1), (CONNECTIONS, MUTABLE_32)):
                    pgbench_run(runs, name, contacts.run(url, clients=clients, seconds=seconds))
                ledger_single(runs, serve.pid, serve.base_url, key, settings, singles)
                wait_quiet(url, settings.mode)
                generators(runs, trivial, url, seconds)
    return results(
        runs.rates,
        runs.generators,
        mode=settings.mode,
        batch_bytes=raw.mean_row_bytes(batch_rows),
        single_bytes=len(single_row.state) + len(single_row.topic),
    )


def ledger_single(
    runs: Runs, pid: int, base_url: str, key: str, settings: WriteSettings, singles: Counter
) -> None:
    """wrk, 32 connections, every request a new inbound message from a new person."""
    stride = wrk_stride(settings.ledger_seconds)
    first = singles.block(2 * stride)
    serve_before = tree_cpu_seconds(pid)
    done = wrk_load.run(
        base_url,
        wrk_load.INBOUND,
        key=key,
        connections=CONNECTIONS,
        seconds=settings.ledger_seconds,
        args=wrk_load.inbound_args(SINGLE_AREA, first, stride, check=True),
    )
    runs.generators.serve_cores.append((tree_cpu_seconds(pid) - serve_before) / done.seconds)
    runs.generators.wrk.setdefault(LEDGER_SINGLE, []).append(done)
    if done.errors:
        log.warning("ledger single: %s", done.error_text())
    runs.add(LEDGER_SINGLE, done.items, done.seconds)


def generators(runs: Runs, trivial: str, url: str, seconds: float) -> None:
    """Each generator of this group against the trivial route (or statement)."""
    done = capacity.wrk_inbound(trivial, connections=CONNECTIONS, seconds=seconds)
    runs.generators.wrk.setdefault(WRK_TRIVIAL, []).append(done)
    runs.add(WRK_TRIVIAL, done.items, done.seconds)
    load: Load = capacity.batch_clients(trivial, seconds=seconds)
    runs.generators.loads.setdefault(BATCH_TRIVIAL, []).append(load)
    runs.add(BATCH_TRIVIAL, load.count, load.seconds)
    pgbench_run(
        runs, PGBENCH_SELECT, pgbench_load.select_one(url, clients=CONNECTIONS, seconds=seconds)
    )
