"""The business sender the person wrote to is recorded on the events the gateways and the
API report (WhatsApp phone number id, Twilio Messaging Service or number, Gupshup app),
hashed with the rest of the evidence; events recorded before it existed read as before."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.support.gateways import (
    PHONE_NUMBER_ID,
    TWILIO_NUMBER,
    gupshup_message,
    twilio_inbound,
    unix,
    wa_messages,
    wa_payload,
    wa_text,
)
from tests.support.webhooks import (
    GUPSHUP_APP,
    configure,
    history,
    post_gupshup,
    post_twilio,
    post_whatsapp,
)


def last_evidence(api: Api, address: str, channel: str = "whatsapp") -> dict[str, Any]:
    evidence: dict[str, Any] = history(api, address, channel)[-1]["evidence"]
    return evidence


def test_each_gateway_records_the_sender_it_names(api: Api) -> None:
    configure(api)
    response = post_whatsapp(
        api, wa_payload(wa_messages(wa_text("wamid.1", "16315551181", "STOP")))
    )
    assert response.status_code == 200, response.text
    assert last_evidence(api, "+16315551181")["sender"] == PHONE_NUMBER_ID

    sms = twilio_inbound("SM1", "+16315551182", "STOP")
    assert post_twilio(api, sms).status_code == 200
    assert last_evidence(api, "+16315551182", "sms")["sender"] == TWILIO_NUMBER
    serviced = [*twilio_inbound("SM2", "+16315551183", "STOP"), ("MessagingServiceSid", "MG9")]
    assert post_twilio(api, serviced).status_code == 200
    assert last_evidence(api, "+16315551183", "sms")["sender"] == "MG9"

    message = gupshup_message(
        GUPSHUP_APP, "gs-1", "916315551184", "text", {"text": "STOP"}, unix() * 1000
    )
    assert post_gupshup(api, message).status_code == 200
    assert last_evidence(api, "+916315551184")["sender"] == GUPSHUP_APP


def test_the_api_takes_a_sender_and_refuses_an_overlong_one_naming_it(api: Api) -> None:
    body = {
        "channel": "sms",
        "from": "+16315551185",
        "text": "STOP",
        "message_id": "m1",
        "sender": "+18005550000",
    }
    response = api.client.post("/v1/messages/inbound", json=body, headers=api.headers())
    assert response.status_code == 200, response.text
    assert last_evidence(api, "+16315551185", "sms")["sender"] == "+18005550000"
    too_long = {**body, "message_id": "m2", "sender": "x" * 1000}
    refused = api.client.post("/v1/messages/inbound", json=too_long, headers=api.headers())
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "sender"
    assert len(history(api, "+16315551185", "sms")) == 1
