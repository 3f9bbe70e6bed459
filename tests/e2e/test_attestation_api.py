"""The attestation endpoints over HTTP, on both backends, with a real sealer."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.checkpoint import open_checkpoint
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.proofs import verify_consistency
from ledger.attestation.signing_keys import public_pem
from ledger.attestation.verification import verify_bundle
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.support.attestation import new_sealer

ALICE = "+14155550100"
ATTESTATION = f"/v1/subjects/whatsapp/{ALICE}/attestation"


@pytest.fixture
def sealer(storage: StorageSettings) -> Iterator[Checkpointer]:
    """The sealer process's part, run in this process against the same database."""
    ledger = ConsentLedger(storage.eventsourcing_env())
    yield new_sealer(ledger, Ed25519PrivateKey.generate())
    ledger.close()


def record_alice(api: Api) -> None:
    event = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": "form-991"},
        "evidence": {
            "method": "web_form",
            "text": "I agree to receive offers from Acme",
            "ip": "203.0.113.9",
        },
    }
    assert api.client.post("/v1/events", json={"events": [event]}, headers=api.headers()).is_success
    stop = {"channel": "whatsapp", "from": ALICE, "text": "stop promotions", "message_id": "w1"}
    assert api.client.post("/v1/messages/inbound", json=stop, headers=api.headers()).is_success


def get_bundle(api: Api, role: str = "auditor", **params: str) -> dict[str, Any]:
    response = api.client.get(ATTESTATION, params=params, headers=api.headers(role))
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    return bundle


def test_an_auditor_gets_a_bundle_that_verifies_with_the_published_key(
    api: Api, sealer: Checkpointer
) -> None:
    # Given a history, sealed by the sealer
    record_alice(api)
    sealer.checkpoint_once()
    # When the auditor fetches the public key and the bundle
    published = api.client.get("/v1/public-key", params={"format": "pem"})
    key = load_pem_public_key(published.content)
    assert published.text == public_pem(sealer.key.public_key())
    bundle = get_bundle(api)
    # Then the bundle verifies offline with that key, and says so itself
    assert verify_bundle(bundle, key).ok  # type: ignore[arg-type]
    assert bundle["verification"]["verified"] is True
    assert [e["type"] for e in bundle["events"]] == ["opted_in", "opted_out"]
    assert bundle["public_key_id"] == api.client.get("/v1/public-key").json()["key_id"]
    assert bundle["consent"]["purposes"]["marketing"]["status"] == "opted_out"


def test_the_bundle_as_csv_and_as_a_printable_report(api: Api, sealer: Checkpointer) -> None:
    record_alice(api)
    sealer.checkpoint_once()
    response = api.client.get(ATTESTATION, params={"format": "csv"}, headers=api.headers("auditor"))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["version"], r["type"], r["verification"]) for r in rows] == [
        ("1", "opted_in", "verified"),
        ("2", "opted_out", "verified"),
    ]
    assert rows[0]["address"] == ALICE
    assert rows[1]["text"] == "stop promotions"
    report = api.client.get(ATTESTATION, params={"format": "html"}, headers=api.headers("auditor"))
    assert report.headers["content-type"].startswith("text/html")
    assert "OK: 2 events" in report.text
    assert "I agree to receive offers from Acme" in report.text  # what the person saw
    assert "stop promotions" in report.text  # what the person sent


def test_as_of_answers_with_the_consent_at_that_moment(api: Api, sealer: Checkpointer) -> None:
    record_alice(api)
    sealer.checkpoint_once()
    first = get_bundle(api)["events"][0]
    then = get_bundle(api, as_of=first["recorded_at"])
    assert then["consent"]["purposes"]["marketing"] == {
        "status": "opted_in",
        "since": first["occurred_at"],
        "event_id": first["event_id"],
        "version": 1,
    }
    assert [e["version"] for e in then["events"]] == [1]
    assert then["verification"]["verified"] is True


