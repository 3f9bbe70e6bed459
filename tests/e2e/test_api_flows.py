"""The HTTP API doing the whole job on one machine: ingest, classify, ask, read back."""

from __future__ import annotations

from typing import Any

from ledger.crypto.chain import document_hash
from tests.e2e.conftest import Api

ALICE = "+14155550100"


def inbound(api: Api, text: str, message_id: str, sender: str = ALICE) -> dict[str, Any]:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers(),
        json={
            "channel": "whatsapp",
            "from": sender,
            "text": text,
            "message_id": message_id,
            "occurred_at": "2026-11-21T10:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def status(
    api: Api, after: int | None = None, address: str = ALICE, role: str = "all"
) -> dict[str, Any]:
    query = f"?after={after}" if after is not None else ""
    response = api.client.get(f"/v1/subjects/whatsapp/{address}{query}", headers=api.headers(role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_health_and_docs(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/events",
        "/v1/messages/inbound",
        "/v1/optin-requests",
        "/v1/subjects/{channel}/{address}",
        "/v1/subjects/{channel}/{address}/history",
    ):
        assert path in paths


def test_a_stop_is_recorded_and_read_back_at_once(api: Api) -> None:
    stop = inbound(api, "STOP", "wamid.1")
    assert stop["action"] == "opted_out"
    assert stop["duplicate"] is False
    assert (stop["keyword"], stop["match"]) == ("STOP", "exact")
    body = status(api, after=stop["position"])
    assert body["purposes"]["*"]["status"] == "opted_out"
    assert body["purposes"]["*"]["event_id"] == stop["event_id"]
    assert body["address"] == ALICE
    assert body["position"] == stop["position"]


def test_a_redelivered_message_is_a_no_op_answering_with_the_original(api: Api) -> None:
    first = inbound(api, "STOP", "wamid.7")
    again = inbound(api, "STOP", "wamid.7")
    assert again["duplicate"] is True
    assert (again["event_id"], again["position"]) == (first["event_id"], first["position"])
    history = api.client.get(f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers()).json()
    assert len(history["events"]) == 1


def test_help_and_chatter_store_nothing(api: Api) -> None:
    assert inbound(api, "HELP", "wamid.h")["action"] == "help"
    none = inbound(api, "what are your opening hours?", "wamid.n")
    assert none["action"] == "none"
    assert none["event_id"] is None
    history = api.client.get(f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers()).json()
    assert history["events"] == []


def test_the_opt_in_request_flow(api: Api) -> None:
    request = {
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing"],
        "template": {"id": "welcome", "version": "2", "text": "Reply YES to get updates from Acme"},
        "business_name": "Acme",
    }
    created = api.client.post("/v1/optin-requests", headers=api.headers(), json=request)
    assert created.status_code == 201, created.text
    assert (
        status(api, after=created.json()["position"])["purposes"]["marketing"]["status"]
        == "pending"
    )

    again = api.client.post("/v1/optin-requests", headers=api.headers(), json=request)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "request_pending"
    assert again.json()["retry_after"] == created.json()["expires_at"]

    yes = inbound(api, "Yes!", "wamid.yes")
    assert yes["action"] == "accepted"
    body = status(api, after=yes["position"])
    assert body["purposes"]["marketing"]["status"] == "opted_in"
    assert body["pending_request"] is None


def test_a_batch_from_a_web_form_and_its_history_with_a_verifiable_chain(api: Api) -> None:
    event = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing", "utility"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": "form-991"},
        "evidence": {
            "method": "web_form",
            "text": "I agree to receive offers from Acme",
            "notice": {"id": "n-1", "version": "3", "text": "Privacy notice v3"},
            "business_name": "Acme",
            "ip": "203.0.113.9",
            "user_agent": "Mozilla/5.0",
        },
    }
    response = api.client.post("/v1/events", headers=api.headers(), json={"events": [event]})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["type"] == "opted_in"
    assert result["version"] == 1
    stop = inbound(api, "stop promotions", "wamid.sp")
    history = api.client.get(f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers()).json()
    first, second = history["events"]
    assert first["event_id"] == result["event_id"]
    assert second["event_id"] == stop["event_id"]
    assert first["prev_hash"] == "0" * 64
    assert second["prev_hash"] == first["hash"]
    for item in history["events"]:
        document = {k: v for k, v in item.items() if k not in ("position", "hash", "disclosures")}
        assert document_hash(document) == item["hash"]
    assert first["evidence"]["notice"]["content_hash"]
    assert first["disclosures"]["ip"] == "203.0.113.9"
    assert "203.0.113.9" not in str({k: v for k, v in first.items() if k != "disclosures"})
    body = status(api, after=stop["position"])
    assert body["purposes"]["marketing"]["status"] == "opted_out"
    assert body["purposes"]["utility"]["status"] == "opted_in"
