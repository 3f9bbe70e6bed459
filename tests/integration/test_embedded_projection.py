"""The in-process projection (embedded default) ends equal to the fold of the ledger."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.records import InboundOutcome
from ledger.runtime.storage_settings import StorageSettings
from projections.embedded import EmbeddedProjections
from tests.support.commands import message, opt_in


@pytest.fixture
def embedded(storage: StorageSettings) -> Iterator[EmbeddedProjections]:
    projections = EmbeddedProjections(storage)
    yield projections
    projections.close()


def test_the_read_model_equals_the_fold_of_the_ledger(
    ledger: ConsentLedger, embedded: EmbeddedProjections
) -> None:
    rng = random.Random(7)
    addresses = [f"+1415555{n:04d}" for n in range(12)]
    last = 0
    for _ in range(120):
        address = rng.choice(addresses)
        if rng.random() < 0.3:
            result = ledger.record(
                opt_in(address, purposes=(rng.choice(["marketing", "utility"]),))
            )
            last = max(last, result.position)
        else:
            text = rng.choice(["STOP", "START", "stop promotions", "YES", "NO", "hello", "HELP"])
            outcome = ledger.receive_message(message(address, text))
            if outcome.recorded:
                last = max(last, outcome.recorded.position)
    assert embedded.consent_status.wait_for(last, timeout=10)
    embedded.check()
    for address in addresses:
        truth = ledger.state_of("acme", "whatsapp", address)
        projected = embedded.consent_status.subject(truth.id)
        if truth.version == 0:
            assert projected is None
            continue
        assert projected is not None
        assert projected.state == truth
        assert projected.address == address
        assert {r.purpose: (r.status, r.event_id) for r in projected.rows} == {
            p: (s.status.value, s.event_id) for p, s in truth.statuses().items()
        }


def test_a_restarted_projection_resumes_without_applying_anything_twice(
    storage: StorageSettings, ledger: ConsentLedger
) -> None:
    first = EmbeddedProjections(storage)
    a = ledger.receive_message(message("+14155550100", "START"))
    assert a.recorded
    assert first.consent_status.wait_for(a.recorded.position, 10)
    first.close()
    b = ledger.receive_message(message("+14155550100", "STOP"))
    second = EmbeddedProjections(storage)
    try:
        assert b.recorded
        assert second.consent_status.wait_for(b.recorded.position, 10)
        projected = second.consent_status.subject(b.subject_id)
        assert projected is not None
        assert projected.state.version == 2
        assert projected.state == ledger.state_of("acme", "whatsapp", "+14155550100")
    finally:
        second.close()


def test_a_projection_reading_the_ledger_inside_its_write_does_not_stall_a_writer(
    ledger: ConsentLedger,
) -> None:
    """On SQLite the projections share the ledger's connection pool and its one writer."""
    embedded = EmbeddedProjections(ledger=ledger)
    try:
        first = ledger.record(opt_in("+14155550001"))
        assert embedded.consent_status.wait_for(first.position, timeout=10)
        projection = embedded.consent_status
        writer_waiting = threading.Event()
        outcome: list[object] = []

        def write_meanwhile() -> None:
            writer_waiting.set()
            try:
                outcome.append(ledger.receive_message(message("+14155550002", "HELP")))
            except Exception as exc:  # the stall ended in "Timed out waiting for return of writer"
                outcome.append(exc)

        # Given a projection's write transaction in progress (what the feed does per batch)
        with projection.db.write():
            writer = threading.Thread(target=write_meanwhile)
            writer.start()
            writer_waiting.wait()
            writer.join(0.3)  # a ledger writer now queues for the pool's one writer
            # When the projection reads the ledger inside its transaction
            keys = embedded.source.data_keys([first.subject_id])
            # Then it reads, without waiting for that writer
            assert first.subject_id in keys
        writer.join()
        # And the writer goes on once the transaction ends: its help reply was queued
        assert len(outcome) == 1
        assert isinstance(outcome[0], InboundOutcome), outcome
        assert outcome[0].action == "help"
        kinds = [m.kind for m in ledger.store.select_outbox(after=0, limit=10)]
        assert kinds.count("help") == 1
    finally:
        embedded.close()


def test_a_batch_that_fails_in_the_shared_transaction_is_applied_read_model_by_read_model(
    storage: StorageSettings, ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every read model applies a batch in one transaction; when that fails for something
    other than the database, the batch is applied one read model at a time, and counted."""
    before = _splits()
    embedded = EmbeddedProjections(storage)
    try:
        daily = embedded.projections.consent_daily
        apply_in = daily.apply_in
        failures = []

        def fails_once(*args: object, **kwargs: object) -> int:
            if not failures:  # a read model that cannot apply this batch the first time
                failures.append(1)
                raise ValueError("cannot apply this batch")
            return apply_in(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(daily, "apply_in", fails_once)
        result = ledger.record(opt_in("+14155550300"))
        assert embedded.consent_status.wait_for(result.position, timeout=10)
        assert daily.wait_for(result.position, timeout=10)
        assert failures == [1]
        assert _splits() == before + 1
        projected = embedded.consent_status.subject(result.subject_id)
        assert projected is not None
        assert projected.state.version == 1
        embedded.check()  # it recovered: no error left behind
    finally:
        embedded.close()


def _splits() -> float:
    found = REGISTRY.get_sample_value(
        "consent_ledger_projection_batches_split_total", {"runner": "embedded"}
    )
    return found or 0.0
