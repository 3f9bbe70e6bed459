"""The witness side of C2SP tlog-witness, with its state file: what it cosigns and refuses."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.attestation.checkpoint import Checkpoint
from ledger.attestation.proofs import consistency_proof
from ledger.attestation.witness_service import WitnessService
from ledger.crypto.cosignature import verified_cosignatures
from ledger.crypto.merkle import leaf_hash, root_hash, tree_nodes
from ledger.persistence.witness_state import WitnessState

ORIGIN = "ledger.example/log"
T = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


class Log:
    """A log in memory: its leaves, its signing key, signed checkpoints and proofs."""

    def __init__(self, key: Ed25519PrivateKey, leaves: list[bytes]) -> None:
        self.key = key
        self.leaves = leaves

    def note(self, size: int) -> str:
        nodes = tree_nodes(self.leaves[:size])
        return Checkpoint(ORIGIN, size, root_hash(size, nodes.__getitem__), T).sign(self.key)

    def submission(self, old: int, size: int, note: str | None = None) -> str:
        nodes = tree_nodes(self.leaves[:size])
        proof = consistency_proof(old, size, nodes.__getitem__) if 0 < old < size else []
        lines = "".join(base64.b64encode(p).decode() + "\n" for p in proof)
        return f"old {old}\n{lines}\n{note or self.note(size)}"


def leaves(tag: str, count: int) -> list[bytes]:
    return [leaf_hash(f"{tag}{i}".encode()) for i in range(count)]


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def witness(tmp_path: Path, log_key: Ed25519PrivateKey) -> WitnessService:
    state = WitnessState(tmp_path / "witness.db")
    return WitnessService(
        "witness.example/w1",
        Ed25519PrivateKey.generate(),
        {ORIGIN: [log_key.public_key()]},
        state,
        lambda: 1_700_000_000.0,
    )


def test_a_consistent_log_is_cosigned_step_by_step(
    witness: WitnessService, log_key: Ed25519PrivateKey
) -> None:
    log = Log(log_key, leaves("a", 20))
    # The empty tree, then a first checkpoint from old size 0
    assert witness.add_checkpoint(log.submission(0, 0)).status == 200
    first = witness.add_checkpoint(log.submission(0, 5))
    assert first.status == 200
    note = log.note(5)
    found = verified_cosignatures(note + first.body, [witness.cosigner])
    assert found["witness.example/w1"].timestamp == 1_700_000_000
    # Then an extension with its consistency proof; then the same checkpoint again
    assert witness.add_checkpoint(log.submission(5, 13)).status == 200
    assert witness.add_checkpoint(log.submission(13, 13)).status == 200
    # A client that does not know the witness's size learns it from the 409
    stale = witness.add_checkpoint(log.submission(0, 20))
    assert (stale.status, stale.body, stale.content_type) == (409, "13\n", "text/x.tlog.size")
    assert witness.add_checkpoint(log.submission(13, 20)).status == 200
    assert witness.state.latest(ORIGIN).tree_size == 20  # type: ignore[union-attr]


def test_a_forked_or_rolled_back_log_is_refused_and_kept_as_evidence(
    witness: WitnessService, log_key: Ed25519PrivateKey
) -> None:
    honest = Log(log_key, leaves("a", 20))
    assert witness.add_checkpoint(honest.submission(0, 10)).status == 200
    # A fork: the same first 9 leaves, another 10th, then more; signed by the same key
    fork = Log(log_key, [*honest.leaves[:9], leaf_hash(b"rewritten"), *leaves("b", 10)])
    forked = witness.add_checkpoint(fork.submission(10, 15))
    assert forked.status == 422
    same_size = witness.add_checkpoint(fork.submission(10, 10))
    assert same_size.status == 409
    assert same_size.content_type != "text/x.tlog.size"
    # A rollback: a smaller checkpoint than the one cosigned
    assert witness.add_checkpoint(honest.submission(10, 8)).status == 400
    rolled_back = witness.add_checkpoint(honest.submission(0, 8))
    assert (rolled_back.status, rolled_back.body) == (409, "10\n")
    # The witness still holds the honest checkpoint, and the evidence of the rest
    assert witness.state.latest(ORIGIN).tree_size == 10  # type: ignore[union-attr]
    assert witness.state.refusals(ORIGIN) == ["inconsistent", "fork", "conflict"]
    assert witness.add_checkpoint(honest.submission(10, 20)).status == 200


def test_unknown_logs_bad_signatures_and_malformed_bodies(
    witness: WitnessService, log_key: Ed25519PrivateKey
) -> None:
    log = Log(log_key, leaves("a", 4))
    other = Log(Ed25519PrivateKey.generate(), leaves("a", 4))
    assert witness.add_checkpoint(other.submission(0, 4)).status == 403
    unknown = Checkpoint("elsewhere.example/log", 4, bytes(32), T).sign(log_key)
    assert witness.add_checkpoint(f"old 0\n\n{unknown}").status == 404
    for body in ("", "old 0\n", "old 01\n\n" + log.note(4), "new 0\n\n" + log.note(4)):
        assert witness.add_checkpoint(body).status == 400, body
    assert witness.add_checkpoint(log.submission(0, 4)).status == 200


def test_racing_submissions_never_roll_the_witness_back(
    witness: WitnessService, log_key: Ed25519PrivateKey
) -> None:
    log = Log(log_key, leaves("a", 64))
    assert witness.add_checkpoint(log.submission(0, 8)).status == 200
    bodies = [log.submission(8, size) for size in range(9, 64)]
    answers: list[int] = []

    def submit(body: str) -> None:
        answers.append(witness.add_checkpoint(body).status)

    threads = [threading.Thread(target=submit, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Exactly one extension from 8 wins; every other is told the new size
    assert answers.count(200) == 1
    assert answers.count(409) == len(bodies) - 1
    assert witness.state.latest(ORIGIN).tree_size > 8  # type: ignore[union-attr]


def test_during_a_key_rotation_the_witness_trusts_both_keys_of_one_log(tmp_path: Path) -> None:
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    witness = WitnessService(
        "witness.example/w1",
        Ed25519PrivateKey.generate(),
        {ORIGIN: [old_key.public_key(), new_key.public_key()]},
        WitnessState(tmp_path / "w.db"),
        lambda: 1_700_000_000.0,
    )
    shared = leaves("a", 12)
    assert witness.add_checkpoint(Log(old_key, shared).submission(0, 6)).status == 200
    assert witness.add_checkpoint(Log(new_key, shared).submission(6, 12)).status == 200
    assert (
        witness.add_checkpoint(Log(Ed25519PrivateKey.generate(), shared).submission(12, 12)).status
        == 403
    )
