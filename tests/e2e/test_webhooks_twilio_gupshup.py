"""Twilio and Gupshup webhooks end to end, on both storage backends."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Api
from tests.support.gateways import (
    gupshup_message,
    gupshup_user_event,
    twilio_inbound,
    twilio_sign,
    twilio_status,
)
from tests.support.webhooks import (
    AUTH_TOKEN,
    GUPSHUP_APP,
    GUPSHUP_TOKEN,
    configure,
    history,
    log_size,
    outbound,
    post_gupshup,
    post_twilio,
    statuses,
)

CAROL = "+14155550100"


@pytest.fixture
def gw(api: Api) -> Api:
    configure(api, "twilio", "gupshup")
    return api


def test_a_signed_twilio_sms_stop_is_recorded_and_answered_with_empty_twiml(gw: Api) -> None:
    response = post_twilio(gw, twilio_inbound("SM1", CAROL, "Stop please"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Response></Response>" in response.text
    [event] = history(gw, CAROL, "sms")
    assert (event["type"], event["all_purposes"], event["evidence"]["match"]) == (
        "opted_out",
        True,
        "phrase",
    )
    assert event["source"] == {"kind": "message", "id": "SM1"}


def test_twilio_signature_is_checked_against_the_configured_public_url(gw: Api) -> None:
    params = twilio_inbound("SM1", CAROL, "STOP")
    before = log_size(gw)
    # Signed for the URL the API sees locally instead of the public one Twilio called.
    local = twilio_sign(AUTH_TOKEN, "http://testserver/v1/webhooks/twilio/acme", params)
    for signature in (local, "", "bm90IGEgc2lnbmF0dXJl"):
        response = gw.client.post(
            "/v1/webhooks/twilio/acme",
            data=dict(params),
            headers={"X-Twilio-Signature": signature},
        )
        assert response.status_code == 401
        assert response.json()["error"]["field"] == "X-Twilio-Signature"
    forged = post_twilio(gw, params, token="another-accounts-token")
    assert forged.status_code == 401
    assert log_size(gw) == before


def test_twilio_whatsapp_messages_are_on_the_whatsapp_channel(gw: Api) -> None:
    post_twilio(gw, twilio_inbound("SM2", f"whatsapp:{CAROL}", "START", profile_name="Carol"))
    [event] = history(gw, CAROL, "whatsapp")
    assert event["type"] == "opted_in"
    assert event["disclosures"]["profile_name"] == "Carol"
    assert history(gw, CAROL, "sms") == []


def test_twilio_opt_out_type_is_honoured_even_for_a_word_our_rules_do_not_know(gw: Api) -> None:
    # Advanced Opt-Out recognised a custom keyword; the ledger's own rules would not.
    post_twilio(gw, twilio_inbound("SM3", CAROL, "BASTA", opt_out_type="STOP"))
    assert statuses(gw, CAROL, "sms") == {"*": "opted_out"}
    post_twilio(gw, twilio_inbound("SM4", CAROL, "VUELVO", opt_out_type="START"))
    assert statuses(gw, CAROL, "sms")["marketing"] == "opted_in"
    post_twilio(gw, twilio_inbound("SM5", CAROL, "INFO", opt_out_type="HELP"))
    assert len(history(gw, CAROL, "sms")) == 2


def test_error_21610_records_an_opt_out_only_when_the_ledger_missed_it(gw: Api) -> None:
    failed = post_twilio(gw, twilio_status("SM9", "failed", CAROL, error_code="21610"))
    assert failed.status_code == 200
    [event] = history(gw, CAROL, "sms")
    assert (event["type"], event["evidence"]["gateway_error"]) == ("opted_out", "21610")
    post_twilio(gw, twilio_status("SM10", "undelivered", CAROL, error_code="21610"))
    assert len(history(gw, CAROL, "sms")) == 1  # already in force: nothing new


def test_a_twilio_redelivery_records_nothing_twice(gw: Api) -> None:
    params = twilio_inbound("SM1", CAROL, "STOP")
    post_twilio(gw, params)
    post_twilio(gw, params)
    assert len(history(gw, CAROL, "sms")) == 1


def test_gupshup_user_events_opt_in_and_out(gw: Api) -> None:
    now_ms = int(time.time() * 1000)
    post_gupshup(gw, gupshup_user_event(GUPSHUP_APP, "14155550100", "opted-in", now_ms - 2000))
    assert statuses(gw, CAROL) == {"marketing": "opted_in"}
    out = post_gupshup(gw, gupshup_user_event(GUPSHUP_APP, "14155550100", "opted-out", now_ms))
    assert (out.status_code, out.content) == (200, b"")  # Gupshup wants an empty 2xx
    assert statuses(gw, CAROL) == {"*": "opted_out", "marketing": "opted_out"}
    post_gupshup(gw, gupshup_user_event(GUPSHUP_APP, "14155550100", "opted-out", now_ms))
    assert len(history(gw, CAROL)) == 2  # the redelivery is a no-op


def test_gupshup_inbound_messages_go_through_the_keyword_rules(gw: Api) -> None:
    now_ms = int(time.time() * 1000)
    message = gupshup_message(
        GUPSHUP_APP,
        "ABEGkYaYVSEEAhAL3SLAWwHKeKrt6s3FKB0c",
        "14155550100",
        "text",
        {"text": "stop"},
        now_ms,
    )
    assert post_gupshup(gw, message).status_code == 200
    [event] = history(gw, CAROL)
    assert (event["type"], event["source"]["id"]) == (
        "opted_out",
        "ABEGkYaYVSEEAhAL3SLAWwHKeKrt6s3FKB0c",
    )


def test_gupshup_refuses_a_wrong_token_and_ignores_another_app(gw: Api) -> None:
    event = gupshup_user_event(GUPSHUP_APP, "14155550100", "opted-out", int(time.time() * 1000))
    before = log_size(gw)
    assert post_gupshup(gw, event, token="nope").status_code == 401
    no_token = gw.client.post("/v1/webhooks/gupshup/acme", json=event)
    assert no_token.status_code == 401
    other = gupshup_user_event("OtherApp", "14155550100", "opted-out", int(time.time() * 1000))
    assert post_gupshup(gw, other).status_code == 200
    assert log_size(gw) == before
    by_query = gw.client.post(f"/v1/webhooks/gupshup/acme?token={GUPSHUP_TOKEN}", json=event)
    assert by_query.status_code == 200
    assert len(history(gw, CAROL)) == 1


def test_gupshup_malformed_bodies_are_refused_and_nothing_is_stored(gw: Api) -> None:
    before = log_size(gw)
    headers = {"Authorization": f"Bearer {GUPSHUP_TOKEN}"}
    garbage = gw.client.post("/v1/webhooks/gupshup/acme", content=b"{", headers=headers)
    assert garbage.status_code == 400
    event = gupshup_user_event(GUPSHUP_APP, "1415", "opted-out", int(time.time() * 1000))
    bad_phone = post_gupshup(gw, event)
    assert (bad_phone.status_code, bad_phone.json()["error"]["field"]) == (422, "payload.phone")
    assert log_size(gw) == before


def test_a_twilio_status_callback_names_our_confirmation_in_its_url(gw: Api) -> None:
    post_twilio(gw, twilio_inbound("SM1", CAROL, "STOP"))
    [confirmation] = outbound(gw)
    assert (confirmation["kind"], confirmation["to"]) == ("confirmation", CAROL)
    # The sender set StatusCallback=<public url>?outbound_id=<id>; Twilio signs that URL.
    query = f"outbound_id={confirmation['id']}"
    for status in ("sent", "delivered"):
        response = post_twilio(gw, twilio_status("SMout", status, CAROL), query=query)
        assert response.status_code == 200, response.text
    _stop, sent = history(gw, CAROL, "sms")
    assert (sent["type"], sent["source"]["id"]) == ("confirmation_sent", confirmation["id"])
    assert sent["evidence"]["gateway"] == "twilio"
