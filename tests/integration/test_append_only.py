"""The events table refuses UPDATE, DELETE and TRUNCATE in the database itself."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.storage_settings import StorageSettings
from tests.support.commands import opt_in

ALICE = "+14155550100"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consentledger_events SET topic = 'forged'",
        "DELETE FROM consentledger_events",
        "TRUNCATE consentledger_events",
        "UPDATE consentledger_events_receipts SET subject_id = gen_random_uuid()",
        "DELETE FROM consentledger_events_receipts",
    ],
)
def test_postgres_refuses_changes_even_to_a_superuser(pg_url: str, statement: str) -> None:
    ledger = ConsentLedger(StorageSettings(DATABASE_URL=pg_url).eventsourcing_env())
    ledger.record(opt_in(ALICE, source_id="form-1"))
    ledger.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() == (True,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)  # type: ignore[arg-type]
        assert conn.execute("SELECT count(*) FROM consentledger_events").fetchone() == (1,)


@pytest.mark.parametrize(
    "statement", ["UPDATE stored_events SET topic = 'forged'", "DELETE FROM stored_events"]
)
def test_sqlite_refuses_changes(tmp_path, statement: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "ledger.db"
    ledger = ConsentLedger(StorageSettings(database_url=None, sqlite_path=path).eventsourcing_env())
    ledger.record(opt_in(ALICE))
    ledger.close()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    assert conn.execute("SELECT count(*) FROM stored_events").fetchone() == (1,)
