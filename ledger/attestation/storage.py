"""Opening the attestation log's store beside a ledger, on whichever database it uses."""

from __future__ import annotations

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from ledger.application.core import LedgerCore
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
