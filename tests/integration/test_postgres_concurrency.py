"""Concurrent writers against real PostgreSQL: conflicts are retried, nothing is lost."""

from __future__ import annotations

import threading
import time

import psycopg
from prometheus_client import REGISTRY

from ledger.application.api_keys import AccessRegistry
from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.errors import Unavailable
from ledger.events import GENESIS_HASH
from ledger.runtime.storage_settings import StorageSettings, access_env
from tests.support.commands import message, opt_in

ALICE = "+14155550100"


def test_threads_racing_on_one_subject_lose_no_event_and_keep_the_chain(pg_url: str) -> None:
    storage = StorageSettings(DATABASE_URL=pg_url)
    ledgers = [ConsentLedger(storage.eventsourcing_env()) for _ in range(4)]
    per_thread = 15
    accepted: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(ledger: ConsentLedger, index: int) -> None:
        try:
            for i in range(per_thread):
                outcome = ledger.receive_message(
                    message(ALICE, "STOP" if (i + index) % 2 else "START")
                )
                assert outcome.recorded is not None
                with lock:
                    accepted.append(str(outcome.recorded.event_id))
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(ledgers[i % len(ledgers)], i)) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    history = ledgers[0].history("acme", "whatsapp", ALICE).entries
    assert sorted(e.document["event_id"] for e in history) == sorted(accepted)
    assert [e.document["version"] for e in history] == list(range(1, 8 * per_thread + 1))
    previous = GENESIS_HASH
    for entry in history:
        assert entry.document["prev_hash"] == previous
        previous = entry.hash
    for ledger in ledgers:
        ledger.close()


def test_a_batch_is_stored_in_one_transaction(pg_url: str) -> None:
    ledger = ConsentLedger(StorageSettings(DATABASE_URL=pg_url).eventsourcing_env())
    results = ledger.record_batch([opt_in(f"+1415555{n:04d}") for n in range(500)])
    ledger.close()
    assert len(results) == 500
    with psycopg.connect(pg_url) as conn:
        transactions = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM consentledger_events"
        ).fetchone()
    assert transactions == (1,)
    assert [r.position for r in results] == list(
        range(results[0].position, results[0].position + 500)
    )


def test_concurrent_single_writes_are_group_committed(pg_url: str) -> None:
    ledger = ConsentLedger(StorageSettings(DATABASE_URL=pg_url).eventsourcing_env())
    start = threading.Barrier(32)
    outcomes = []

    def write(n: int) -> None:
        start.wait()
        outcomes.append(ledger.receive_message(message(f"+1415555{n:04d}", "STOP")))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ledger.close()
    assert all(o.recorded is not None for o in outcomes)
    assert len({o.recorded.event_id for o in outcomes if o.recorded}) == 32
    with psycopg.connect(pg_url) as conn:
        [(transactions,)] = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM consentledger_events"
        ).fetchall()
    assert transactions < 16, f"32 concurrent writes took {transactions} transactions"


def test_processes_starting_while_others_write_neither_fail_nor_deadlock(pg_url: str) -> None:
    storage = StorageSettings(DATABASE_URL=pg_url)
    writer = ConsentLedger(storage.eventsourcing_env())
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                writer.receive_message(
                    message(f"+1415555{n % 50:04d}", "STOP" if n % 2 else "START")
                )
                written.append(n)
            except BaseException as error:  # re-raised in the test thread below
                errors.append(error)
                return

    def start_up() -> None:
        try:
            ConsentLedger(storage.eventsourcing_env()).close()
            AccessRegistry(access_env(storage)).close()
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    starters = [threading.Thread(target=start_up) for _ in range(6)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join(60)
    stop.set()
    thread.join(60)
    writer.close()
    assert errors == []
    assert written


def test_a_message_the_database_refuses_fails_alone_and_its_group_is_stored(
    pg_url: str,
) -> None:
    # Given a database that refuses one message's data (a trigger stands in for what it
    # may refuse that the ledger's own checks let through), and 32 people writing at once
    ledger = ConsentLedger(StorageSettings(DATABASE_URL=pg_url).eventsourcing_env())
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.source_id LIKE '%poison%' THEN RAISE EXCEPTION 'refused' "
            "USING ERRCODE = 'data_exception'; END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON consentledger_events_receipts "
            "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
        )
    isolated = REGISTRY.get_sample_value("consent_ledger_writer_isolated_units_total") or 0.0
    outcomes: dict[int, object] = {}

    def write(n: int, together: threading.Barrier) -> None:
        together.wait()
        mid = "wamid.poison" if n == 7 else None
        try:
            outcomes[n] = ledger.receive_message(
                message(f"+1415555{n:04d}", "STOP", message_id=mid)
            )
        except Exception as error:  # the refused one's answer
            outcomes[n] = error

    def wave(numbers: range) -> list[threading.Thread]:
        together = threading.Barrier(len(numbers))
        threads = [threading.Thread(target=write, args=(n, together)) for n in numbers]
        for thread in threads:
            thread.start()
        return threads

    # While the events table is locked, the writer's first groups wait on it; the second
    # wave (with the refused message) queues meanwhile and is decided as one group.
    with psycopg.connect(pg_url) as lock:
        lock.execute("LOCK TABLE consentledger_events IN EXCLUSIVE MODE")
        first = wave(range(16, 32))
        time.sleep(0.5)
        second = wave(range(16))
        time.sleep(0.5)
    for thread in first + second:
        thread.join()
    ledger.close()
    # Then only that message fails, as the database's refusal; every other one is stored
    assert isinstance(outcomes[7], Unavailable)
    assert "refused" in str(outcomes[7])
    stored = [o for n, o in outcomes.items() if n != 7]
    assert all(getattr(o, "recorded", None) is not None for o in stored)
    with psycopg.connect(pg_url) as conn:
        [(events,)] = conn.execute("SELECT count(*) FROM consentledger_events").fetchall()
    assert events == 31
    # and units were committed alone after their group was refused, which is counted
    after = REGISTRY.get_sample_value("consent_ledger_writer_isolated_units_total") or 0.0
    assert after > isolated
