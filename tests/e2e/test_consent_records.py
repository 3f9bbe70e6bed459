"""Standard consent records through the HTTP API, on both backends: ISO/IEC TS 27560
records in DPV JSON-LD and Kantara Consent Receipts v1.1, valid against the vendored
schemas and linked to the ledger events of the attestation bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.e2e.conftest import Api

ALICE = "+14155550100"
SCHEMAS = Path(__file__).resolve().parents[2] / "vendor" / "consent-schemas"
CONTROLLER = {
    "name": "Acme Ltd",
    "contact": "Privacy Office",
    "email": "privacy@acme.example",
    "phone": "+14155550000",
    "address": {"streetAddress": "1 Market St, San Francisco", "addressCountry": "US"},
    "policy_url": "https://acme.example/privacy",
}


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / name).read_text()))


def inbound(api: Api, text: str, message_id: str) -> None:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers(),
        json={"channel": "whatsapp", "from": ALICE, "text": text, "message_id": message_id},
    )
    assert response.status_code == 200, response.text


def given_a_history(api: Api) -> None:
    """Asked, accepted, withdrew (STOP), and opted in again on a web form."""
    asked = api.client.post(
        "/v1/optin-requests",
        headers=api.headers(),
        json={
            "channel": "whatsapp",
            "address": ALICE,
            "purposes": ["marketing"],
            "template": {"id": "welcome", "version": "2", "text": "Reply YES for offers"},
            "business_name": "Acme",
        },
    )
    assert asked.status_code == 201, asked.text
    inbound(api, "YES", "m1")
    inbound(api, "STOP", "m2")
    again = api.client.post(
        "/v1/events",
        headers=api.headers(),
        json={
            "events": [
                {
                    "type": "opted_in",
                    "channel": "whatsapp",
                    "address": ALICE,
                    "purposes": ["marketing"],
                    "occurred_at": "2026-11-20T09:00:00Z",
                    "source": {"kind": "web_form", "id": "f-1"},
                    "evidence": {"method": "web_form"},
                }
            ]
        },
    )
    assert again.status_code == 200, again.text


def bundle_hashes(api: Api) -> dict[str, str]:
    bundle = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/attestation", headers=api.headers("auditor")
    ).json()
    return {event["event_id"]: event["hash"] for event in bundle["events"]}


def test_27560_records_in_dpv_follow_the_history_and_link_to_the_bundle(api: Api) -> None:
    given_a_history(api)
    response = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/consent-records", headers=api.headers("auditor")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    errors = list(validator("dpv-27560-record.schema.json").iter_errors(document))
    assert errors == [], [e.message for e in errors]
    [record] = document["@graph"]  # one purpose
    assert record["dpv:hasPurpose"]["dct:title"] == "marketing"
    assert [part["@type"] for part in record["dct:hasPart"]] == [
        "dpv:ConsentRequested",
        "dpv:ConsentGiven",
        "dpv:ConsentWithdrawn",
        "dpv:RenewedConsentGiven",
    ]
    assert record["dpv:hasConsentStatus"] == "dpv:RenewedConsentGiven"
    assert record["dpv:hasJurisdiction"] == "loc:US"
    assert record["dct:hasPart"][0]["dpv:hasNotice"] == {
        "dct:identifier": "welcome",
        "dct:hasVersion": "2",
    }
    hashes = bundle_hashes(api)
    for part in record["dct:hasPart"]:
        assert hashes[part["@id"].removeprefix("urn:uuid:")] == part["cl:hash"]
    last = record["dct:modified"]  # US: kept 4 years after the last event
    assert record["cl:retentionUntil"] == f"{int(last[:4]) + 4}{last[4:]}"
    assert "14155550100" not in response.text


def test_kantara_receipts_need_the_controller_named(api: Api) -> None:
    given_a_history(api)
    response = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/consent-records?format=kantara",
        headers=api.headers("auditor"),
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "controller_not_configured"
    assert response.json()["error"]["field"] == "controller"


@pytest.fixture
def controller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CONSENT_LEDGER_COMPLIANCE_POLICY",
        json.dumps({"tenants": {"acme": {"controller": CONTROLLER}}}),
    )


def test_a_kantara_receipt_for_each_grant_valid_and_linked(controller: None, api: Api) -> None:
    given_a_history(api)
    response = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/consent-records?format=kantara",
        headers=api.headers("auditor"),
    )
    assert response.status_code == 200, response.text
    entries = response.json()["receipts"]
    assert len(entries) == 2  # the accepted request and the web form
    check = validator("kantara-consent-receipt-v1.1.schema.json")
    hashes = bundle_hashes(api)
    for entry in entries:
        receipt: dict[str, Any] = entry["receipt"]
        errors = list(check.iter_errors(receipt))
        assert errors == [], [e.message for e in errors]
        assert receipt["consentReceiptID"] == entry["ledger"]["event_id"]
        assert hashes[entry["ledger"]["event_id"]] == entry["ledger"]["hash"]
        assert receipt["piiControllers"][0]["piiController"] == "Acme Ltd"
    assert [e["receipt"]["collectionMethod"] for e in entries] == ["keyword (YES)", "web_form"]
    assert "14155550100" not in response.text
    # The schema is not a formality: a receipt without its principal or version fails it
    broken = dict(entries[0]["receipt"], version="KI-CR-v1.0.0")
    del broken["piiPrincipalId"]
    assert len(list(check.iter_errors(broken))) == 2
