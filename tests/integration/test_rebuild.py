"""``projections rebuild``: the ledger replayed into fresh tables equals the live read model,
and the live one keeps serving while the copy is built."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.erasure import erase_personal_data
from ledger.runtime.storage_settings import StorageSettings
from projections import rebuild as rebuild_module
from projections.consent_status.projection import ConsentStatusProjection
from projections.embedded import EmbeddedProjections
from projections.rebuild import rebuild
from projections.subject_projection import SubjectProjection
from projections.views import PROJECTION_NAMES
from tests.support.commands import opt_in
from tests.support.kafka import Broker
from tests.support.pipeline import (
    addresses_of,
    assert_status_equals_fold,
    caught_up,
    consumers,
    ledger_on,
    publisher,
    write_workload,
)


def contents(projection: SubjectProjection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the projection's tables, in a stable order."""
    db = projection.db
    tables = [f"{projection.model.name}_subjects", *projection.model.tables]
    found: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as cursor:
        for table in tables:
            rows = cursor.execute(f"SELECT * FROM {db.table(table)}").fetchall()  # noqa: S608
            found[table] = sorted(tuple(str(v) for v in dict(r).values()) for r in rows)
    return found


@pytest.fixture
def pg_ledger(pg_storage: StorageSettings) -> Iterator[ConsentLedger]:
    yield from ledger_on(pg_storage)


def test_the_projection_rebuilt_from_the_ledger_equals_the_one_built_from_kafka(
    pg_storage: StorageSettings, pg_ledger: ConsentLedger, broker: Broker
) -> None:
    kafka = broker.settings()
    with publisher(pg_storage, kafka), consumers(pg_storage, kafka) as service:
        # Given read models the consumers built from Kafka
        last = write_workload(pg_ledger, operations=300, subjects=30)
        assert caught_up(service.projections, last)
        built_from_kafka = {p.name: contents(p) for p in service.projections}
        # When each is rebuilt from the ledger (while the consumers keep running)
        for projection in service.projections:
            result = rebuild(projection.name, pg_ledger)
            assert result.position == last
            assert result.subjects == len(
                built_from_kafka[projection.name][f"{projection.name}_subjects"]
            )
        # Then the rebuilt tables hold exactly what Kafka had built
        assert {p.name: contents(p) for p in service.projections} == built_from_kafka
        # and the consumers go on feeding the swapped-in tables
        more = write_workload(pg_ledger, operations=50, subjects=30, seed=9)
        assert caught_up(service.projections, more)
        status = service.projections[0]
        assert isinstance(status, ConsentStatusProjection)
        assert_status_equals_fold(status, pg_ledger, addresses_of(30))


def test_serving_goes_on_during_a_rebuild_on_the_embedded_default(
    storage: StorageSettings, ledger: ConsentLedger
) -> None:
    embedded = EmbeddedProjections(ledger=ledger)
    try:
        last = write_workload(ledger, operations=200, subjects=20)
        assert caught_up(embedded.projections.all(), last)
        before = {
            name: contents(p)
            for name, p in zip(PROJECTION_NAMES, embedded.projections.all(), strict=True)
        }
        subject = ledger.state_of("acme", "whatsapp", addresses_of(20)[0]).id
        reads: list[bool] = []
        stop = threading.Event()

        def read_all_the_time() -> None:
            while not stop.is_set():
                reads.append(embedded.consent_status.subject(subject) is not None)

        # Given a reader hammering the live read model
        reader = threading.Thread(target=read_all_the_time)
        reader.start()
        # When every projection is rebuilt
        try:
            for name in PROJECTION_NAMES:
                rebuild(name, ledger)
        finally:
            stop.set()
            reader.join()
        # Then every read was answered, and the rebuilt tables equal the live ones
        assert reads
        assert all(reads)
        after = {
            name: contents(p)
            for name, p in zip(PROJECTION_NAMES, embedded.projections.all(), strict=True)
        }
        assert after == before
        embedded.check()
    finally:
        embedded.close()


def test_rebuild_reports_progress_to_the_end(
    storage: StorageSettings, ledger: ConsentLedger
) -> None:
    last = write_workload(ledger, operations=60, subjects=5)
    seen: list[tuple[int, int]] = []
    result = rebuild(
        "consent_status", ledger, progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (last, last)
    assert result.subjects == 5
    assert result.events == last


def test_a_rebuild_in_several_processes_equals_the_live_projection(
    pg_ledger: ConsentLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given subjects whose histories are plain grants and withdrawals, others with
    # requests, answers and keywords, and one erased, all applied by the live engine
    embedded = EmbeddedProjections(ledger=pg_ledger)
    try:
        plain = [f"+1415666{n:04d}" for n in range(40)]
        for n, address in enumerate(plain):
            pg_ledger.record(opt_in(address, purposes=("marketing", "utility")[: 1 + n % 2]))
            if n % 3 == 0:
                pg_ledger.record(opt_in(address, purposes=("marketing",), kind="opted_out"))
        last = write_workload(pg_ledger, operations=200, subjects=30)
        last = erase_personal_data(pg_ledger, "acme", "whatsapp", plain[1]).position
        assert caught_up(embedded.projections.all(), last)
        before = contents(embedded.consent_status)
        # When it is rebuilt by one process per core (forced on this small ledger)
        monkeypatch.setattr(rebuild_module, "EVENTS_PER_EXTRA_PROCESS", 1)
        result = rebuild("consent_status", pg_ledger)
        # Then the tables equal the live ones, row for row
        assert result.subjects == 70
        assert contents(embedded.consent_status) == before
    finally:
        embedded.close()
