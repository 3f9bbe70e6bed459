"""A request that cannot reach the person on WhatsApp: the agent hears about it at once.

The gateway's "not on WhatsApp" (Meta 131026, Twilio 63003) shows where the integrator
already listens: the request's deliveries (``failed``, the code, ``fallback: sms``) and
the outbound feed (a ``fallback`` notice, addressed like a message, that is not one to
send). On Kafka the same notice is a record of ``consent.outbound``
(tests/integration/test_outbound_relay.py reads it there).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e.test_outbound_messages import ALICE, ALICE_E164, ask
from tests.support.gateways import twilio_status, unix, wa_messages, wa_payload, wa_status
from tests.support.webhooks import configure, history, outbound, post_twilio, post_whatsapp


@pytest.fixture
def gw(api: Api) -> Api:
    configure(api, "whatsapp", "twilio")
    return api


def deliveries(api: Api, request_id: str) -> list[dict[str, Any]]:
    response = api.client.get(
        f"/v1/optin-requests/{request_id}/deliveries", headers=api.headers("ingest")
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


def test_meta_131026_shows_in_deliveries_and_the_feed_with_sms_as_the_next_step(
    gw: Api,
) -> None:
    request = ask(gw)
    sent = wa_status(
        "wamid.req", "sent", ALICE, timestamp=unix() - 5, callback=request["outbound_id"]
    )
    failed = wa_status(
        "wamid.req", "failed", ALICE, error_code=131026, callback=request["outbound_id"]
    )
    for status in (sent, failed, failed):  # the failure redelivered: recorded once
        response = post_whatsapp(gw, wa_payload(wa_messages(statuses=[status])))
        assert response.status_code == 200, response.text

    found = deliveries(gw, request["request_id"])
    assert [(d["status"], d["error_code"], d["fallback"]) for d in found] == [
        ("sent", None, None),
        ("failed", "131026", "sms"),
    ]
    assert found[1]["gateway"] == "whatsapp"
    assert found[1]["gateway_message_id"] == "wamid.req"

    [_request, notice] = outbound(gw)
    assert notice["kind"] == "fallback"
    assert notice["category"] == "notice"  # nothing to send on WhatsApp
    assert (notice["to"], notice["channel"]) == (ALICE_E164, "whatsapp")
    assert notice["request_id"] == request["request_id"]
    assert notice["fallback"] == "sms"
    assert notice["failure"] == {
        "gateway": "whatsapp",
        "status": "failed",
        "error_code": "131026",
        "gateway_message_id": "wamid.req",
    }
    undeliverable = history(gw, ALICE_E164)[-1]
    assert undeliverable["type"] == "opt_in_request_undeliverable"
    assert notice["event_id"] == undeliverable["event_id"]


def test_twilio_63003_on_whatsapp_makes_the_request_undeliverable_with_a_fallback(
    gw: Api,
) -> None:
    request = ask(gw)
    query = f"outbound_id={request['outbound_id']}"
    status = twilio_status("SMreq", "failed", f"whatsapp:{ALICE_E164}", error_code="63003")
    response = post_twilio(gw, status, query=query)
    assert response.status_code == 200, response.text

    events = history(gw, ALICE_E164)
    assert [e["type"] for e in events] == ["opt_in_requested", "opt_in_request_undeliverable"]
    assert events[1]["evidence"]["gateway_error"] == "63003"
    [failed] = deliveries(gw, request["request_id"])
    assert (failed["status"], failed["error_code"], failed["fallback"]) == (
        "failed",
        "63003",
        "sms",
    )
    assert outbound(gw)[-1]["kind"] == "fallback"


def test_a_failure_of_another_kind_suggests_nothing(gw: Api) -> None:
    request = ask(gw)
    # 131049: Meta chose not to deliver (a per-user marketing limit), not "not on WhatsApp".
    failed = wa_status(
        "wamid.req", "failed", ALICE, error_code=131049, callback=request["outbound_id"]
    )
    response = post_whatsapp(gw, wa_payload(wa_messages(statuses=[failed])))
    assert response.status_code == 200, response.text
    assert deliveries(gw, request["request_id"]) == []
    assert [m["kind"] for m in outbound(gw)] == ["opt_in_request"]
    assert [e["type"] for e in history(gw, ALICE_E164)] == ["opt_in_requested"]
