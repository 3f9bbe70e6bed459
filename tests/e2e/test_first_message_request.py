"""Ask on first message (Glific's flow): a new person's first message that matches no
keyword gets the tenant's opt-in request, recorded and queued, on both backends."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.support.gateways import wa_messages, wa_payload, wa_text
from tests.support.webhooks import configure, history, outbound, post_whatsapp

ASK = {
    "enabled": True,
    "purposes": ["marketing"],
    "template": {"id": "welcome", "version": "3", "text": "Hi! Reply YES to get offers from Acme"},
    "business_name": "Acme",
}


def set_ask(api: Api, body: dict[str, Any]) -> Any:
    return api.client.put(
        "/v1/tenants/acme/first-message-request", headers=api.headers("admin"), json=body
    )


def send(api: Api, address: str, text: str, message_id: str) -> dict[str, Any]:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers("ingest"),
        json={"channel": "whatsapp", "from": address, "text": text, "message_id": message_id},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_first_hello_stores_nothing_while_the_tenant_has_not_turned_it_on(api: Api) -> None:
    answer = send(api, "+14155550100", "Hello", "wamid.1")
    assert (answer["action"], answer["event_id"]) == ("none", None)
    assert outbound(api) == []
    settings = api.client.get("/v1/tenants/acme", headers=api.headers("admin")).json()
    assert settings["first_message_request"] is None


def test_a_new_persons_first_hello_records_and_queues_the_tenants_request(api: Api) -> None:
    # Given the tenant asks on first message
    turned_on = set_ask(api, ASK)
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json()["first_message_request"]["template"]["id"] == "welcome"
    # When a person the ledger has never seen writes "Hello"
    answer = send(api, "+14155550100", "Hello", "wamid.1")
    # Then an opt-in request is recorded, triggered by that message
    assert answer["action"] == "opt_in_requested"
    [requested] = history(api, "+14155550100")
    assert requested["type"] == "opt_in_requested"
    assert requested["event_id"] == answer["event_id"]
    assert requested["source"] == {"kind": "message", "id": "wamid.1"}
    assert requested["evidence"]["method"] == "first_message"
    assert requested["evidence"]["triggered_by"] == "wamid.1"
    assert requested["evidence"]["notice"]["id"] == "welcome"
    assert requested["disclosures"]["text"] == "Hello"
    # ... and the request is queued to be sent, with the tenant's template
    [message] = outbound(api)
    assert (message["kind"], message["to"]) == ("opt_in_request", "+14155550100")
    assert message["template"]["text"] == "Hi! Reply YES to get offers from Acme"
    assert message["business_name"] == "Acme"
    # And the subject is pending, under the request window like any request
    status = api.client.get(
        f"/v1/subjects/whatsapp/+14155550100?after={answer['position']}",
        headers=api.headers("campaign"),
    ).json()
    assert status["purposes"]["marketing"]["status"] == "pending"
    assert status["pending_request"]["request_id"] == message["request_id"]
    # A redelivery of the same message asks nothing twice; a second message asks nothing
    again = send(api, "+14155550100", "Hello", "wamid.1")
    assert (again["action"], again["duplicate"]) == ("opt_in_requested", True)
    assert send(api, "+14155550100", "Anyone there?", "wamid.2")["action"] == "none"
    # One request pending at a time: an integrator's own request is refused meanwhile
    refused = api.client.post(
        "/v1/optin-requests",
        headers=api.headers("ingest"),
        json={
            "channel": "whatsapp",
            "address": "+14155550100",
            "purposes": ["marketing"],
            "template": {"id": "t", "version": "1", "text": "Reply YES"},
            "business_name": "Acme",
        },
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "request_pending")
    # The person's YES answers the request the first message asked
    assert send(api, "+14155550100", "YES", "wamid.3")["action"] == "accepted"
    assert [m["kind"] for m in outbound(api)] == ["opt_in_request", "confirmation"]


def test_keywords_still_win_and_a_known_person_is_never_asked(api: Api) -> None:
    set_ask(api, ASK)
    # A first message that is a keyword means what it says: no request
    assert send(api, "+14155550101", "STOP", "wamid.10")["action"] == "opted_out"
    assert send(api, "+14155550102", "HELP", "wamid.11")["action"] == "help"
    # After a STOP the person has a history: a later chat asks nothing
    assert send(api, "+14155550101", "Hello", "wamid.12")["action"] == "none"
    assert [e["type"] for e in history(api, "+14155550101")] == ["opted_out"]
    # A HELP stores no event: that person's first real chat is still a first message
    assert send(api, "+14155550102", "Hi", "wamid.13")["action"] == "opt_in_requested"


def test_a_first_message_from_the_whatsapp_webhook_asks_too(api: Api) -> None:
    configure(api, "whatsapp")
    set_ask(api, ASK)
    response = post_whatsapp(api, wa_payload(wa_messages(wa_text("wamid.20", "16315551181", "Hi"))))
    assert response.status_code == 200, response.text
    [requested] = history(api, "+16315551181")
    assert (requested["type"], requested["evidence"]["triggered_by"]) == (
        "opt_in_requested",
        "wamid.20",
    )


def test_the_setting_is_checked_recorded_in_the_settings_history_and_can_be_turned_off(
    api: Api,
) -> None:
    missing = set_ask(api, {"enabled": True, "purposes": ["marketing"]})
    assert (missing.status_code, missing.json()["error"]["field"]) == (422, "template")
    bad_purpose = set_ask(api, {**ASK, "purposes": ["Marketing!"]})
    assert bad_purpose.status_code == 422
    assert set_ask(api, ASK).status_code == 200
    off = set_ask(api, {"enabled": False})
    assert off.status_code == 200
    assert off.json()["first_message_request"] is None
    assert send(api, "+14155550103", "Hello", "wamid.30")["action"] == "none"
    changes = api.client.get("/v1/tenants/acme/history", headers=api.headers("auditor")).json()
    assert [(e["type"], e["enabled"]) for e in changes["events"]] == [
        ("tenant_first_message_request_changed", True),
        ("tenant_first_message_request_changed", False),
    ]
    # Another tenant's admin key cannot change it
    foreign = api.client.put(
        "/v1/tenants/globex/first-message-request", headers=api.headers("admin"), json=ASK
    )
    assert foreign.status_code == 403
