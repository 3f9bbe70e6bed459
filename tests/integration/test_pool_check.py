"""A pooled connection is checked with a round trip only when it may be dead: a live one
is handed out as it is, one whose session the server ended is replaced (and counted)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore

from ledger.application.consent_ledger import ConsentLedger
from ledger.persistence import pool_check
from ledger.persistence.pool_check import POOL_CONNECTIONS_REPLACED, check_when_readable
from ledger.runtime.storage_settings import StorageSettings


@pytest.fixture
def datastore(pg_storage: StorageSettings) -> Iterator[PostgresDatastore]:
    app = ConsentLedger(pg_storage.eventsourcing_env())
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    assert isinstance(datastore, PostgresDatastore)
    yield datastore
    app.close()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The round trips the pool's check made (each connection's server process)."""
    made: list[int] = []
    ping = pool_check._ping

    def counted(conn: Any) -> None:
        made.append(conn.info.backend_pid)
        ping(conn)

    monkeypatch.setattr(pool_check, "_ping", counted)
    return made


def backend_of(datastore: PostgresDatastore) -> int:
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT pg_backend_pid() AS pid")
        row = cursor.fetchone()
    assert row is not None
    return int(row["pid"])


def test_a_live_connection_is_handed_out_without_a_round_trip(
    datastore: PostgresDatastore, pings: list[int]
) -> None:
    check = datastore.pool._check  # the library's pinged every connection it handed out
    assert check is not None
    assert check.__qualname__ == f"{check_when_readable.__name__}.<locals>.check"
    for _ in range(8):  # every connection of the pool, twice
        backend_of(datastore)
    assert pings == []


def test_a_connection_whose_session_the_server_ended_is_replaced_and_counted(
    datastore: PostgresDatastore, pg_url: str, pings: list[int]
) -> None:
    used = [backend_of(datastore) for _ in range(8)]  # every connection of the pool
    ended = used[0]
    before = POOL_CONNECTIONS_REPLACED._value.get()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (ended,))
    time.sleep(0.2)  # the server's goodbye reaches the idle connection's socket
    # Every transaction after runs on a live connection: no error reaches a caller
    after = [backend_of(datastore) for _ in range(8)]
    assert ended not in after
    # The dead one was pinged as it was taken (the live ones were not), counted, replaced
    assert pings == [ended]
    assert POOL_CONNECTIONS_REPLACED._value.get() == before + 1


def test_when_every_connection_of_the_pool_died_at_once_the_next_caller_is_served(
    datastore: PostgresDatastore, pg_url: str, pings: list[int]
) -> None:
    # As after a restart of the server. The pool backed off between the dead connections
    # it took (0, 1, 2, 4 s): the caller's 5-second timeout ran out at the fourth.
    used = {backend_of(datastore) for _ in range(8)}
    before = POOL_CONNECTIONS_REPLACED._value.get()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        for pid in used:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)
    began = time.monotonic()
    assert backend_of(datastore) not in used
    assert time.monotonic() - began < 2
    assert POOL_CONNECTIONS_REPLACED._value.get() == before + len(used)
