"""Each event's inclusion proof as a C2SP tlog-proof over HTTP, on both backends; checked
offline with the log's key alone (and refused when altered)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.signing_keys import public_pem
from ledger.attestation.tlog_proof_check import TlogProofRefused, check_tlog_proof
from ledger.attestation.witness_policy import WitnessPolicy
from ledger.crypto.tlog_proof import parse_tlog_proof
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.e2e.test_attestation_api import ALICE, get_bundle, record_alice
from tests.support.attestation import new_sealer
from tests.support.processes import clean_env, run_cli

PROOFS = f"/v1/subjects/whatsapp/{ALICE}/tlog-proofs"


@pytest.fixture
def sealer(storage: StorageSettings) -> Iterator[Checkpointer]:
    ledger = ConsentLedger(storage.eventsourcing_env())
    yield new_sealer(ledger, Ed25519PrivateKey.generate())
    ledger.close()


def test_every_sealed_event_has_a_tlog_proof_that_verifies_offline(
    api: Api, sealer: Checkpointer, tmp_path: Path
) -> None:
    record_alice(api)
    sealer.checkpoint_once()
    answer = api.client.get(PROOFS, headers=api.headers("auditor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["checkpoint"]["tree_size"] == 2
    assert body["checkpoint"]["final"] is True  # the default policy: no witness needed
    bundle_events = {e["version"]: e for e in get_bundle(api)["events"]}
    key = sealer.key.public_key()
    for proof in body["proofs"]:
        text = proof["tlog_proof"]
        assert text.startswith("c2sp.org/tlog-proof@v1\nextra ")
        checked = check_tlog_proof(text, key, WitnessPolicy())
        assert checked.index == proof["leaf_index"]
        # The leaf it carries is the event object of the bundle (no clear personal data)
        event = bundle_events[proof["version"]]
        carried = json.loads(checked.leaf or b"")
        assert carried == {
            k: v
            for k, v in event.items()
            if k not in ("leaf_index", "leaf_hash", "inclusion_proof")
        }
        assert ALICE not in text
    # One proof as a file, checked by the verify command
    one = api.client.get(PROOFS, params={"version": 2}, headers=api.headers("auditor"))
    assert one.headers["content-disposition"].endswith('.tlog-proof"')
    (tmp_path / "v2.tlog-proof").write_text(one.text)
    (tmp_path / "ledger.pub").write_text(public_pem(key))
    verified = run_cli(
        "verify",
        str(tmp_path / "v2.tlog-proof"),
        "--public-key",
        str(tmp_path / "ledger.pub"),
        env=clean_env(),
        cwd=tmp_path,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK: leaf 1 is in checkpoint")
    # An altered leaf, or a proof asked of the wrong key, is refused
    parsed = parse_tlog_proof(one.text)
    forged = one.text.replace(one.text.split("\n")[1], "extra e30=")  # the leaf {}
    with pytest.raises(TlogProofRefused, match="does not lead"):
        check_tlog_proof(forged, key, WitnessPolicy())
    with pytest.raises(TlogProofRefused, match="not signed by this public key"):
        check_tlog_proof(one.text, Ed25519PrivateKey.generate().public_key(), WitnessPolicy())
    assert parsed.index == 1
    # Unknown versions and subjects, and callers without the auditor role
    assert (
        api.client.get(PROOFS, params={"version": 9}, headers=api.headers("auditor")).status_code
        == 404
    )
    assert api.client.get(PROOFS, headers=api.headers("ingest")).status_code == 403
    other = "/v1/subjects/whatsapp/+14155550199/tlog-proofs"
    assert api.client.get(other, headers=api.headers("auditor")).status_code == 404
