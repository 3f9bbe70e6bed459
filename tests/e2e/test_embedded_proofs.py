"""Proofs without a separate sealer: ``serve`` seals its own log in-process (the
embedded default does so unasked; on PostgreSQL when CONSENT_LEDGER_SEAL_EVERY_SECONDS
asks), so a bundle verifies right after any write, an erasure included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.attestation.signing_keys import write_new_private_key
from ledger.attestation.verification import verify_bundle
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api, issue_keys

ALICE = "+14155550100"


@pytest.fixture
def sealing_api(
    storage: StorageSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    """``serve`` as it starts by default: sealing in-process (a 60 s interval here, so
    every proof below comes from a pass the request itself asked for)."""
    if storage.uses_postgres:  # PostgreSQL seals in-process only when asked, with a key
        key = tmp_path / "signing.pem"
        write_new_private_key(key)
        monkeypatch.setenv("CONSENT_LEDGER_SIGNING_KEY", str(key))
    else:
        monkeypatch.delenv("CONSENT_LEDGER_SIGNING_KEY", raising=False)
    settings = ServeSettings(read_wait_seconds=5.0, seal_every_seconds=60)
    keys = issue_keys(storage)
    with TestClient(create_app(settings, storage)) as client:
        yield Api(client, keys)


def bundle_of(api: Api) -> dict[str, Any]:
    response = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/attestation", headers=api.headers("auditor")
    )
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    return bundle


def test_a_bundle_verifies_right_after_a_write_and_right_after_an_erasure(
    sealing_api: Api, storage: StorageSettings
) -> None:
    api = sealing_api
    # The public key is there from the start (the first pass ran before serving)
    pem = api.client.get("/v1/public-key?format=pem")
    assert pem.status_code == 200, pem.text
    key = load_pem_public_key(pem.content)
    if not storage.uses_postgres:  # the embedded default made its key beside its file
        assert storage.sqlite_path.with_suffix(".signing-key.pem").is_file()
    # Given a STOP just recorded
    answer = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers("ingest"),
        json={"channel": "whatsapp", "from": ALICE, "text": "STOP", "message_id": "wamid.1"},
    )
    assert answer.status_code == 200, answer.text
    # Then its bundle verifies at once, with no `consent-ledger seal` run
    first = bundle_of(api)
    assert first["verification"]["verified"] is True, first["verification"]
    assert all(event["inclusion_proof"] is not None for event in first["events"])
    # When the person's data is erased, the bundle right after verifies too
    erased = api.client.delete(
        f"/v1/subjects/whatsapp/{ALICE}/personal-data", headers=api.headers("admin")
    )
    assert erased.status_code == 200, erased.text
    second = bundle_of(api)
    assert second["verification"]["verified"] is True, second["verification"]
    assert [e["type"] for e in second["events"]] == ["opted_out", "personal_data_erased"]
    assert second["disclosures"] == []
    assert second["checkpoint"]["tree_size"] >= 2
    # And an auditor's own check, with the published key, agrees
    report = verify_bundle(second, key)  # type: ignore[arg-type]
    assert report.ok, report.summary()