def test_checkpoints_and_consistency_proofs(api: Api, sealer: Checkpointer) -> None:
    headers = api.headers("campaign")
    assert api.client.get("/v1/checkpoints/latest", headers=headers).status_code == 404
    record_alice(api)
    sealer.checkpoint_once()
    old = api.client.get("/v1/checkpoints/latest", headers=headers).json()
    api.client.post(
        "/v1/messages/inbound",
        json={"channel": "whatsapp", "from": ALICE, "text": "START", "message_id": "w2"},
        headers=api.headers(),
    )
    sealer.checkpoint_once()
    new = api.client.get("/v1/checkpoints/latest", headers=headers).json()
    assert (old["tree_size"], new["tree_size"]) == (2, 3)
    opened = open_checkpoint(new["note"], sealer.key.public_key())
    assert opened.root_hash.hex() == new["root_hash"]
    proof = api.client.get(
        "/v1/proofs/consistency", params={"from": 2, "to": 3}, headers=headers
    ).json()
    assert verify_consistency(
        2,
        3,
        bytes.fromhex(old["root_hash"]),
        bytes.fromhex(new["root_hash"]),
        [bytes.fromhex(step) for step in proof["proof"]],
    )


BAD_REQUESTS = [  # (path, query, role, status, error code, field)
    (ATTESTATION, {}, "campaign", 403, "forbidden", "Authorization"),
    (ATTESTATION, {"as_of": "yesterday"}, "auditor", 422, "invalid_time", "as_of"),
    (ATTESTATION, {"format": "pdf"}, "auditor", 422, "invalid_input", "format"),
    (
        "/v1/subjects/whatsapp/+14155550199/attestation",
        {},
        "auditor",
        404,
        "subject_not_found",
        "address",
    ),
    ("/v1/subjects/whatsapp/+1415/attestation", {}, "auditor", 422, "invalid_address", "address"),
    ("/v1/proofs/consistency", {"from": 3, "to": 2}, "auditor", 422, "invalid_input", "from"),
    ("/v1/proofs/consistency", {"from": 1, "to": 99}, "auditor", 422, "invalid_input", "to"),
    ("/v1/proofs/consistency", {"from": 0, "to": 2}, "auditor", 422, "invalid_input", "from"),
    ("/v1/checkpoints/latest", {}, None, 401, "unauthorized", "Authorization"),
]


def test_bad_requests_are_refused_with_the_field_named(api: Api, sealer: Checkpointer) -> None:
    record_alice(api)
    sealer.checkpoint_once()
    for path, params, role, status, code, field in BAD_REQUESTS:
        headers = api.headers(role) if role else {}
        response = api.client.get(path, params=params, headers=headers)
        assert response.status_code == status, (path, params, response.text)
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["field"] == field


def test_erasure_keeps_proofs_and_removes_the_personal_data(
    api: Api, sealer: Checkpointer, storage: StorageSettings
) -> None:
    record_alice(api)
    sealer.checkpoint_once()
    before = get_bundle(api)
    erase_path = f"/v1/subjects/whatsapp/{ALICE}/personal-data"
    # Only an admin may erase
    refused = api.client.delete(erase_path, headers=api.headers("auditor"))
    assert refused.status_code == 403
    # When an admin erases the subject's personal data
    erased = api.client.delete(
        erase_path, params={"reason": "gdpr_art17"}, headers=api.headers("admin")
    )
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert (body["type"], body["version"], body["duplicate"]) == ("personal_data_erased", 3, False)
    assert body["read_models_updated"] is True
    sealer.checkpoint_once()
    # Then the history and its proofs still verify, and no personal data can be read
    after = get_bundle(api)
    assert after["verification"]["verified"] is True
    assert [e["hash"] for e in after["events"][:2]] == [e["hash"] for e in before["events"]]
    assert after["disclosures"] == []
    assert after["subject"]["address"] is None
    for text in (ALICE, "203.0.113.9", "I agree to receive offers", "stop promotions"):
        assert text not in str(after)
    history = api.client.get(f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers()).json()
    assert [e["disclosures"] for e in history["events"]] == [None, None, None]
    projected = api.client.app.state.services.consent_status.subject(  # type: ignore[attr-defined]
        UUID(after["subject"]["subject_id"])
    )
    assert projected is not None
    assert projected.address is None
    # And erasing again answers with the same erasure; an unknown subject is a 404, and a
    # reason in free text (it would stay in the chain forever) is refused
    free_text = api.client.delete(
        erase_path, params={"reason": "asked by Alice Example"}, headers=api.headers("admin")
    )
    assert free_text.status_code == 422
    assert free_text.json()["error"]["field"] == "reason"
    again = api.client.delete(erase_path, headers=api.headers("admin")).json()
    assert (again["event_id"], again["duplicate"]) == (body["event_id"], True)
    unknown = api.client.delete(
        "/v1/subjects/whatsapp/+14155550199/personal-data", headers=api.headers("admin")
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "address"
