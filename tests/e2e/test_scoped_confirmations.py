"""A confirmation says what was withdrawn: "stop promotions" is not "no more messages";
the texts per scope are the tenant's to set. On both backends."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.support.webhooks import outbound

ALICE = "+14155550100"


def say(api: Api, text: str, message_id: str) -> dict[str, Any]:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers("ingest"),
        json={"channel": "whatsapp", "from": ALICE, "text": text, "message_id": message_id},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def subscribe(api: Api) -> None:
    response = api.client.post(
        "/v1/events",
        headers=api.headers("ingest"),
        json={
            "events": [
                {
                    "type": "opted_in",
                    "channel": "whatsapp",
                    "address": ALICE,
                    "purposes": ["marketing", "utility"],
                    "occurred_at": "2026-01-10T09:00:00Z",
                    "source": {"kind": "web_form", "id": "f-1"},
                    "evidence": {"method": "web_form"},
                }
            ]
        },
    )
    assert response.status_code == 200, response.text


def test_each_confirmation_says_what_was_withdrawn(api: Api) -> None:
    subscribe(api)
    # "stop promotions" withdraws marketing only, and the confirmation says so
    assert say(api, "stop promotions", "wamid.1")["action"] == "opted_out"
    # A plain STOP withdraws everything, and its confirmation says that
    assert say(api, "STOP", "wamid.2")["action"] == "opted_out"
    scoped, everything = outbound(api)
    assert (scoped["purposes"], scoped["all_purposes"]) == (["marketing"], False)
    assert scoped["text"] == (
        "You will get no more marketing messages from us. Other messages you agreed to "
        "continue; reply STOP to stop them all."
    )
    assert everything["all_purposes"] is True
    assert everything["text"].startswith("You are unsubscribed and will get no more messages")


def test_the_tenant_sets_the_text_of_each_scope(api: Api) -> None:
    response = api.client.put(
        "/v1/tenants/acme/texts",
        headers=api.headers("admin"),
        json={
            "opted_out_purposes": "Done: no more {purposes} from Acme.",
            "opted_out": "Done: nothing more from Acme.",
        },
    )
    assert response.status_code == 200, response.text
    texts = response.json()["texts"]
    assert texts["opted_out_purposes"] == "Done: no more {purposes} from Acme."
    subscribe(api)
    say(api, "stop promotions", "wamid.1")
    say(api, "STOP", "wamid.2")
    assert [m["text"] for m in outbound(api)] == [
        "Done: no more marketing from Acme.",
        "Done: nothing more from Acme.",
    ]
    # An empty text turns that confirmation off, and only that one
    api.client.put(
        "/v1/tenants/acme/texts", headers=api.headers("admin"), json={"opted_out_purposes": ""}
    )
    say(api, "START", "wamid.3")
    say(api, "stop marketing", "wamid.4")
    assert [m["change"] for m in outbound(api)] == ["opted_out", "opted_out", "opted_in"]
