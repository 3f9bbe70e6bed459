"""Scenario 6 and issue 6 on the large ledger: build it once, then read from it.

Building: ``bench.dataset`` records the subjects, ``consent-ledger projections rebuild
consent_status`` builds the read model (the rebuild scenario: its first run builds the
model, later runs rebuild it again), ``consent-ledger seal --once`` seals the Merkle
log. Then one ``serve`` (production configuration: read models kept elsewhere) answers
the read and targeting benchmarks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bench import dataset, reads, targeting
from bench.clients import Counter
from bench.infra import Bench, api_key, client, serving
from bench.report import Result, Target
from bench.stats import summarize
from tests.support.postgres import fresh_database

log = logging.getLogger("bench")


@dataclass(frozen=True)
class LargeSettings:
    subjects: int
    rebuild_runs: int
    runs: int
    status_seconds: float
    attestation_requests: int
    eligibility_addresses: int
    import_rows: int
    do_reads: bool = True
    do_targeting: bool = True


def run(bench: Bench, settings: LargeSettings) -> list[Result]:
    out: list[Result] = []
    with fresh_database(bench.server) as url:
        log.info("dataset: recording %s subjects", f"{settings.subjects:,}")
        built = dataset.record(url, settings.subjects)
        log.info("dataset: %d events in %.0fs (%.0f/s)", built.events, built.seconds, built.rate)
        out.append(
            Result(
                "large ledger: subjects",
                "subjects",
                summarize([float(settings.subjects)]),
                target=Target(">= 1,000,000 (issue 6)", 1_000_000),
                note="the size the time budget allows at today's rates; --subjects sets it",
            )
        )
        out.append(
            Result(
                "dataset build: ledger record_batch, 2 processes",
                "events/s",
                summarize([built.rate]),
                note=f"{built.events:,} events in {built.seconds:.0f}s (one build per run)",
            )
        )
        settings_env = bench.broker.settings(prefix=f"large{time.time_ns()}")
        env = bench.env(url, **bench.broker.env(settings_env))
        rebuilds, walls = [], []
        for n in range(settings.rebuild_runs):
            rebuilt = dataset.rebuild(bench, env, "consent_status")
            rebuilds.append(rebuilt.events / rebuilt.seconds)
            walls.append(rebuilt.wall)
            log.info("rebuild %d: %d events in %.1fs", n + 1, rebuilt.events, rebuilt.seconds)
        out.append(
            Result(
                "(6) projection rebuild (consent_status)",
                "events/s",
                summarize(rebuilds),
                target=Target(">= 50,000 events/s", 50_000),
                note=f"consent-ledger projections rebuild over {built.events:,} events, as "
                f"the command reports its time; {max(walls):.0f}s or less with process start",
            )
        )
        key_file = dataset.signing_key(bench, env)
        env["CONSENT_LEDGER_SIGNING_KEY"] = str(key_file)
        sealed = dataset.run_timed(bench, env, "seal", "--once")
        log.info("seal: %.1fs", sealed.seconds)
        out.append(
            Result(
                "seal --once over the whole ledger",
                "events/s",
                summarize([built.events / sealed.seconds]),
                note=f"{sealed.seconds:.0f}s for {built.events:,} leaves (one pass per run)",
            )
        )
        key = api_key(bench, env, "ingest,campaign,auditor")
        with serving(bench, env, name="serve-large") as serve:
            assert serve.base_url is not None
            if settings.do_reads:
                out += _reads(serve.base_url, key, settings)
            if settings.do_targeting:
                with client(serve.base_url, key, timeout=1800) as http:
                    measured = targeting.run(
                        bench,
                        env,
                        http,
                        serve.pid,
                        subjects=settings.subjects,
                        addresses=settings.eligibility_addresses,
                        import_rows=settings.import_rows,
                        runs=settings.runs,
                    )
                out += targeting.results(measured)
    for result in out:
        result.extra["ledger_subjects"] = settings.subjects
    return out


def _reads(base_url: str, key: str, settings: LargeSettings) -> list[Result]:
    indexes = Counter()
    status_runs = []
    attestation_runs = []
    bundle_bytes = 0
    for n in range(settings.runs):
        status_runs.append(
            reads.status_under_load(
                base_url,
                key,
                subjects=settings.subjects,
                seconds=settings.status_seconds,
                indexes=indexes,
            )
        )
        load, bundle_bytes = reads.attestation(
            base_url, key, requests=settings.attestation_requests
        )
        attestation_runs.append(load)
        log.info(
            "reads run %d: status p99 %.1f ms, attestation p99 %.1f ms",
            n + 1,
            status_runs[-1][0].latency_ms(99),
            load.latency_ms(99),
        )
    return reads.results(status_runs, attestation_runs, bundle_bytes)
