"""The rows of scenarios 1-4 and of their generators' ceilings (``bench.writes`` runs them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import ingest
from bench.clients import Load
from bench.report import Result, Target, compared
from bench.stats import Summary, summarize
from bench.wrk_load import WrkRun

RAW_SINGLE = "raw 1 row/tx"
RAW_SINGLE_32 = "raw 1 row/tx 32 conns"
RAW_COPY = "raw COPY 1,000/tx"
RAW_UNNEST = "raw INSERT 1,000/tx"
MUTABLE_1 = "mutable 1 conn"
MUTABLE_32 = "mutable 32 conns"
LEDGER_BATCH = "ledger batch"
LEDGER_SINGLE = "ledger single"
WRK_TRIVIAL = "wrk vs trivial route"
BATCH_TRIVIAL = "batch clients vs trivial route"
PGBENCH_SELECT = "pgbench SELECT 1"

SINGLE_TARGET = "(4) target rate"
BATCH_TARGET = "(3) target rate"


@dataclass
class GeneratorRuns:
    """What the generators did in each run: their CPU, their own counts."""

    cores: dict[str, list[float]] = field(default_factory=dict)  # psycopg and pgbench runs
    loads: dict[str, list[Load]] = field(default_factory=dict)  # the Python batch clients
    wrk: dict[str, list[WrkRun]] = field(default_factory=dict)
    serve_cores: list[float] = field(default_factory=list)  # serve, under wrk

    def max_cores(self, name: str) -> float:
        if name in self.wrk:
            return max(r.cores for r in self.wrk[name])
        if name in self.loads:
            return max(load.client_cores for load in self.loads[name])
        return max(self.cores[name])


def results(
    rates: dict[str, list[float]],
    generators: GeneratorRuns,
    *,
    mode: str,
    batch_bytes: float,
    single_bytes: int,
) -> list[Result]:
    def s(name: str) -> Summary:
        return summarize(rates[name])

    def cores(name: str, who: str) -> str:
        return f"{who} used up to {generators.max_cores(name):.2f} cores"

    # What the targets ask, per round (same run): single events >= 1.5x raw 1 row/tx and
    # >= 1x mutable on 32 connections; batch ingest >= 0.5x raw COPY.
    single_needed = summarize(
        [max(1.5 * r, m) for r, m in zip(rates[RAW_SINGLE], rates[MUTABLE_32], strict=True)]
    )
    batch_needed = summarize([0.5 * r for r in rates[RAW_COPY]])
    single = s(LEDGER_SINGLE)
    wrk_runs = generators.wrk[LEDGER_SINGLE]
    errors = sum(r.errors for r in wrk_runs)
    requests = sum(r.requests for r in wrk_runs)
    error_text = next((r.error_text() for r in wrk_runs if r.errors), "no errors")
    serve = max(generators.serve_cores)

    def latency(q: str) -> Summary:
        return summarize([r.latency_ms[q] for r in wrk_runs])

    trivial = generators.wrk[WRK_TRIVIAL]
    single_row = compared(
        "(4) ledger single events, 32 conns",
        "events/s",
        single,
        RAW_SINGLE,
        s(RAW_SINGLE),
        Target(">= 1.5x raw 1 row/tx", 1.5, metric="ratio"),
        note=f"wrk, 32 connections, {requests:,} requests in {len(wrk_runs)} runs, "
        f"{error_text}; {cores(LEDGER_SINGLE, 'wrk')}, serve up to {serve:.2f}",
    )
    single_row.extra["errors"] = errors
    out = [
        Result(
            "(1) raw appends, 1 row/tx, 1 conn",
            "events/s",
            s(RAW_SINGLE),
            note=f"pgbench, one {single_bytes} B row of the ledger's inbound events per "
            f"INSERT; {cores(RAW_SINGLE, 'pgbench')}",
        ),
        Result(
            "(1) raw appends, 1 row/tx, 32 conns",
            "events/s",
            s(RAW_SINGLE_32),
            note=f"pgbench, 32 clients; {cores(RAW_SINGLE_32, 'pgbench')}",
        ),
        Result(
            "(1) raw appends, COPY 1,000/tx",
            "events/s",
            s(RAW_COPY),
            note="psycopg COPY (pgbench cannot send COPY FROM STDIN) of rows encoded once, "
            f"the ledger's batch events, {batch_bytes:.0f} B each; {cores(RAW_COPY, 'client')}",
        ),
        compared(
            "(1) raw appends, INSERT unnest 1,000/tx",
            "events/s",
            s(RAW_UNNEST),
            RAW_COPY,
            s(RAW_COPY),
            note=f"psycopg; {cores(RAW_UNNEST, 'client')}",
        ),
        Result(
            "(2) mutable baseline, 1 conn",
            "events/s",
            s(MUTABLE_1),
            note=f"pgbench; {cores(MUTABLE_1, 'pgbench')}",
        ),
        Result(
            "(2) mutable baseline, 32 conns",
            "events/s",
            s(MUTABLE_32),
            note=f"pgbench, 32 clients; {cores(MUTABLE_32, 'pgbench')}",
        ),
        compared(
            "(3) ledger batch ingest, HTTP 1,000/request",
            "events/s",
            s(LEDGER_BATCH),
            RAW_COPY,
            s(RAW_COPY),
            Target(">= 0.5x raw COPY", 0.5, metric="ratio"),
            note=f"{ingest.CLIENTS} Python keep-alive clients (two a serve worker); "
            f"{cores(LEDGER_BATCH, 'they')}",
        ),
        single_row,
        compared(
            "(4) ledger single events vs raw 1 row/tx, 32 conns",
            "events/s",
            single,
            RAW_SINGLE_32,
            s(RAW_SINGLE_32),
        ),
        compared(
            "(4) ledger single events vs mutable, 1 conn",
            "events/s",
            single,
            MUTABLE_1,
            s(MUTABLE_1),
        ),
        compared(
            "(4) ledger single events vs mutable, 32 conns",
            "events/s",
            single,
            MUTABLE_32,
            s(MUTABLE_32),
            Target(">= 1x mutable 32 conns", 1.0, metric="ratio"),
        ),
        Result("(4) ledger single events, p50 latency", "ms", latency("p50")),
        Result(
            "(4) ledger single events, p99 latency",
            "ms",
            latency("p99"),
            target=Target("< 50 ms", 50, op="<"),
        ),
        Result("(4) ledger single events, p99.9 latency", "ms", latency("p99_9")),
        compared(
            "(g) wrk, inbound script vs trivial route, 32 conns",
            "requests/s",
            s(WRK_TRIVIAL),
            SINGLE_TARGET,
            single_needed,
            note=f"{cores(WRK_TRIVIAL, 'wrk')}; p99 "
            f"{max(r.latency_ms['p99'] for r in trivial):.1f} ms; the (4) target rate is "
            f"max(1.5x raw 1 row/tx, mutable 32 conns) = {single_needed.median:,.0f}/s",
        ),
        compared(
            f"(g) batch clients vs trivial route, {ingest.CLIENTS} clients",
            "events/s",
            s(BATCH_TRIVIAL),
            BATCH_TARGET,
            batch_needed,
            note=f"{cores(BATCH_TRIVIAL, 'they')}; the (3) target rate is 0.5x raw COPY = "
            f"{batch_needed.median:,.0f}/s",
        ),
        compared(
            "(g) pgbench SELECT 1, 32 clients",
            "transactions/s",
            s(PGBENCH_SELECT),
            RAW_SINGLE_32,
            s(RAW_SINGLE_32),
            note=f"pgbench's ceiling with PostgreSQL doing no work; "
            f"{cores(PGBENCH_SELECT, 'pgbench')}",
        ),
    ]
    for result in out:
        result.extra["serve_mode"] = mode
    return out
