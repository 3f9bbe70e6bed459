"""The sealer on both backends: dense leaves, stored proofs, signed and consistent checkpoints."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpoint import open_checkpoint
from ledger.attestation.checkpointer import LogCorrupted
from ledger.attestation.proofs import (
    consistency_steps,
    inclusion_steps,
    keys_of,
    proof_from,
    verify_consistency,
    verify_inclusion,
)
from ledger.crypto.canonical import canonical_json
from ledger.crypto.merkle import leaf_hash, root_hash, root_keys, tree_nodes
from ledger.runtime.storage_settings import StorageSettings
from tests.support.attestation import new_sealer
from tests.support.commands import message, opt_in

ALICE, BOB, CAROL = "+14155550100", "+14155550101", "+14155550102"


def record_some(ledger: ConsentLedger, rounds: int = 1) -> None:
    for _ in range(rounds):
        ledger.record_batch([opt_in(ALICE), opt_in(BOB), opt_in(CAROL)])
        ledger.receive_message(message(ALICE, "STOP"))
        ledger.receive_message(message(BOB, "START"))


def history_leaves(ledger: ConsentLedger, address: str) -> dict[int, bytes]:
    """Leaf hashes from the public history: canonical JSON of the document plus its hash."""
    entries = ledger.history("acme", "whatsapp", address).entries
    return {
        entry.document["version"]: leaf_hash(canonical_json({**entry.document, "hash": entry.hash}))
        for entry in entries
    }


def test_every_event_gets_a_dense_leaf_and_a_proof_against_a_signed_checkpoint(
    ledger: ConsentLedger,
) -> None:
    # Given events of three subjects, recorded in several transactions
    record_some(ledger, rounds=4)
    # When the sealer seals them in batches of 7
    sealer = new_sealer(ledger, batch_size=7)
    result = sealer.checkpoint_once()
    # Then every event has a leaf, indexes 0..n-1 follow the notification order
    store = sealer.store
    assert result.tree_size == result.leaves_added == 20
    subject_ids = {a: ledger.state_of("acme", "whatsapp", a).id for a in (ALICE, BOB, CAROL)}
    leaves = sorted(
        (leaf for sid in subject_ids.values() for leaf in store.leaves_of(sid)),
        key=lambda leaf: leaf.leaf_index,
    )
    assert [leaf.leaf_index for leaf in leaves] == list(range(20))
    positions = [leaf.notification_id for leaf in leaves]
    assert positions == sorted(positions)
    # And each leaf is the event object the history shows (document plus hash)
    for address, sid in subject_ids.items():
        expected = history_leaves(ledger, address)
        assert {leaf.version: leaf.leaf_hash for leaf in store.leaves_of(sid)} == expected
    # And the signed checkpoint commits to exactly those leaves
    stored = store.latest_checkpoint()
    assert stored is not None
    checkpoint = open_checkpoint(stored.note, sealer.key.public_key())
    assert checkpoint.tree_size == 20
    assert checkpoint.root_hash == root_hash(20, tree_nodes(leaf.leaf_hash for leaf in leaves).get)
    # And every inclusion proof built from the stored nodes verifies
    for leaf in leaves:
        steps = inclusion_steps(leaf.leaf_index, 20)
        proof = proof_from(steps, store.nodes(keys_of(steps)).__getitem__)
        assert verify_inclusion(leaf.leaf_hash, leaf.leaf_index, 20, proof, checkpoint.root_hash)


def test_leaf_indexes_stay_dense_where_notification_ids_have_holes(
    pg_storage: StorageSettings,
) -> None:
    with ConsentLedger(pg_storage.eventsourcing_env()) as ledger:
        # Given a failed write that used up a notification id (a version clash)
        first = ledger.record(opt_in(ALICE))
        [stored] = ledger.store.select_subjects([first.subject_id])[first.subject_id]
        with pytest.raises(IntegrityError):
            ledger.save(ledger.ledger_event(stored))
        second = ledger.record(opt_in(BOB))
        assert second.position == 3  # id 2 is a hole
        # When the log is sealed
        sealer = new_sealer(ledger)
        sealer.checkpoint_once()
        # Then the leaves are 0 and 1, for positions 1 and 3
        bob = sealer.store.leaves_of(second.subject_id)
        assert [(leaf.leaf_index, leaf.notification_id) for leaf in bob] == [(1, 3)]
        assert sealer.store.head().size == 2


def test_checkpoints_grow_consistently_and_only_when_the_log_grows(ledger: ConsentLedger) -> None:
    sealer = new_sealer(ledger, batch_size=3)
    store = sealer.store
    notes = []
    # Given the log sealed after each of several rounds of writes
    for rounds in (1, 2, 1, 3):
        record_some(ledger, rounds)
        assert sealer.checkpoint_once().checkpoint is not None
        checkpoint = store.latest_checkpoint()
        assert checkpoint is not None
        notes.append(checkpoint)
        # When nothing new was recorded, no checkpoint is signed
        assert sealer.checkpoint_once().checkpoint is None
    # Then each checkpoint is consistent with every later one
    for i, old in enumerate(notes):
        for new in notes[i:]:
            steps = consistency_steps(old.tree_size, new.tree_size)
            proof = proof_from(steps, store.nodes(keys_of(steps)).__getitem__)
            assert verify_consistency(
                old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof
            )
    assert [cp.tree_size for cp in notes] == [5, 15, 20, 35]


def test_two_sealers_racing_keep_one_dense_log(pg_storage: StorageSettings) -> None:
    writer = ConsentLedger(pg_storage.eventsourcing_env())
    sealers = [new_sealer(ConsentLedger(pg_storage.eventsourcing_env())) for _ in range(2)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def seal(index: int) -> None:
        while not stop.is_set():
            try:
                sealers[index].checkpoint_once()
            except Exception as error:  # a conflict is expected; anything else fails below
                if type(error).__name__ != "CheckpointConflict":
                    errors.append(error)

    threads = [threading.Thread(target=seal, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    try:
        for n in range(40):
            writer.record(opt_in(f"+1415556{n:04d}"))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    sealers[0].checkpoint_once()
    assert errors == []
    store = sealers[0].store
    assert store.head().size == 40
    nodes = store.nodes(root_keys(40))
    latest = store.latest_checkpoint()
    assert latest is not None
    assert latest.tree_size == 40
    assert root_hash(40, nodes.__getitem__) == latest.root_hash
    for sealer in sealers:
        sealer.ledger.close()
    writer.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consentledger_events_merkle_leaves SET leaf_hash = '\\x00'",
        "DELETE FROM consentledger_events_merkle_nodes",
        "TRUNCATE consentledger_events_checkpoints",
        "UPDATE consentledger_events_checkpoints SET tree_size = 1",
    ],
)
def test_postgres_refuses_to_change_the_log_even_for_a_superuser(
    pg_storage: StorageSettings, pg_url: str, statement: str
) -> None:
    with ConsentLedger(pg_storage.eventsourcing_env()) as ledger:
        record_some(ledger)
        new_sealer(ledger).checkpoint_once()
    with (
        psycopg.connect(pg_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute(statement)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stored_events_merkle_leaves SET leaf_hash = x'00'",
        "DELETE FROM stored_events_checkpoints",
    ],
)
def test_sqlite_refuses_to_change_the_log(tmp_path: Path, statement: str) -> None:
    path = tmp_path / "ledger.db"
    storage = StorageSettings(database_url=None, sqlite_path=path)
    with ConsentLedger(storage.eventsourcing_env()) as ledger:
        record_some(ledger)
        new_sealer(ledger).checkpoint_once()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)


def test_a_tree_altered_behind_the_sealers_back_is_never_signed_again(
    pg_storage: StorageSettings, pg_url: str
) -> None:
    with ConsentLedger(pg_storage.eventsourcing_env()) as ledger:
        # Given a sealed log whose stored node a superuser rewrote with the trigger off
        record_some(ledger)
        sealer = new_sealer(ledger)
        sealer.checkpoint_once()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(
                "ALTER TABLE consentledger_events_merkle_nodes "
                "DISABLE TRIGGER consentledger_events_merkle_nodes_append_only"
            )
            conn.execute(
                "UPDATE consentledger_events_merkle_nodes SET hash = sha256('forged') "
                "WHERE level = 2 AND idx = 0"
            )
        record_some(ledger)
        # When the sealer extends the log, it refuses to sign over the altered tree
        with pytest.raises(LogCorrupted, match="no longer has the root"):
            sealer.checkpoint_once()
        latest = sealer.store.latest_checkpoint()
        assert latest is not None
        assert latest.tree_size == 5
