"""Split-view detection by ``verify --state``: it keeps the last checkpoint it accepted and
refuses one that is not provably the same log (both backends, the CLI as a process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpoint import Checkpoint
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.signing_keys import public_pem
from ledger.attestation.verifier_state import Accepted, SplitView, accept
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.e2e.test_attestation_api import ALICE, get_bundle, record_alice
from tests.support.attestation import ORIGIN, new_sealer
from tests.support.processes import clean_env, run_cli


@pytest.fixture
def sealer(storage: StorageSettings) -> Iterator[Checkpointer]:
    ledger = ConsentLedger(storage.eventsourcing_env())
    yield new_sealer(ledger, Ed25519PrivateKey.generate())
    ledger.close()


def verify(tmp: Path, bundle: object, *extra: str) -> tuple[int, str]:
    (tmp / "bundle.json").write_text(json.dumps(bundle))
    done = run_cli(
        "verify",
        str(tmp / "bundle.json"),
        "--public-key",
        str(tmp / "ledger.pub"),
        "--state",
        str(tmp / "seen.json"),
        *extra,
        env=clean_env(),
        cwd=tmp,
    )
    return done.returncode, done.stdout + done.stderr


def test_verify_keeps_the_last_checkpoint_and_needs_a_proof_to_move_on(
    api: Api, sealer: Checkpointer, tmp_path: Path
) -> None:
    (tmp_path / "ledger.pub").write_text(public_pem(sealer.key.public_key()))
    record_alice(api)
    sealer.checkpoint_once()
    first = get_bundle(api)
    code, out = verify(tmp_path, first)
    assert code == 0, out
    assert "first checkpoint of this log kept" in out
    assert json.loads((tmp_path / "seen.json").read_text())[ORIGIN]["tree_size"] == 2
    assert "same checkpoint" in verify(tmp_path, first)[1]
    # The log grows: a new bundle needs the consistency proof from the kept checkpoint
    api.client.post(
        "/v1/messages/inbound",
        json={"channel": "whatsapp", "from": ALICE, "text": "START", "message_id": "w5"},
        headers=api.headers(),
    )
    sealer.checkpoint_once()
    second = get_bundle(api)
    code, out = verify(tmp_path, second)
    assert code == 1
    assert "GET /v1/proofs/consistency?from=2&to=3" in out
    proof = api.client.get(
        "/v1/proofs/consistency", params={"from": 2, "to": 3}, headers=api.headers("auditor")
    )
    (tmp_path / "proof.json").write_text(proof.text)
    code, out = verify(tmp_path, second, "--consistency", str(tmp_path / "proof.json"))
    assert code == 0, out
    assert "consistent with the checkpoint accepted before (2 leaves)" in out
    assert json.loads((tmp_path / "seen.json").read_text())[ORIGIN]["tree_size"] == 3
    # An older bundle is still accepted with the same proof; the state never moves back
    code, out = verify(tmp_path, first, "--consistency", str(tmp_path / "proof.json"))
    assert code == 0, out
    assert json.loads((tmp_path / "seen.json").read_text())[ORIGIN]["tree_size"] == 3


def test_a_second_root_at_a_kept_size_or_a_proof_that_fails_is_a_split_view() -> None:
    now = datetime(2026, 11, 21, tzinfo=UTC)
    state = {ORIGIN: Accepted(4, b"\x01" * 32)}
    with pytest.raises(SplitView, match="another root at tree size 4"):
        accept(state, Checkpoint(ORIGIN, 4, b"\x02" * 32, now), None)
    bad = {"from": 4, "to": 6, "proof": ["00" * 32, "11" * 32]}
    with pytest.raises(SplitView, match="not consistent"):
        accept(state, Checkpoint(ORIGIN, 6, b"\x03" * 32, now), bad)
    assert state[ORIGIN].tree_size == 4
