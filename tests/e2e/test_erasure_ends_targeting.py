"""Erasure ends targeting: an erased subject is never eligible, never in an audience or
a count, shows status ``erased``, and stays suppressed by its hash; on both backends."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Api

ALICE, BOB = "+14155550100", "+14155550101"


def record(api: Api, address: str, kind: str, occurred_at: str, **more: Any) -> int:
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
                    "occurred_at": occurred_at,
                    "source": {"kind": "web_form", "id": f"{address}-{occurred_at}"},
                    "evidence": {"method": "web_form"},
                    **more,
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    position: int = response.json()["results"][0]["position"]
    return position


def erase(api: Api, address: str) -> int:
    response = api.client.delete(
        f"/v1/subjects/whatsapp/{address}/personal-data", headers=api.headers("admin")
    )
    assert response.status_code == 200, response.text
    assert response.json()["read_models_updated"] is True
    position: int = response.json()["position"]
    return position


def ndjson(api: Api, path: str) -> list[dict[str, Any]]:
    response = api.client.get(path, headers=api.headers("campaign"))
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def eligibility(api: Api, *addresses: str, after: int = 0) -> list[dict[str, Any]]:
    response = api.client.post(
        f"/v1/eligibility?after={after}",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": "marketing", "addresses": list(addresses)},
    )
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def test_an_erased_subject_is_never_targeted_again(api: Api) -> None:
    # Given two opted-in subjects, and one of them erased
    record(api, ALICE, "opted_in", "2026-01-10T09:00:00Z")
    record(api, BOB, "opted_in", "2026-01-10T09:00:00Z")
    position = erase(api, ALICE)
    # Then eligibility says no, with the reason
    alice, bob = eligibility(api, ALICE, BOB, after=position)
    assert (alice["eligible"], alice["reason"]) == (False, "erased")
    assert (bob["eligible"], bob["reason"]) == (True, "opted_in")
    # ... the audience and its count leave the subject out (no row with a null address)
    audience = ndjson(api, f"/v1/audiences/whatsapp/marketing?after={position}")
    assert [row["address"] for row in audience] == [BOB]
    count = api.client.get(
        "/v1/audiences/whatsapp/marketing/count", headers=api.headers("campaign")
    )
    assert count.json()["count"] == 1
    # ... the status says erased, for the purpose and the channel
    status = api.client.get(f"/v1/subjects/whatsapp/{ALICE}", headers=api.headers("campaign"))
    purposes = status.json()["purposes"]
    assert {name: p["status"] for name, p in purposes.items()} == {
        "marketing": "erased",
        "*": "erased",
    }
    # ... and the suppression list keeps it by its hash (the subject id), without the number
    [suppressed] = ndjson(api, "/v1/suppressions/whatsapp")
    assert (suppressed["address"], suppressed["purpose"], suppressed["status"]) == (
        None,
        "*",
        "erased",
    )
    assert suppressed["subject_id"] == status.json()["subject_id"]
    # And nobody may ask the erased person for consent again
    refused = api.client.post(
        "/v1/optin-requests",
        headers=api.headers("ingest"),
        json={
            "channel": "whatsapp",
            "address": ALICE,
            "purposes": ["marketing"],
            "template": {"id": "welcome", "version": "1", "text": "Reply YES"},
            "business_name": "Acme",
        },
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "subject_erased")


def test_a_reimport_of_an_erased_number_is_refused_unless_it_is_a_new_opt_in(api: Api) -> None:
    record(api, ALICE, "opted_in", "2026-01-10T09:00:00Z")
    record(api, ALICE, "opted_out", "2026-01-11T09:00:00Z")
    erase(api, ALICE)
    # An old CRM export comes back: its rows predate the erasure and are refused
    csv = (
        "channel,address,type,purposes,occurred_at\n"
        f"whatsapp,{ALICE},opted_in,marketing,2026-01-10T09:00:00Z\n"
        f"whatsapp,{ALICE},opted_out,marketing,2026-01-11T09:00:00Z\n"
    )
    headers = {**api.headers(), "content-type": "text/csv"}
    report = api.client.post("/v1/imports", headers=headers, content=csv.encode()).json()
    assert (report["accepted"], report["rejected_count"]) == (0, 2)
    assert {r["code"] for r in report["rejected"]} == {"subject_erased"}
    # So is an old opt-in sent through the API
    late = api.client.post(
        "/v1/events",
        headers=api.headers("ingest"),
        json={
            "events": [
                {
                    "type": "opted_in",
                    "channel": "whatsapp",
                    "address": ALICE,
                    "purposes": ["marketing"],
                    "occurred_at": "2026-01-12T09:00:00Z",
                    "source": {"kind": "crm", "id": "old-1"},
                    "evidence": {"method": "import"},
                }
            ]
        },
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "subject_erased")
    assert eligibility(api, ALICE)[0]["reason"] == "erased"
    # A new opt-in, given after the erasure (the person signs up again), is recorded
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers("ingest"),
        json={"channel": "whatsapp", "from": ALICE, "text": "START", "message_id": "wamid.9"},
    )
    assert response.json()["action"] == "opted_in"
    position = response.json()["position"]
    [again] = eligibility(api, ALICE, after=position)
    assert (again["eligible"], again["reason"]) == (True, "opted_in")
    audience = ndjson(api, f"/v1/audiences/whatsapp/marketing?after={position}")
    assert [row["address"] for row in audience] == [ALICE]
