"""``consent-ledger expire``: unanswered opt-in requests past their window are recorded
as expired, found through ``pending_requests``, on the embedded default and on Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.consent_status import Status
from ledger.domain.times import utc_now
from ledger.runtime.storage_settings import StorageSettings
from projections.pending_requests import PendingRequestsProjection
from tests.support.commands import message, optin_request
from tests.support.kafka import Broker, wait_until
from tests.support.pipeline import caught_up, consumers, ledger_on, publisher
from tests.support.processes import clean_env, run_cli

ASKED_TWO_DAYS_AGO = ("+14155550100", "+14155550101")
ANSWERED = "+14155550101"
ASKED_NOW = "+14155550102"


def ask(ledger: ConsentLedger, address: str) -> int:
    answer = ledger.request_opt_in(optin_request(address)).recorded
    return answer.position


def given_requests(storage: StorageSettings, ledger: ConsentLedger) -> None:
    """Two requests asked two days ago (one answered since), one asked just now."""
    two_days_ago = utc_now() - timedelta(days=2)
    earlier = ConsentLedger(storage.eventsourcing_env(), clock=lambda: two_days_ago)
    try:
        for address in ASKED_TWO_DAYS_AGO:
            ask(earlier, address)
    finally:
        earlier.close()
    ledger.receive_message(message(ANSWERED, "YES"))
    ask(ledger, ASKED_NOW)


def status_of(ledger: ConsentLedger, address: str) -> Status | None:
    purpose = ledger.state_of("acme", "whatsapp", address).status_of("marketing")
    return purpose.status if purpose else None


def then_only_the_unanswered_old_request_expired(ledger: ConsentLedger) -> None:
    assert status_of(ledger, ASKED_TWO_DAYS_AGO[0]) is Status.EXPIRED
    assert status_of(ledger, ANSWERED) is Status.OPTED_IN
    assert status_of(ledger, ASKED_NOW) is Status.PENDING
    history = ledger.history("acme", "whatsapp", ASKED_TWO_DAYS_AGO[0]).entries
    expired = [e.document for e in history if e.document["type"] == "opt_in_request_expired"]
    assert len(expired) == 1
    pending_since = datetime.fromisoformat(
        history[0].document["recorded_at"].replace("Z", "+00:00")
    )
    assert expired[0]["occurred_at"] == history[0].document["expires_at"]
    assert pending_since < utc_now() - timedelta(days=1)


def test_expire_on_the_embedded_default(tmp_path: Path) -> None:
    storage = StorageSettings(database_url=None, sqlite_path=tmp_path / "consent-ledger.db")
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        given_requests(storage, ledger)
        env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(storage.sqlite_path))
        # When the expiry process runs (twice: the second pass finds nothing to do)
        for _ in range(2):
            done = run_cli("expire", env=env, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        # Then exactly the unanswered, overdue request expired, once
        then_only_the_unanswered_old_request_expired(ledger)
    finally:
        ledger.close()


@pytest.fixture
def pg_ledger(pg_storage: StorageSettings) -> Iterator[ConsentLedger]:
    yield from ledger_on(pg_storage)


def test_expire_on_postgresql_with_kafka(
    tmp_path: Path, pg_storage: StorageSettings, pg_ledger: ConsentLedger, broker: Broker
) -> None:
    kafka = broker.settings()
    with publisher(pg_storage, kafka), consumers(pg_storage, kafka) as service:
        given_requests(pg_storage, pg_ledger)
        last = pg_ledger.recorder.max_notification_id() or 0
        assert caught_up(service.projections, last)
        # When the expiry process reads the pending_requests the consumers keep
        assert pg_storage.database_url is not None
        env = clean_env(
            DATABASE_URL=pg_storage.database_url.get_secret_value(),
            **broker.env(kafka),
        )
        done = run_cli("expire", env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        # Then the overdue request expired, and the expiry flowed back into the read model
        then_only_the_unanswered_old_request_expired(pg_ledger)
        pending = service.projections[1]
        assert isinstance(pending, PendingRequestsProjection)
        overdue = pg_ledger.state_of("acme", "whatsapp", ASKED_TWO_DAYS_AGO[0]).id
        wait_until(lambda: pending.versions([overdue]) == {overdue: 2}, message="expiry applied")
        assert [row.subject_id for row in pending.due(utc_now())] == []
