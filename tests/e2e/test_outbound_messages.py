"""What the ledger asks the gateways to send: opt-in requests, confirmations, help.

On the embedded default a sender pulls them from ``GET /v1/outbound``; each is stored
in the same transaction as the event it follows.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.support.gateways import (
    twilio_inbound,
    unix,
    wa_messages,
    wa_payload,
    wa_status,
    wa_text,
)
from tests.support.webhooks import configure, history, outbound, post_twilio, post_whatsapp

ALICE, ALICE_E164 = "16315551181", "+16315551181"


@pytest.fixture
def wa(api: Api) -> Api:
    configure(api, "whatsapp", "twilio")
    return api


def ask(api: Api, address: str = ALICE_E164) -> dict[str, Any]:
    response = api.client.post(
        "/v1/optin-requests",
        headers=api.headers("ingest"),
        json={
            "channel": "whatsapp",
            "address": address,
            "purposes": ["marketing"],
            "template": {"id": "welcome", "version": "2", "text": "Reply YES for offers from Acme"},
            "business_name": "Acme",
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def say(api: Api, wamid: str, text: str) -> None:
    response = post_whatsapp(api, wa_payload(wa_messages(wa_text(wamid, ALICE, text))))
    assert response.status_code == 200, response.text


def test_an_opt_in_request_queues_the_message_to_send_with_the_id_to_echo(wa: Api) -> None:
    request = ask(wa)
    [message] = outbound(wa)
    assert message["id"] == request["outbound_id"]
    assert message["kind"] == "opt_in_request"
    assert message["to"] == ALICE_E164
    assert message["template"] == {
        "id": "welcome",
        "version": "2",
        "text": "Reply YES for offers from Acme",
    }
    assert (message["request_id"], message["purposes"]) == (request["request_id"], ["marketing"])
    assert message["category"] == "utility"
    assert outbound(wa, after=message["outbox_id"]) == []


def test_one_confirmation_per_change_and_none_when_nothing_changed(wa: Api) -> None:
    say(wa, "wamid.1", "STOP")
    say(wa, "wamid.2", "stop please")  # already opted out: no second confirmation
    say(wa, "wamid.1", "STOP")  # a redelivery: nothing at all
    say(wa, "wamid.3", "START")
    messages = outbound(wa)
    assert [(m["kind"], m["change"]) for m in messages] == [
        ("confirmation", "opted_out"),
        ("confirmation", "opted_in"),
    ]
    assert all(m["to"] == ALICE_E164 and m["category"] == "utility" for m in messages)
    assert "START" in messages[0]["text"]
    [stop, _, start] = history(wa, ALICE_E164)
    assert (messages[0]["event_id"], messages[1]["event_id"]) == (
        stop["event_id"],
        start["event_id"],
    )


def test_help_gets_the_help_text_once_and_records_nothing(wa: Api) -> None:
    wa.client.put(
        "/v1/tenants/acme/texts", json={"help": "Acme: call 555-0100"}, headers=wa.headers("admin")
    )
    say(wa, "wamid.h", "HELP")
    say(wa, "wamid.h", "HELP")  # redelivered
    [reply] = outbound(wa)
    assert (reply["kind"], reply["text"], reply["to"]) == (
        "help",
        "Acme: call 555-0100",
        ALICE_E164,
    )
    assert reply["event_id"] is None
    assert history(wa, ALICE_E164) == []


def test_a_rejection_gets_a_reply_saying_yes_is_always_possible(wa: Api) -> None:
    ask(wa)
    say(wa, "wamid.no", "NO")
    _request, reply = outbound(wa)
    assert (reply["kind"], reply["change"]) == ("confirmation", "rejected")
    assert "YES" in reply["text"]
    say(wa, "wamid.yes", "YES")  # later: an explicit opt-in, confirmed
    assert outbound(wa, after=reply["outbox_id"])[0]["change"] == "opted_in"


def test_an_empty_text_turns_that_reply_off(wa: Api) -> None:
    wa.client.put("/v1/tenants/acme/texts", json={"opted_out": ""}, headers=wa.headers("admin"))
    say(wa, "wamid.1", "STOP")
    assert outbound(wa) == []
    assert [e["type"] for e in history(wa, ALICE_E164)] == ["opted_out"]


def test_no_confirmation_when_twilio_already_answered_the_stop(wa: Api) -> None:
    response = post_twilio(wa, twilio_inbound("SM1", "+14155550100", "STOP", opt_out_type="STOP"))
    assert response.status_code == 200
    assert [e["type"] for e in history(wa, "+14155550100", "sms")] == ["opted_out"]
    assert outbound(wa) == []


def test_a_confirmation_reported_sent_is_recorded_once(wa: Api) -> None:
    say(wa, "wamid.1", "STOP")
    [confirmation] = outbound(wa)
    reports = [
        wa_status("wamid.out1", state, ALICE, callback=confirmation["id"], timestamp=unix(5 - i))
        for i, state in enumerate(("sent", "delivered", "read"))
    ]
    response = post_whatsapp(wa, wa_payload(wa_messages(statuses=reports)))
    assert response.json() == {"recorded": 1, "duplicates": 2, "ignored": 0}
    stop, sent = history(wa, ALICE_E164)
    assert sent["type"] == "confirmation_sent"
    assert sent["source"] == {"kind": "outbound", "id": confirmation["id"]}
    assert sent["evidence"]["gateway_message_id"] == "wamid.out1"
    assert sent["evidence"]["gateway_status"] == "sent"
    assert (sent["purposes"], sent["all_purposes"]) == (stop["purposes"], True)


def test_sent_delivered_and_read_of_a_request_are_kept_as_its_evidence(wa: Api) -> None:
    request = ask(wa)
    for state in ("sent", "delivered", "read", "read"):
        status = wa_status("wamid.req", state, ALICE, callback=request["outbound_id"])
        post_whatsapp(wa, wa_payload(wa_messages(statuses=[status])))
    response = wa.client.get(
        f"/v1/optin-requests/{request['request_id']}/deliveries", headers=wa.headers("auditor")
    )
    assert response.status_code == 200, response.text
    deliveries = response.json()["deliveries"]
    assert sorted(d["status"] for d in deliveries) == ["delivered", "read", "sent"]
    assert {d["gateway_message_id"] for d in deliveries} == {"wamid.req"}
    assert [e["type"] for e in history(wa, ALICE_E164)] == ["opt_in_requested"]


def test_a_request_to_a_number_not_on_whatsapp_becomes_undeliverable(wa: Api) -> None:
    request = ask(wa)
    failed = wa_status(
        "wamid.req", "failed", ALICE, error_code=131026, callback=request["outbound_id"]
    )
    response = post_whatsapp(wa, wa_payload(wa_messages(statuses=[failed])))
    assert response.json()["recorded"] == 1
    events = history(wa, ALICE_E164)
    assert [e["type"] for e in events] == ["opt_in_requested", "opt_in_request_undeliverable"]
    assert events[1]["request_id"] == request["request_id"]
    subject = wa.client.get(
        f"/v1/subjects/whatsapp/{ALICE_E164}?after={events[1]['position']}",
        headers=wa.headers("campaign"),
    )
    assert subject.json()["purposes"]["marketing"]["status"] == "undeliverable"


def test_the_outbound_queue_shows_a_tenant_its_own_messages_only(wa: Api) -> None:
    ask(wa)
    response = wa.client.get("/v1/outbound", headers=wa.headers("other_tenant"))
    assert response.status_code == 200
    assert response.json()["messages"] == []
