"""The large ledger the read and targeting benchmarks run on, built once per run.

``subjects`` subjects with one event each, recorded through the ledger itself
(``ConsentLedger.record_batch``) by worker processes in parallel, plus one subject with
100 events (the attestation benchmark's). The mix: 80% opted in to marketing, 10% opted
in to marketing and utility, 5% a plain opt-out (every purpose), 5% an opt-out of
marketing. Then the real ``consent-ledger projections rebuild`` builds the read models
(timed: the rebuild scenario) and ``consent-ledger seal --once`` the Merkle log.
"""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bench.infra import Bench
from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.commands import CaptureMethod, Evidence, Notice, RecordConsent, Source
from ledger.runtime.storage_settings import StorageSettings
from tests.support.processes import CLI

TENANT = "acme"
CHANNEL = "whatsapp"
HEAVY_ADDRESS = "+14089990000"
HEAVY_EVENTS = 100
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def address(index: int) -> str:
    """The dataset's subjects are +1 415 000 0000 onwards."""
    return f"+1415{index:07d}"


def kind_of(index: int) -> tuple[str, tuple[str, ...]]:
    slot = index % 20
    if slot == 0:
        return "opted_out", ()  # a plain STOP: every purpose
    if slot == 1:
        return "opted_out", ("marketing",)
    if slot in (2, 3):
        return "opted_in", ("marketing", "utility")
    return "opted_in", ("marketing",)


def is_opted_in_to_marketing(index: int) -> bool:
    return index % 20 >= 2


EVIDENCE = Evidence(
    method=CaptureMethod.WEB_FORM,
    text="I agree to receive offers from Acme",
    notice=Notice("privacy", "3"),
    business_name="Acme",
    ip="203.0.113.9",
)


def command(index: int) -> RecordConsent:
    kind, purposes = kind_of(index)
    return RecordConsent(
        tenant=TENANT,
        channel=CHANNEL,
        address=address(index),
        type=kind,
        purposes=purposes,
        occurred_at=EPOCH + timedelta(seconds=index),
        source=Source("web_form", f"ds-{index}"),
        evidence=EVIDENCE,
    )


def heavy_commands() -> list[RecordConsent]:
    """The subject with 100 events: opt-ins and opt-outs of marketing, alternating."""
    return [
        RecordConsent(
            tenant=TENANT,
            channel=CHANNEL,
            address=HEAVY_ADDRESS,
            type="opted_in" if n % 2 == 0 else "opted_out",
            purposes=("marketing",),
            occurred_at=EPOCH + timedelta(minutes=n),
            source=Source("web_form", f"heavy-{n}"),
            evidence=EVIDENCE,
        )
        for n in range(HEAVY_EVENTS)
    ]


def storage(url: str) -> StorageSettings:
    return StorageSettings(database_url=SecretStr(url))


def _record_range(url: str, start: int, stop: int, batch: int) -> int:
    """One worker process: record subjects ``start``..``stop`` in batches."""
    ledger = ConsentLedger(storage(url).eventsourcing_env())
    try:
        done = 0
        for first in range(start, stop, batch):
            commands = [command(i) for i in range(first, min(first + batch, stop))]
            done += len(ledger.record_batch(commands))
        return done
    finally:
        ledger.close()


@dataclass(frozen=True)
class Built:
    subjects: int
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def record(url: str, subjects: int, *, workers: int = 2, batch: int = 2000) -> Built:
    """Record the dataset; returns how long it took (schema creation excluded)."""
    with ConsentLedger(storage(url).eventsourcing_env()) as ledger:  # creates the schema
        heavy = len(ledger.record_batch(heavy_commands()))
    started = time.perf_counter()
    bounds = [subjects * w // workers for w in range(workers + 1)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        counts = pool.starmap(
            _record_range, [(url, bounds[w], bounds[w + 1], batch) for w in range(workers)]
        )
    seconds = time.perf_counter() - started
    return Built(subjects + 1, sum(counts) + heavy, seconds)


@dataclass(frozen=True)
class Timed:
    seconds: float
    output: str


def run_timed(bench: Bench, env: dict[str, str], *args: str, timeout: float = 1800) -> Timed:
    """Run a ``consent-ledger`` command to its end; its wall time, start-up included."""
    started = time.perf_counter()
    done = subprocess.run(
        [CLI, *args],
        env=env,
        cwd=bench.workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"consent-ledger {' '.join(args)} failed: {done.stderr[-2000:]}")
    return Timed(seconds, done.stdout + done.stderr)


@dataclass(frozen=True)
class Rebuilt:
    events: int
    seconds: float  # as the command reports it: from opening the ledger to the swap
    wall: float  # the whole process, start-up (imports) included


def rebuild(bench: Bench, env: dict[str, str], name: str) -> Rebuilt:
    """``consent-ledger projections rebuild NAME``: events replayed, and the time it took."""
    timed = run_timed(bench, env, "projections", "rebuild", name)
    found = re.search(r"rebuilt \w+: (\d+) events.* in ([\d.]+)s", timed.output)
    if found is None:
        raise RuntimeError(f"unexpected rebuild output: {timed.output[-500:]}")
    return Rebuilt(int(found.group(1)), float(found.group(2)), timed.seconds)


def signing_key(bench: Bench, env: dict[str, str]) -> Path:
    path = bench.workdir / f"signing-{time.time_ns()}.pem"
    run_timed(bench, env, "keys", "signing-key", "--out", str(path))
    return path
