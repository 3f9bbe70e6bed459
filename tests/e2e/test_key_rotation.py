"""Rotating the checkpoint signing key on both backends: the rotation checkpoint signed by
both keys, the key history at /v1/public-keys, and verify following the chain from the
old (pinned) key; old bundles keep verifying."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpoint import Checkpoint, open_checkpoint
from ledger.attestation.checkpointer import Checkpointer, KeyRetired
from ledger.attestation.key_rotation import KeyChain, RotationRefused, rotate_signing_key
from ledger.attestation.signing_keys import public_pem
from ledger.crypto.signed_note import NoteError, parse
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.e2e.test_attestation_api import ALICE, get_bundle, record_alice
from tests.support.attestation import new_sealer
from tests.support.processes import clean_env, run_cli


@pytest.fixture
def ledger_for_sealers(storage: StorageSettings) -> Iterator[ConsentLedger]:
    ledger = ConsentLedger(storage.eventsourcing_env())
    yield ledger
    ledger.close()


def verify(tmp: Path, bundle: dict[str, object], *extra: str) -> tuple[int, str]:
    (tmp / "bundle.json").write_text(json.dumps(bundle))
    done = run_cli(
        "verify",
        str(tmp / "bundle.json"),
        "--public-key",
        str(tmp / "old.pub"),
        *extra,
        env=clean_env(),
        cwd=tmp,
    )
    return done.returncode, done.stdout + done.stderr


def test_a_rotation_keeps_old_bundles_verifiable_and_verify_follows_the_chain(
    api: Api, ledger_for_sealers: ConsentLedger, tmp_path: Path
) -> None:
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old: Checkpointer = new_sealer(ledger_for_sealers, old_key)
    # Given a history sealed with the old key, and a bundle an auditor kept
    record_alice(api)
    old.checkpoint_once()
    kept = get_bundle(api)
    # When the operator rotates to the new key, and the sealer signs with it from then on
    rotation = rotate_signing_key(old, new_key)
    assert rotation.tree_size == 2
    with pytest.raises(RotationRefused):
        rotate_signing_key(new_sealer(ledger_for_sealers, new_key), new_key)
    # (a sealer still running with the old key refuses to sign again)
    with pytest.raises(KeyRetired, match="rotated away at tree size 2"):
        old.checkpoint_once()
    api.client.post(
        "/v1/messages/inbound",
        json={"channel": "whatsapp", "from": ALICE, "text": "START", "message_id": "w9"},
        headers=api.headers(),
    )
    new_sealer(ledger_for_sealers, new_key).checkpoint_once()
    # Then the key history names both keys, with their ranges and the rotation
    history = api.client.get("/v1/public-keys").json()
    first, second = history["keys"]
    assert (first["from_tree_size"], first["until_tree_size"]) == (2, 2)
    assert (second["from_tree_size"], second["until_tree_size"]) == (2, None)
    assert first["public_key_pem"] == public_pem(old_key.public_key())
    note = second["rotation_note"]
    assert len(parse(note).signatures) == 2
    assert open_checkpoint(note, old_key.public_key()) == open_checkpoint(
        note, new_key.public_key()
    )
    (tmp_path / "keys.json").write_text(json.dumps(history))
    (tmp_path / "old.pub").write_text(public_pem(old_key.public_key()))
    # And the new bundle verifies from the pinned old key through the chain, not without it
    fresh = get_bundle(api)
    assert fresh["checkpoint"]["tree_size"] == 3
    code, out = verify(tmp_path, fresh, "--public-keys", str(tmp_path / "keys.json"))
    assert code == 0, out
    code, out = verify(tmp_path, fresh)
    assert code == 1
    assert "not signed by this public key" in out
    # And a tlog-proof of the new checkpoint too
    proof = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/tlog-proofs",
        params={"version": 3},
        headers=api.headers("auditor"),
    )
    (tmp_path / "v3.tlog-proof").write_text(proof.text)
    checked = run_cli(
        "verify",
        str(tmp_path / "v3.tlog-proof"),
        "--public-key",
        str(tmp_path / "old.pub"),
        "--public-keys",
        str(tmp_path / "keys.json"),
        env=clean_env(),
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # And the bundle kept from before the rotation still verifies, with or without it
    assert verify(tmp_path, kept)[0] == 0
    assert verify(tmp_path, kept, "--public-keys", str(tmp_path / "keys.json"))[0] == 0
    # A checkpoint the old key signed after it was rotated away is refused
    chain = KeyChain.follow(old_key.public_key(), history)
    late = open_checkpoint(fresh["checkpoint"]["note"], new_key.public_key())
    forged = Checkpoint(late.origin, late.tree_size, late.root_hash, late.time).sign(old_key)
    with pytest.raises(NoteError, match="retired at tree size 2"):
        chain.key_for(forged)
    # A history whose rotation the old key did not sign breaks the chain
    second["rotation_note"] = (
        note.split("\n\n")[0] + "\n\n" + note.split("\n\n")[1].split("\n")[1] + "\n"
    )
    with pytest.raises(NoteError, match="rotation to key"):
        KeyChain.follow(old_key.public_key(), history)


def test_seal_rotate_to_as_an_operator_runs_it(tmp_path: Path) -> None:
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "ledger.db"))
    for name in ("old", "new"):
        created = run_cli(
            "keys", "signing-key", "--out", str(tmp_path / f"{name}.pem"), env=env, cwd=tmp_path
        )
        assert created.returncode == 0, created.stderr
    old_env = {**env, "CONSENT_LEDGER_SIGNING_KEY": str(tmp_path / "old.pem")}
    new_env = {**env, "CONSENT_LEDGER_SIGNING_KEY": str(tmp_path / "new.pem")}
    assert run_cli("seal", "--once", env=old_env, cwd=tmp_path).returncode == 0
    # The rotation prints the new verifier key, and logs both key ids
    rotated = run_cli("seal", "--rotate-to", str(tmp_path / "new.pem"), env=old_env, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("consent-ledger.local/log+")
    assert '"signing key rotated"' in rotated.stderr
    # The old key no longer signs (exit 3); the new one does; rotating to itself is refused
    assert run_cli("seal", "--once", env=old_env, cwd=tmp_path).returncode == 3
    assert run_cli("seal", "--once", env=new_env, cwd=tmp_path).returncode == 0
    same = run_cli("seal", "--rotate-to", str(tmp_path / "new.pem"), env=new_env, cwd=tmp_path)
    assert same.returncode == 2
    assert "the new key is the key that signs now" in same.stderr
