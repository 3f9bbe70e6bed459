"""Console sessions live beside the ledger, on both backends: every ``serve`` worker sees
a session another opened, signing out ends it everywhere, sessions expire, and the table
keeps a bounded number."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.console.sessions import SessionStore
from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.roles import Principal, Role
from ledger.runtime.storage_settings import StorageSettings

AUDITOR = Principal("key-1", "acme", frozenset({Role.AUDITOR}))


@pytest.fixture
def second_worker(storage: StorageSettings) -> Iterator[ConsentLedger]:
    other = ConsentLedger(storage.eventsourcing_env())
    yield other
    other.close()


def test_a_session_opened_by_one_worker_is_seen_and_closed_by_another(
    ledger: ConsentLedger, second_worker: ConsentLedger
) -> None:
    one, two = SessionStore(600, 100), SessionStore(600, 100)
    table_one, table_two = one.bind(ledger.store), two.bind(second_worker.store)
    session = one.open(table_one, AUDITOR)

    seen = two.get(table_two, session.id)
    assert seen is not None
    assert seen.principal == AUDITOR
    assert seen.csrf_ok(session.csrf)
    assert two.get(table_two, session.id + "x") is None

    two.close(table_two, session.id)
    assert one.get(table_one, session.id) is None


def test_sessions_expire_and_are_bounded(ledger: ConsentLedger) -> None:
    expired = SessionStore(0, 100)
    table = expired.bind(ledger.store)
    assert expired.get(table, expired.open(table, AUDITOR).id) is None

    bounded = SessionStore(600, 2)
    first, second, third = (bounded.open(table, AUDITOR) for _ in range(3))
    assert bounded.get(table, second.id) is not None
    assert bounded.get(table, third.id) is not None
    assert bounded.get(table, first.id) is None  # the oldest went
