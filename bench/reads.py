"""Scenario 6, reads, on the large ledger (``bench.dataset``).

* Status lookups under load: ``READERS`` clients GET the status of random subjects of
  the dataset while one client posts inbound messages (new people) back to back.
* Attestation: one auditor client GETs the bundle of the subject with 100 events (its
  events, hash chain, Merkle inclusion proofs against the signed checkpoint of the whole
  ledger, and the ledger's own verification of it), request after request.

``serve`` runs as in production with Kafka (``DATABASE_URL`` and
``KAFKA_BOOTSTRAP_SERVERS``): it reads the read models the consumers keep and runs no
projection itself; no consumer runs here, so the writer's events load the ledger and the
server but are not projected.
"""

from __future__ import annotations

import logging
import random
import threading
import time

import httpx

from bench import dataset
from bench.clients import Counter, Load, closed_loop
from bench.infra import client
from bench.report import Result, Target
from bench.stats import summarize
from bench.workload import WRITER_AREA, post_inbound

log = logging.getLogger("bench")

READERS = 8


def status_under_load(
    base_url: str, key: str, *, subjects: int, seconds: float, indexes: Counter
) -> tuple[Load, Load]:
    """(readers' load, writer's load), run at the same time."""
    rng = random.Random(8)
    written: list[Load] = []

    def read(http: httpx.Client, _: int) -> int:
        address = dataset.address(rng.randrange(subjects))
        response = http.get(f"/v1/subjects/whatsapp/{address}")
        if response.status_code != 200:
            raise RuntimeError(f"status: {response.status_code} {response.text[:200]}")
        return 1

    def write(http: httpx.Client, index: int) -> int:
        post_inbound(http, WRITER_AREA, index)
        return 1

    def writer() -> None:
        written.append(
            closed_loop(base_url, key, threads=1, seconds=seconds, operation=write, indexes=indexes)
        )

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    reads = closed_loop(
        base_url, key, threads=READERS, seconds=seconds, operation=read, indexes=Counter()
    )
    thread.join()
    if not written:
        raise RuntimeError("the background writer failed")
    return reads, written[0]


def attestation(base_url: str, key: str, *, requests: int) -> tuple[Load, int]:
    """(sequential GETs of the 100-event subject's bundle, bytes of one bundle)."""
    path = f"/v1/subjects/whatsapp/{dataset.HEAVY_ADDRESS}/attestation"
    load, size = Load(), 0
    with client(base_url, key, timeout=60) as http:
        for n in range(requests + 1):  # the first one warms up and is not counted
            began = time.perf_counter()
            response = http.get(path)
            elapsed = time.perf_counter() - began
            if response.status_code != 200:
                raise RuntimeError(f"attestation: {response.status_code} {response.text[:200]}")
            bundle = response.json()
            events, verified = len(bundle["events"]), bundle["verification"]["verified"]
            if events != dataset.HEAVY_EVENTS or not verified:
                raise RuntimeError(f"not the verified 100-event bundle: {events}, {verified}")
            size = len(response.content)
            if n:
                load.count += 1
                load.latencies.append(elapsed)
                load.seconds += elapsed
    return load, size


def results(
    status_runs: list[tuple[Load, Load]], attestation_runs: list[Load], bundle_bytes: int
) -> list[Result]:
    reads = [r for r, _ in status_runs]
    writes = [w for _, w in status_runs]
    ledger_size_note = f"bundle of {dataset.HEAVY_EVENTS} events, {bundle_bytes / 1024:.0f} KiB"
    return [
        Result(
            "(6) status lookup under load, p99",
            "ms",
            summarize([r.latency_ms(99) for r in reads]),
            note=f"{READERS} readers of random subjects beside 1 writer",
        ),
        Result(
            "(6) status lookup under load, p50", "ms", summarize([r.latency_ms(50) for r in reads])
        ),
        Result(
            "(6) status lookups under load, rate", "reads/s", summarize([r.rate for r in reads])
        ),
        Result(
            "(6) background writes during lookups", "events/s", summarize([w.rate for w in writes])
        ),
        Result(
            "(6) attestation bundle (100 events), p99",
            "ms",
            summarize([a.latency_ms(99) for a in attestation_runs]),
            target=Target("< 50 ms", 50, op="<"),
            note=ledger_size_note,
        ),
        Result(
            "(6) attestation bundle (100 events), p50",
            "ms",
            summarize([a.latency_ms(50) for a in attestation_runs]),
        ),
    ]
