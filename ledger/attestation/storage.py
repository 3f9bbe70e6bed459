"""Opening the attestation log's store beside a ledger, on whichever database it uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from ledger.application.core import LedgerCore
from ledger.persistence.cosignatures import (
    CosignatureStore,
    PostgresCosignatureStore,
    SQLiteCosignatureStore,
)
from ledger.persistence.merkle_postgres import PostgresMerkleStore
from ledger.persistence.merkle_sqlite import SQLiteMerkleStore
from ledger.persistence.merkle_store import MerkleStore

T = TypeVar("T")


def open_merkle_store(ledger: LedgerCore) -> MerkleStore:
    """The log's tables in the ledger's own database (created if missing)."""
    store: MerkleStore = _beside(ledger, PostgresMerkleStore, SQLiteMerkleStore, "attestation log")
    store.create_tables()
    return store


def open_cosignature_store(ledger: LedgerCore) -> CosignatureStore:
    """The witnesses' cosignatures of the log's checkpoints, beside the log's tables."""
    store: CosignatureStore = _beside(
        ledger, PostgresCosignatureStore, SQLiteCosignatureStore, "cosignature store"
    )
    store.create_tables()
    return store


def _beside(
    ledger: LedgerCore,
    postgres: Callable[[PostgresDatastore, str], T],
    sqlite: Callable[[SQLiteDatastore, str], T],
    what: str,
) -> T:
    """A store of the backend the ledger's events are on, named after its events table."""
    recorder = ledger.store
    datastore = getattr(recorder, "datastore", None)
    table = str(getattr(recorder, "events_table_name", ""))
    if isinstance(datastore, PostgresDatastore):
        return postgres(datastore, table)
    if isinstance(datastore, SQLiteDatastore):
        return sqlite(datastore, table)
    raise TypeError(f"no {what} for {type(recorder).__name__}")
