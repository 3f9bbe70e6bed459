"""WhatsApp Cloud API webhooks end to end, on both storage backends.

Payloads follow Meta's documented shapes (tests/support/gateways.py) and are signed as
Meta signs them.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api
from tests.support.gateways import (
    unix,
    wa_body,
    wa_button,
    wa_interactive,
    wa_messages,
    wa_payload,
    wa_preferences,
    wa_sign,
    wa_status,
    wa_text,
)
from tests.support.webhooks import (
    APP_SECRET,
    VERIFY_TOKEN,
    configure,
    history,
    log_size,
    post_whatsapp,
    statuses,
)

ALICE, ALICE_E164 = "16315551181", "+16315551181"
BOB, BOB_E164 = "16315551182", "+16315551182"


@pytest.fixture
def wa(api: Api) -> Api:
    configure(api, "whatsapp")
    return api


def test_the_subscription_handshake_echoes_the_challenge_for_the_right_token(wa: Api) -> None:
    query = f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    ok = wa.client.get(f"/v1/webhooks/whatsapp/acme?{query}")
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["content-type"].startswith("text/plain")
    wrong = wa.client.get(
        "/v1/webhooks/whatsapp/acme?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["field"] == "hub.verify_token"
    unknown = wa.client.get(f"/v1/webhooks/whatsapp/globex?{query}")
    assert (unknown.status_code, unknown.json()) == (403, wrong.json())  # as a wrong token


def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(wa: Api) -> None:
    before = log_size(wa)
    body = wa_body(wa_payload(wa_messages(wa_text("wamid.1", ALICE, "STOP"))))
    unsigned = wa.client.post("/v1/webhooks/whatsapp/acme", content=body)
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "invalid_signature")
    forged = post_whatsapp(
        wa, wa_payload(wa_messages(wa_text("wamid.1", ALICE, "STOP"))), secret="guessed"
    )
    assert forged.status_code == 401
    assert log_size(wa) == before
    assert history(wa, ALICE_E164) == []


def test_an_unknown_tenant_or_an_unconfigured_gateway_is_refused_as_a_wrong_signature(
    api: Api,
) -> None:
    configure(api, "twilio")  # acme has Twilio, not WhatsApp
    payload = wa_payload(wa_messages(wa_text("wamid.1", ALICE, "STOP")))
    for tenant in ("acme", "globex", "Not A Tenant"):
        response = post_whatsapp(api, payload, tenant=tenant)
        assert response.status_code == 401, tenant
        assert response.json()["error"]["code"] == "invalid_signature"
    assert log_size(api) == 1  # only acme's Twilio configuration


def test_one_payload_with_several_entries_changes_and_messages_records_them_all(wa: Api) -> None:
    payload = wa_payload(
        wa_messages(wa_text("wamid.A1", ALICE, "STOP"), profile=(ALICE, "Alice")),
        wa_messages(wa_text("wamid.B1", BOB, "START"), wa_text("wamid.B2", BOB, "hello?")),
        wa_preferences(ALICE, "resume"),
        entries=2,
    )
    response = post_whatsapp(wa, payload)
    assert response.status_code == 200, response.text
    assert response.json() == {"recorded": 3, "duplicates": 0, "ignored": 1}
    alice = history(wa, ALICE_E164)
    assert [e["type"] for e in alice] == ["opted_out", "opted_in"]
    assert alice[0]["source"] == {"kind": "message", "id": "wamid.A1"}
    assert alice[0]["disclosures"]["profile_name"] == "Alice"
    assert alice[1]["evidence"]["method"] == "provider_signal"
    assert statuses(wa, BOB_E164) == {"marketing": "opted_in"}


def test_a_redelivered_payload_records_nothing_twice(wa: Api) -> None:
    payload = wa_payload(
        wa_messages(wa_text("wamid.1", ALICE, "STOP")), wa_preferences(BOB, "stop", 1731705721)
    )
    first = post_whatsapp(wa, payload)
    again = post_whatsapp(wa, payload)
    assert first.json() == {"recorded": 2, "duplicates": 0, "ignored": 0}
    assert again.json() == {"recorded": 0, "duplicates": 2, "ignored": 0}
    assert len(history(wa, ALICE_E164)) == len(history(wa, BOB_E164)) == 1


def test_the_same_message_through_the_webhook_and_the_inbound_api_is_recorded_once(
    wa: Api,
) -> None:
    post_whatsapp(wa, wa_payload(wa_messages(wa_text("wamid.same", ALICE, "STOP"))))
    again = wa.client.post(
        "/v1/messages/inbound",
        headers=wa.headers("ingest"),
        json={"channel": "whatsapp", "from": ALICE, "text": "STOP", "message_id": "wamid.same"},
    )
    assert again.json()["duplicate"] is True
    assert len(history(wa, ALICE_E164)) == 1


def test_a_late_older_message_never_overrides_a_newer_state(wa: Api) -> None:
    # Alice sent STOP, then START a minute later; the webhooks arrive the other way round.
    stop_at, start_at = unix(120), unix(60)
    post_whatsapp(wa, wa_payload(wa_messages(wa_text("wamid.start", ALICE, "START", start_at))))
    post_whatsapp(wa, wa_payload(wa_messages(wa_text("wamid.stop", ALICE, "STOP", stop_at))))
    events = history(wa, ALICE_E164)
    assert [e["type"] for e in events] == ["opted_in", "opted_out"]  # both kept, in arrival order
    assert statuses(wa, ALICE_E164)["marketing"] == "opted_in"


def test_buttons_map_by_the_tenants_payload_ids_or_fall_back_to_the_keywords(wa: Api) -> None:
    keywords = {
        "buttons": {
            "yes-btn": "accept",
            "promo-stop": {"action": "opt_out", "purposes": ["marketing"]},
        }
    }
    put = wa.client.put("/v1/tenants/acme/keywords", json=keywords, headers=wa.headers("admin"))
    assert put.status_code == 200, put.text
    rules_version = put.json()["version"]
    # Alice is asked, and taps the template's quick-reply button: accepted.
    request = wa.client.post(
        "/v1/optin-requests",
        headers=wa.headers("ingest"),
        json={
            "channel": "whatsapp",
            "address": ALICE_E164,
            "purposes": ["marketing", "utility"],
            "template": {"id": "welcome", "version": "2", "text": "Get offers? Tap Yes"},
            "business_name": "Acme",
        },
    )
    assert request.status_code == 201, request.text
    post_whatsapp(wa, wa_payload(wa_messages(wa_button("wamid.b1", ALICE, "yes-btn", "Sure!"))))
    # Then she taps a reply button that stops promotions only.
    post_whatsapp(
        wa,
        wa_payload(
            wa_messages(wa_interactive("wamid.b2", ALICE, "button_reply", "promo-stop", "Stop"))
        ),
    )
    # Bob picks a list row whose id is unmapped; its title "START" is a keyword.
    post_whatsapp(
        wa, wa_payload(wa_messages(wa_interactive("wamid.b3", BOB, "list_reply", "row-7", "START")))
    )
    alice = history(wa, ALICE_E164)
    assert [e["type"] for e in alice] == ["opt_in_requested", "opt_in_accepted", "opted_out"]
    accepted, stopped = alice[1], alice[2]
    assert accepted["evidence"]["method"] == "button"
    assert accepted["evidence"]["button_payload"] == "yes-btn"
    assert accepted["evidence"]["rules_version"] == rules_version
    assert (stopped["purposes"], stopped["all_purposes"]) == (["marketing"], False)
    assert statuses(wa, ALICE_E164) == {"marketing": "opted_out", "utility": "opted_in"}
    bob = history(wa, BOB_E164)
    assert (bob[0]["type"], bob[0]["evidence"]["keyword"]) == ("opted_in", "START")


def test_status_131050_opts_out_of_marketing_once(wa: Api) -> None:
    failed = [wa_status(f"wamid.m{i}", "failed", ALICE, error_code=131050) for i in (1, 2)]
    response = post_whatsapp(wa, wa_payload(wa_messages(statuses=failed)))
    assert response.json() == {"recorded": 1, "duplicates": 0, "ignored": 1}
    [event] = history(wa, ALICE_E164)
    assert (event["type"], event["purposes"], event["all_purposes"]) == (
        "opted_out",
        ["marketing"],
        False,
    )
    assert event["evidence"]["method"] == "provider_signal"
    assert event["evidence"]["gateway_error"] == "131050"
    assert event["source"] == {"kind": "whatsapp_status", "id": "wamid.m1:failed"}


def test_user_preferences_stop_and_resume_change_marketing_only(wa: Api) -> None:
    wa.client.post(
        "/v1/events",
        headers=wa.headers("ingest"),
        json={
            "events": [
                {
                    "type": "opted_in",
                    "channel": "whatsapp",
                    "address": ALICE_E164,
                    "purposes": ["marketing", "utility"],
                    "occurred_at": "2026-01-01T00:00:00Z",
                    "source": {"kind": "web_form", "id": "f1"},
                    "evidence": {"method": "web_form"},
                }
            ]
        },
    )
    post_whatsapp(wa, wa_payload(wa_preferences(ALICE, "stop", unix(30))))
    assert statuses(wa, ALICE_E164) == {"marketing": "opted_out", "utility": "opted_in"}
    post_whatsapp(wa, wa_payload(wa_preferences(ALICE, "resume", unix(10))))
    assert statuses(wa, ALICE_E164) == {"marketing": "opted_in", "utility": "opted_in"}


def test_changes_for_another_business_number_are_ignored(wa: Api) -> None:
    payload = wa_payload(wa_messages(wa_text("wamid.1", ALICE, "STOP"), phone_number_id="999"))
    response = post_whatsapp(wa, payload)
    assert response.json() == {"recorded": 0, "duplicates": 0, "ignored": 1}
    assert history(wa, ALICE_E164) == []


MALFORMED: list[tuple[bytes, int, str, str | None]] = [
    (b"{not json", 400, "malformed_json", None),
    (b"[]", 422, "invalid_input", None),
    (
        wa_body(wa_payload(wa_messages(wa_text("wamid.1", "12", "STOP")))),
        422,
        "invalid_address",
        "entry[0].changes[0].value.messages[0].from",
    ),
]


def test_a_malformed_body_is_refused_naming_the_field_and_nothing_is_stored(wa: Api) -> None:
    before = log_size(wa)
    for body, status, code, field in MALFORMED:
        response = wa.client.post(
            "/v1/webhooks/whatsapp/acme",
            content=body,
            headers={"X-Hub-Signature-256": wa_sign(APP_SECRET, body)},
        )
        assert response.status_code == status, response.text
        error = response.json()["error"]
        assert error["code"] == code
        if field is not None:
            assert error["field"] == field
    assert log_size(wa) == before


def test_a_bad_item_after_a_good_one_stores_neither(wa: Api) -> None:
    payload = wa_payload(
        wa_messages(wa_text("wamid.good", ALICE, "STOP"), wa_text("wamid.bad", BOB, "STOP"))
    )
    payload["entry"][0]["changes"][0]["value"]["messages"][1]["timestamp"] = "yesterday"
    response = post_whatsapp(wa, payload)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "entry[0].changes[0].value.messages[1].timestamp"
    assert history(wa, ALICE_E164) == []
