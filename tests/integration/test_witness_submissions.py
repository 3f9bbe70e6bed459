"""The ledger's side of tlog-witness on both backends: submissions after sealing, stored
cosignatures (append-only), and which checkpoint counts under a 2-of-2 policy.

The witnesses are real ``WitnessService``s with their own state files; only the HTTP hop
is replaced by a direct call (tests/e2e/test_witnesses.py runs it over HTTP)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.storage import open_cosignature_store
from ledger.attestation.witness_client import HttpAnswer, WitnessSubmitter
from ledger.attestation.witness_policy import Witness, k_of_n
from ledger.attestation.witness_service import WitnessService
from ledger.attestation.witnessed import WitnessedCheckpoints
from ledger.crypto.signed_note import parse
from ledger.persistence.witness_state import WitnessState
from ledger.runtime.storage_settings import StorageSettings
from tests.support.attestation import ORIGIN, new_sealer
from tests.support.commands import opt_in


class Witnesses:
    """Two witnesses reachable by URL; ``down`` ones refuse connections."""

    def __init__(self, tmp: Path, log_key: Ed25519PrivateKey) -> None:
        self.services = {
            f"http://w{i}.test": WitnessService(
                f"witness.test/w{i}",
                Ed25519PrivateKey.generate(),
                {ORIGIN: [log_key.public_key()]},
                WitnessState(tmp / f"w{i}.db"),
                time.time,
            )
            for i in (1, 2)
        }
        self.down: set[str] = set()

    def post(self, url: str, body: bytes, timeout: float) -> HttpAnswer:
        base = url.removesuffix("/add-checkpoint")
        if base in self.down:
            raise ConnectionRefusedError(f"{base} is down")
        answer = self.services[base].add_checkpoint(body.decode())
        return HttpAnswer(answer.status, answer.content_type.split(";")[0], answer.body)

    def policy_members(self) -> list[Witness]:
        return [Witness(s.cosigner.name, s.cosigner, url) for url, s in self.services.items()]


def test_cosignatures_are_gathered_stored_and_decide_which_checkpoint_counts(
    ledger: ConsentLedger, storage: StorageSettings, tmp_path: Path
) -> None:
    sealer = new_sealer(ledger)
    witnesses = Witnesses(tmp_path, sealer.key)
    policy = k_of_n(witnesses.policy_members(), 2)
    cosignatures = open_cosignature_store(ledger)
    submitter = WitnessSubmitter(sealer.store, cosignatures, policy, post=witnesses.post)
    witnessed = WitnessedCheckpoints(cosignatures, policy)
    # Given events, sealed and submitted: both witnesses cosign, the checkpoint counts
    ledger.record_batch([opt_in(f"+1415555{n:04d}") for n in range(5)])
    sealer.checkpoint_once()
    assert submitter.submit_latest() == {
        "witness.test/w1": "cosigned",
        "witness.test/w2": "cosigned",
    }
    first = witnessed.latest_final()
    assert first is not None
    assert (first.tree_size, first.cosigned_by) == (5, ("witness.test/w1", "witness.test/w2"))
    assert len(parse(first.note).signatures) == 3
    assert submitter.submit_latest() == {"witness.test/w1": "already", "witness.test/w2": "already"}
    # When one witness is down and the log grows, the new checkpoint does not count
    witnesses.down.add("http://w2.test")
    ledger.record_batch([opt_in(f"+1415556{n:04d}") for n in range(4)])
    sealer.checkpoint_once()
    assert submitter.submit_latest()["witness.test/w2"] == "unavailable"
    latest = sealer.store.latest_checkpoint()
    assert latest is not None
    current = witnessed.witnessed(latest.tree_size, latest.root_hash, latest.note)
    assert (current.tree_size, current.final, current.cosigned_by) == (
        9,
        False,
        ("witness.test/w1",),
    )
    assert witnessed.latest_final().tree_size == 5  # type: ignore[union-attr]
    # When it is back, it is caught up from size 5 with a consistency proof
    witnesses.down.clear()
    assert submitter.submit_latest()["witness.test/w2"] == "cosigned"
    assert witnessed.latest_final().tree_size == 9  # type: ignore[union-attr]
    # And a submitter that lost its memory learns each witness's size from the table
    fresh = WitnessSubmitter(sealer.store, cosignatures, policy, post=witnesses.post)
    ledger.record_batch([opt_in("+14155570000")])
    sealer.checkpoint_once()
    assert set(fresh.submit_latest().values()) == {"cosigned"}
    # And stored cosignatures cannot be changed behind the ledger's back
    table = cosignatures.table  # type: ignore[attr-defined]
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
        _execute(storage, f"UPDATE {table} SET line = 'x'")  # noqa: S608


def _execute(storage: StorageSettings, statement: str) -> None:
    if storage.uses_postgres:
        assert storage.database_url is not None
        with psycopg.connect(storage.database_url.get_secret_value()) as conn:
            conn.execute(statement)  # type: ignore[arg-type]
    else:
        with sqlite3.connect(storage.sqlite_path) as conn:
            conn.execute(statement)
