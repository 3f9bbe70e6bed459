"""Campaign receipts through the HTTP API, on both backends: a send's list is recorded as a
Merkle root; a subject gets inclusion proofs for the receipts that held it and
non-inclusion proofs for those after its opt-out; a receipt that wrongly held an
opted-out subject shows as a violation; tampered proofs fail the offline check."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.application.consent_ledger import ConsentLedger
from ledger.attestation.campaigns.sorted_ids import SortedIdTree
from ledger.attestation.campaigns.verification import verify_entry
from ledger.crypto.chain import document_hash
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.support.attestation import new_sealer
from tests.support.processes import clean_env, run_cli

ALICE, BOB, CAROL = "+14155550100", "+14155550101", "+14155550102"


def record(api: Api, address: str, kind: str, n: int) -> dict[str, Any]:
    response = api.client.post(
        "/v1/events",
        headers=api.headers("ingest"),
        json={
            "events": [
                {
                    "type": kind,
                    "channel": "whatsapp",
                    "address": address,
                    "purposes": ["marketing"],
                    "occurred_at": "2026-11-01T09:00:00Z",
                    "source": {"kind": "web_form", "id": f"form-{n}"},
                    "evidence": {"method": "web_form"},
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def audience(api: Api, after: int) -> tuple[list[str], int]:
    response = api.client.get(
        f"/v1/audiences/whatsapp/marketing?after={after}", headers=api.headers("campaign")
    )
    assert response.status_code == 200, response.text
    rows = [json.loads(line) for line in response.text.splitlines() if line]
    return [row["subject_id"] for row in rows], int(response.headers["X-Ledger-Position"])


def post_receipt(api: Api, campaign: str, **body: Any) -> dict[str, Any]:
    response = api.client.post(
        f"/v1/campaigns/{campaign}/receipts",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": "marketing", **body},
    )
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def campaigns(api: Api, address: str, query: str = "") -> dict[str, Any]:
    response = api.client.get(
        f"/v1/subjects/whatsapp/{address}/campaigns{query}", headers=api.headers("auditor")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def sent(api: Api) -> dict[str, Any]:
    """Alice, Bob and Carol opted in; Carol opted out; the campaign sent to its audience
    (Alice and Bob), then a careless one sent to Alice and Carol by address."""
    for n, address in enumerate((ALICE, BOB, CAROL)):
        record(api, address, "opted_in", n)
    opt_out = record(api, CAROL, "opted_out", 9)
    members, position = audience(api, opt_out["position"])
    assert len(members) == 2
    good = post_receipt(api, "spring-sale", position=position, subject_ids=members)
    bad = post_receipt(api, "spring-sale.retry", position=position, addresses=[ALICE, CAROL])
    return {"opt_out": opt_out, "good": good, "bad": bad, "members": members}


def test_a_receipt_holds_the_count_and_root_of_the_sorted_list_never_an_address(
    api: Api, sent: dict[str, Any]
) -> None:
    good = sent["good"]
    assert (good["type"], good["campaign_id"], good["count"]) == (
        "campaign_receipt_recorded",
        "spring-sale",
        2,
    )
    assert good["channel"] == "whatsapp"
    assert good["purpose"] == "marketing"
    assert good["hash"] == document_hash(
        {k: v for k, v in good.items() if k not in ("hash", "position", "receipt_id", "duplicate")},
        ascii_keys=True,
    )
    assert good["version"] == 1
    assert sent["bad"]["version"] == 2
    assert sent["bad"]["prev_hash"] == good["hash"]  # the tenant's chain of receipts
    assert ALICE not in json.dumps(good)
    assert "14155550100" not in json.dumps(sent["bad"])


def test_a_subject_gets_an_inclusion_proof_for_every_receipt_that_held_it(
    api: Api, sent: dict[str, Any]
) -> None:
    alice = campaigns(api, ALICE)
    assert [e["receipt"]["campaign_id"] for e in alice["receipts"]] == [
        "spring-sale",
        "spring-sale.retry",
    ]
    for entry in alice["receipts"]:
        check = verify_entry(UUID(alice["subject_id"]), entry)
        assert (check.ok, check.included) == (True, True), check.reason
    assert [e["receipt"]["campaign_id"] for e in campaigns(api, BOB)["receipts"]] == ["spring-sale"]
    page = campaigns(api, ALICE, "?limit=1")
    assert len(page["receipts"]) == 1
    rest = campaigns(api, ALICE, f"?limit=1&cursor={page['next_cursor']}")
    assert [e["receipt"]["campaign_id"] for e in rest["receipts"]] == ["spring-sale.retry"]


def test_after_an_opt_out_each_receipt_proves_absence_or_shows_the_violation(
    api: Api, sent: dict[str, Any]
) -> None:
    opt_out_id = sent["opt_out"]["event_id"]
    carol = campaigns(api, CAROL, f"?after_opt_out={opt_out_id}")
    assert carol["opt_out"]["event_id"] == opt_out_id
    good, bad = carol["receipts"]
    assert (good["receipt"]["campaign_id"], good["included"]) == ("spring-sale", False)
    assert (bad["receipt"]["campaign_id"], bad["included"]) == ("spring-sale.retry", True)
    assert carol["violations"] == 1
    subject = UUID(carol["subject_id"])
    assert verify_entry(subject, good).included is False
    assert verify_entry(subject, good).ok
    assert verify_entry(subject, bad).included is True  # the violation is proved too
    assert verify_entry(subject, bad).ok


def test_tampered_receipts_and_proofs_fail_the_offline_check(
    api: Api, sent: dict[str, Any]
) -> None:
    carol = campaigns(api, CAROL, f"?after_opt_out={sent['opt_out']['event_id']}")
    subject = UUID(carol["subject_id"])
    good, bad = carol["receipts"]

    def tampered(entry: dict[str, Any], change: Any) -> dict[str, Any]:
        forged = copy.deepcopy(entry)
        change(forged)
        return forged

    def other_root(e: dict[str, Any]) -> None:
        e["receipt"]["root"] = bad["receipt"]["root"]

    def other_root_rehashed(e: dict[str, Any]) -> None:
        other_root(e)
        e["receipt"]["hash"] = document_hash(
            {k: v for k, v in e["receipt"].items() if k not in ("hash", "position")},
            ascii_keys=True,
        )

    def smaller_count(e: dict[str, Any]) -> None:
        e["receipt"]["count"] = 1

    def claims_inclusion(e: dict[str, Any]) -> None:
        e["included"] = True

    def neighbour_swapped(e: dict[str, Any]) -> None:
        side = e["non_inclusion"]["left"] or e["non_inclusion"]["right"]
        side["subject_id"] = str(subject)

    forgeries = [other_root, other_root_rehashed, smaller_count, claims_inclusion]
    forgeries.append(neighbour_swapped)
    for forgery in forgeries:
        check = verify_entry(subject, tampered(good, forgery))
        assert not check.ok, forgery.__name__

    # The violating receipt cannot be dressed up as honoured with the other's proof
    def hides_violation(e: dict[str, Any]) -> None:
        e["included"] = False
        e["inclusion"] = None
        e["non_inclusion"] = good["non_inclusion"]

    assert not verify_entry(subject, tampered(bad, hides_violation)).ok
    # ... nor can the honoured one be shown as a proof about another subject
    alice = UUID(campaigns(api, ALICE)["subject_id"])
    assert not verify_entry(alice, good).ok


def test_a_bad_receipt_is_refused_naming_the_field_and_nothing_is_recorded(api: Api) -> None:
    record(api, ALICE, "opted_in", 1)
    cases = [
        ("spring", {"position": 1, "subject_ids": [str(UUID(int=1)), "nope"]}, "subject_ids[1]"),
        ("spring", {"position": 1, "addresses": ["+1415"]}, "addresses[0]"),
        ("spring sale", {"position": 1, "subject_ids": []}, "campaign_id"),
        ("spring", {"position": -1, "subject_ids": []}, "position"),
        ("spring", {"position": 10**9, "subject_ids": []}, "position"),  # beyond the ledger
    ]
    for campaign, body, field in cases:
        response = api.client.post(
            f"/v1/campaigns/{campaign}/receipts",
            headers=api.headers("campaign"),
            json={"channel": "whatsapp", "purpose": "marketing", **body},
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    wrong = api.client.post(
        "/v1/campaigns/spring/receipts",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": "Marketing!", "position": 1},
    )
    assert wrong.json()["error"]["field"] == "purpose"
    assert campaigns(api, ALICE)["receipts"] == []
    # Only campaign keys record receipts
    refused = api.client.post(
        "/v1/campaigns/spring/receipts",
        headers=api.headers("auditor"),
        json={"channel": "whatsapp", "purpose": "marketing", "position": 1},
    )
    assert refused.status_code == 403


def test_an_unknown_opt_out_or_subject_is_a_clear_4xx(api: Api, sent: dict[str, Any]) -> None:
    response = api.client.get(
        f"/v1/subjects/whatsapp/{CAROL}/campaigns?after_opt_out={UUID(int=7)}",
        headers=api.headers("auditor"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "after_opt_out"
    response = api.client.get(
        f"/v1/subjects/whatsapp/+14155550199/campaigns?after_opt_out={UUID(int=7)}",
        headers=api.headers("auditor"),
    )
    assert response.status_code == 404


def public_pem(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


def verify_campaigns(answer: dict[str, Any], key: Path, tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "proofs.json"
    path.write_text(json.dumps(answer))
    done = run_cli(
        "verify-campaigns", str(path), "--public-key", str(key), env=clean_env(), cwd=tmp_path
    )
    return done.returncode, done.stdout + done.stderr


def test_the_proofs_verify_offline_against_the_signed_log_and_tampering_fails(
    api: Api, storage: StorageSettings, sent: dict[str, Any], tmp_path: Path
) -> None:
    # Given the log sealed by the sealer, with its key
    key = Ed25519PrivateKey.generate()
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        new_sealer(ledger, key).checkpoint_once()
    finally:
        ledger.close()
    public = public_pem(key, tmp_path / "ledger.pub")
    # When an auditor fetches Carol's proofs after her opt-out
    carol = campaigns(api, CAROL, f"?after_opt_out={sent['opt_out']['event_id']}")
    assert carol["checkpoint"]["tree_size"] >= carol["receipts"][-1]["receipt"]["position"]
    assert all(entry["log"]["inclusion_proof"] is not None for entry in carol["receipts"])
    # Then the CLI verifies every receipt against the signed checkpoint
    code, output = verify_campaigns(carol, public, tmp_path)
    assert code == 0, output
    assert "2 receipts verified" in output
    assert "1 held the subject, 1 proved it absent" in output
    # ... and a receipt re-hashed with another root no longer matches the sealed leaf
    forged = copy.deepcopy(carol)
    receipt = forged["receipts"][0]["receipt"]
    receipt["root"] = carol["receipts"][1]["receipt"]["root"]
    receipt["hash"] = document_hash(
        {k: v for k, v in receipt.items() if k not in ("hash", "position")}, ascii_keys=True
    )
    code, output = verify_campaigns(forged, public, tmp_path)
    assert code == 1
    assert "differs from what the log sealed" in output
    # ... and another key does not open the checkpoint
    other = public_pem(Ed25519PrivateKey.generate(), tmp_path / "other.pub")
    code, output = verify_campaigns(carol, other, tmp_path)
    assert (code, output.startswith("FAILED: checkpoint")) == (1, True)


def test_an_auditor_rebuilds_a_receipts_root_from_its_list(api: Api, sent: dict[str, Any]) -> None:
    good = sent["good"]
    response = api.client.get(
        f"/v1/campaigns/spring-sale/receipts/{good['receipt_id']}", headers=api.headers("auditor")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject_ids"] == sorted(sent["members"])
    rebuilt = SortedIdTree([UUID(sid) for sid in body["subject_ids"]])
    assert (rebuilt.root.hex(), rebuilt.size) == (good["root"], good["count"])
    assert body["receipt"]["hash"] == good["hash"]
    for path in (
        f"/v1/campaigns/other-campaign/receipts/{good['receipt_id']}",
        f"/v1/campaigns/spring-sale/receipts/{UUID(int=5)}",
        "/v1/campaigns/spring-sale/receipts/not-a-uuid",
    ):
        missing = api.client.get(path, headers=api.headers("auditor"))
        assert missing.status_code == 404, path
        assert missing.json()["error"]["field"] == "receipt_id"


def test_the_same_receipt_sent_again_is_the_one_recorded(api: Api, sent: dict[str, Any]) -> None:
    body = {"position": sent["good"]["as_of_position"], "subject_ids": sent["members"][::-1]}
    again = api.client.post(
        "/v1/campaigns/spring-sale/receipts",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": "marketing", **body},
    )
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["receipt_id"] == sent["good"]["receipt_id"]
    other = post_receipt(api, "spring-sale.2", **body)  # another campaign: a receipt of its own
    assert other["duplicate"] is False
    assert other["receipt_id"] != sent["good"]["receipt_id"]
    assert len(campaigns(api, ALICE)["receipts"]) == 3
