"""A database outage: writes are refused cleanly and no accepted event is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.errors import Unavailable
from ledger.runtime.storage_settings import StorageSettings
from tests.support.commands import message
from tests.support.postgres import EmbeddedServer, fresh_database


@pytest.fixture
def private_server() -> Iterator[EmbeddedServer]:
    """A PostgreSQL of this test's own, so it can be stopped without harming others."""
    server = EmbeddedServer()
    yield server
    server.close()


def test_writes_during_an_outage_fail_loudly_and_accepted_events_survive(
    private_server: EmbeddedServer,
) -> None:
    with fresh_database(private_server.conninfo) as url:
        storage = StorageSettings(database_url=SecretStr(url), connect_timeout=1)
        ledger = ConsentLedger(storage.eventsourcing_env())
        accepted = set()
        for i in range(20):
            outcome = ledger.receive_message(message(f"+1415555{i:04d}", "STOP"))
            assert outcome.recorded is not None
            accepted.add(outcome.recorded.event_id)

        private_server.stop()
        started = time.monotonic()
        with pytest.raises(Unavailable):
            ledger.receive_message(message("+14155559999", "STOP"))
        assert time.monotonic() - started < 60

        private_server.start()
        after = ledger.receive_message(message("+14155559999", "STOP"))
        assert after.recorded is not None
        accepted.add(after.recorded.event_id)

        stored = {
            ledger.ledger_event(n).event_id
            for n in ledger.recorder.select_notifications(start=None, limit=1000)
        }
        assert stored == accepted
        ledger.close()
