"""Opening the attestation log's store beside a ledger, on whichever database it uses."""

from __future__ import annotations

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


def open_merkle_store(ledger: LedgerCore) -> MerkleStore:
    """The log's tables in the ledger's own database (created if missing)."""
    recorder = ledger.store
    datastore = getattr(recorder, "datastore", None)
    table = str(getattr(recorder, "events_table_name", ""))
    store: MerkleStore
    if isinstance(datastore, PostgresDatastore):
        store = PostgresMerkleStore(datastore, table)
    elif isinstance(datastore, SQLiteDatastore):
        store = SQLiteMerkleStore(datastore, table)
    else:
        raise TypeError(f"no attestation log for {type(recorder).__name__}")
    store.create_tables()
    return store


def open_cosignature_store(ledger: LedgerCore) -> CosignatureStore:
    """The witnesses' cosignatures of the log's checkpoints, beside the log's tables."""
    recorder = ledger.store
    datastore = getattr(recorder, "datastore", None)
    table = str(getattr(recorder, "events_table_name", ""))
    store: CosignatureStore
    if isinstance(datastore, PostgresDatastore):
        store = PostgresCosignatureStore(datastore, table)
    elif isinstance(datastore, SQLiteDatastore):
        store = SQLiteCosignatureStore(datastore, table)
    else:
        raise TypeError(f"no cosignature store for {type(recorder).__name__}")
    store.create_tables()
    return store
