"""A gateway that reports a number gone (Twilio 30005, 30006) invalidates the consent
on record (issue 20, part 1); on both backends."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Api
from tests.support.gateways import twilio_inbound, twilio_status
from tests.support.webhooks import configure, history, post_twilio, statuses

CAROL = "+14155550100"


@pytest.fixture
def gw(api: Api) -> Api:
    configure(api, "twilio")
    return api


def test_twilio_30005_invalidates_every_purpose_once(gw: Api) -> None:
    # Given Carol opted in by SMS keyword
    post_twilio(gw, twilio_inbound("SM1", CAROL, "START"))
    assert statuses(gw, CAROL, "sms")["marketing"] == "opted_in"
    # When Twilio reports a message to her undelivered: unknown destination handset
    response = post_twilio(gw, twilio_status("SM2", "undelivered", CAROL, error_code="30005"))
    assert response.status_code == 200
    # Then the consent is invalidated, with the gateway's answer as the evidence
    last = history(gw, CAROL, "sms")[-1]
    assert (last["type"], last["reason"]) == ("consent_invalidated", "number_disconnected")
    assert last["number_check"]["data_source"] == "twilio"
    assert last["number_check"]["result"] == "30005"
    assert last["evidence"]["gateway_message_id"] == "SM2"
    assert statuses(gw, CAROL, "sms") == {"*": "invalidated", "marketing": "invalidated"}
    # ... and a second report of the same kind (30006, a landline) records nothing new
    post_twilio(gw, twilio_status("SM3", "undelivered", CAROL, error_code="30006"))
    assert len(history(gw, CAROL, "sms")) == 2


def test_a_temporary_failure_invalidates_nothing(gw: Api) -> None:
    post_twilio(gw, twilio_inbound("SM1", CAROL, "START"))
    post_twilio(gw, twilio_status("SM2", "undelivered", CAROL, error_code="30003"))
    assert statuses(gw, CAROL, "sms")["marketing"] == "opted_in"
