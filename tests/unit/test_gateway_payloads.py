"""Each gateway's documented payloads become the right ledger commands, or a precise 422."""

from __future__ import annotations

import pytest

from api.gateways import gupshup, twilio, whatsapp
from ledger.application.signals.intake import Ignored
from ledger.domain.commands import ReceiveMessage
from ledger.domain.errors import InvalidInput
from ledger.domain.outbound.ids import OutboundKind, OutboundRef
from ledger.domain.signals.reports import (
    DeliveryReport,
    DeliveryStatus,
    ProviderSignal,
    SignalAction,
)
from ledger.domain.subjects import subject_id
from tests.support.gateways import (
    PHONE_NUMBER_ID,
    gupshup_message,
    gupshup_user_event,
    twilio_inbound,
    twilio_status,
    unix,
    wa_button,
    wa_interactive,
    wa_messages,
    wa_payload,
    wa_preferences,
    wa_status,
    wa_text,
)

ALICE = "16315551181"  # as WhatsApp writes numbers: no '+'
E164 = "+16315551181"


def parse(payload: dict[str, object]) -> list[object]:
    return list(whatsapp.parse("acme", payload, PHONE_NUMBER_ID))


def test_every_message_of_every_change_of_every_entry_is_read() -> None:
    payload = wa_payload(
        wa_messages(wa_text("wamid.1", ALICE, "STOP"), wa_text("wamid.2", ALICE, "hi")),
        wa_messages(wa_text("wamid.3", ALICE, "START")),
        wa_preferences(ALICE, "stop"),
        entries=2,
    )
    items = parse(payload)
    assert [type(i).__name__ for i in items] == [
        "ReceiveMessage",
        "ReceiveMessage",
        "ProviderSignal",
        "ReceiveMessage",
    ]
    assert {i.message_id for i in items if isinstance(i, ReceiveMessage)} == {
        "wamid.1",
        "wamid.2",
        "wamid.3",
    }


def test_a_text_message_carries_sender_time_and_profile_name() -> None:
    stamp = unix(60)
    [item] = parse(
        wa_payload(
            wa_messages(wa_text("wamid.1", ALICE, "Stop please", stamp), profile=(ALICE, "Alice"))
        )
    )
    assert isinstance(item, ReceiveMessage)
    assert (item.address, item.text, item.profile_name) == (E164, "Stop please", "Alice")
    assert (item.channel, item.source_kind) == ("whatsapp", "message")
    assert int(item.occurred_at.timestamp()) == stamp


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
def test_interactive_replies_carry_the_payload_id_and_the_title(kind: str) -> None:
    [item] = parse(
        wa_payload(wa_messages(wa_interactive("wamid.1", ALICE, kind, "yes-btn", "Yes")))
    )
    assert isinstance(item, ReceiveMessage)
    assert (item.button_payload, item.text) == ("yes-btn", "Yes")


def test_a_template_quick_reply_button_carries_payload_and_text() -> None:
    [item] = parse(
        wa_payload(wa_messages(wa_button("wamid.1", ALICE, "promo-stop", "Stop promotions")))
    )
    assert isinstance(item, ReceiveMessage)
    assert (item.button_payload, item.text) == ("promo-stop", "Stop promotions")


def test_status_131050_is_a_marketing_opt_out_recorded_only_when_not_in_force() -> None:
    [item] = parse(
        wa_payload(wa_messages(statuses=[wa_status("wamid.9", "failed", ALICE, error_code=131050)]))
    )
    assert isinstance(item, ProviderSignal)
    assert (item.action, item.purposes, item.unless_in_force) == (
        SignalAction.OPTED_OUT,
        ("marketing",),
        True,
    )
    assert (item.source.kind, item.source.id) == ("whatsapp_status", "wamid.9:failed")
    assert (item.evidence.method.value, item.evidence.gateway_error) == (
        "provider_signal",
        "131050",
    )


def test_status_131026_of_an_opt_in_request_makes_it_undeliverable() -> None:
    request = OutboundRef(
        OutboundKind.OPT_IN_REQUEST, subject_id("acme", "whatsapp", E164), subject_id("x", "y", "z")
    )
    [item] = parse(
        wa_payload(
            wa_messages(
                statuses=[
                    wa_status("wamid.9", "failed", ALICE, error_code=131026, callback=request.id)
                ]
            )
        )
    )
    assert isinstance(item, ProviderSignal)
    assert (item.action, item.refers_to) == (SignalAction.UNDELIVERABLE, request.ref)


def test_statuses_that_cannot_be_linked_or_matter_not_are_ignored() -> None:
    items = parse(
        wa_payload(
            wa_messages(
                statuses=[
                    wa_status("wamid.1", "delivered", ALICE),  # not one of ours
                    wa_status("wamid.2", "failed", ALICE, error_code=131026),  # no callback
                    wa_status("wamid.3", "failed", ALICE, error_code=131047),
                ]
            )
        )
    )
    assert all(isinstance(i, Ignored) for i in items)


def test_sent_delivered_read_of_our_message_is_a_delivery_report() -> None:
    ref = OutboundRef(
        OutboundKind.CONFIRMATION, subject_id("acme", "whatsapp", E164), subject_id("a", "b", "c")
    )
    items = parse(
        wa_payload(
            wa_messages(
                statuses=[
                    wa_status("wamid.1", s, ALICE, callback=ref.id)
                    for s in ("sent", "delivered", "read")
                ]
            )
        )
    )
    assert [i.status for i in items if isinstance(i, DeliveryReport)] == list(DeliveryStatus)
    assert all(isinstance(i, DeliveryReport) and i.outbound == ref for i in items)


def test_user_preferences_stop_and_resume_concern_marketing_only() -> None:
    stop, resume = parse(
        wa_payload(
            wa_preferences(ALICE, "stop", 1731705721), wa_preferences(ALICE, "resume", 1731705722)
        )
    )
    assert isinstance(stop, ProviderSignal)
    assert isinstance(resume, ProviderSignal)
    assert (stop.action, resume.action) == (SignalAction.OPTED_OUT, SignalAction.OPTED_IN)
    assert stop.purposes == resume.purposes == ("marketing",)
    assert stop.source.id == f"{ALICE}:marketing_messages:stop:1731705721"


def test_changes_for_another_business_number_and_other_types_are_ignored() -> None:
    items = parse(
        wa_payload(
            wa_messages(wa_text("wamid.1", ALICE, "STOP"), phone_number_id="999"),
            wa_messages(
                {
                    "from": ALICE,
                    "id": "wamid.2",
                    "timestamp": str(unix()),
                    "type": "image",
                    "image": {"id": "1"},
                }
            ),
        )
    )
    assert [i.reason for i in items if isinstance(i, Ignored)] == [
        "other_phone_number",
        "message:image",
    ]


@pytest.mark.parametrize(
    ("mangle", "field"),
    [
        (lambda p: p.pop("entry"), "entry"),
        (
            lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].pop("from"),
            "entry[0].changes[0].value.messages[0].from",
        ),
        (
            lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].update({"from": "12"}),
            "entry[0].changes[0].value.messages[0].from",
        ),
        (
            lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0].update(
                {"timestamp": "soon"}
            ),
            "entry[0].changes[0].value.messages[0].timestamp",
        ),
        (
            lambda p: p["entry"][0]["changes"][0]["value"]["messages"][0]["text"].pop("body"),
            "entry[0].changes[0].value.messages[0].text.body",
        ),
        (lambda p: p["entry"][0]["changes"][0].update({"value": []}), "entry[0].changes[0].value"),
    ],
)
def test_a_malformed_payload_names_the_field(mangle: object, field: str) -> None:
    payload = wa_payload(wa_messages(wa_text("wamid.1", ALICE, "STOP")))
    mangle(payload)  # type: ignore[operator]
    with pytest.raises(InvalidInput) as refused:
        parse(payload)
    assert refused.value.field == field


def test_twilio_inbound_sms_and_whatsapp_button() -> None:
    sms = twilio.parse("acme", twilio_inbound("SM1", "+14155550100", "stop please"), {})
    assert isinstance(sms, ReceiveMessage)
    assert (sms.channel, sms.address, sms.text, sms.message_id) == (
        "sms",
        "+14155550100",
        "stop please",
        "SM1",
    )
    wa = twilio.parse(
        "acme", twilio_inbound("SM2", "whatsapp:+14155550100", "Yes", button=("Yes", "yes-btn")), {}
    )
    assert isinstance(wa, ReceiveMessage)
    assert (wa.channel, wa.button_payload, wa.text) == ("whatsapp", "yes-btn", "Yes")


def test_twilio_opt_out_type_is_honoured_whatever_the_keywords_say() -> None:
    stop = twilio.parse(
        "acme", twilio_inbound("SM1", "+14155550100", "arrête", opt_out_type="STOP"), {}
    )
    assert isinstance(stop, ProviderSignal)
    assert (stop.action, stop.source.kind, stop.source.id) == (
        SignalAction.OPTED_OUT,
        "message",
        "SM1",
    )
    start = twilio.parse(
        "acme", twilio_inbound("SM2", "+14155550100", "unstop", opt_out_type="START"), {}
    )
    assert isinstance(start, ProviderSignal)
    assert start.action is SignalAction.OPTED_IN
    help_ = twilio.parse(
        "acme", twilio_inbound("SM3", "+14155550100", "info", opt_out_type="HELP"), {}
    )
    assert isinstance(help_, Ignored)  # Twilio answered it


def test_twilio_error_21610_is_evidence_of_an_opt_out_in_force() -> None:
    item = twilio.parse(
        "acme", twilio_status("SM9", "failed", "+14155550100", error_code="21610"), {}
    )
    assert isinstance(item, ProviderSignal)
    assert (item.action, item.purposes, item.unless_in_force) == (SignalAction.OPTED_OUT, (), True)
    assert (item.channel, item.evidence.gateway_error) == ("sms", "21610")


def test_twilio_status_of_our_message_names_it_by_the_query_parameter() -> None:
    ref = OutboundRef(
        OutboundKind.CONFIRMATION,
        subject_id("acme", "sms", "+14155550100"),
        subject_id("a", "b", "c"),
    )
    item = twilio.parse(
        "acme", twilio_status("SM9", "delivered", "+14155550100"), {"outbound_id": ref.id}
    )
    assert isinstance(item, DeliveryReport)
    assert item.outbound == ref


def test_gupshup_user_events_and_messages() -> None:
    out = gupshup.parse(
        "acme", gupshup_user_event("DemoApp", "918298765214", "opted-out", 1584541505908), "DemoApp"
    )
    assert isinstance(out, ProviderSignal)
    assert (out.action, out.address, out.purposes) == (SignalAction.OPTED_OUT, "+918298765214", ())
    text = gupshup.parse(
        "acme",
        gupshup_message(
            "DemoApp",
            "ABEGkYaYVSEEAhAL3SLAWwHKeKrt6s3FKB0c",
            "918298765214",
            "text",
            {"text": "STOP"},
            1580227766370,
        ),
        "DemoApp",
    )
    assert isinstance(text, ReceiveMessage)
    assert (text.text, text.message_id, text.profile_name) == (
        "STOP",
        "ABEGkYaYVSEEAhAL3SLAWwHKeKrt6s3FKB0c",
        "Andy",
    )
    button = gupshup.parse(
        "acme",
        gupshup_message(
            "DemoApp",
            "m2",
            "918298765214",
            "button_reply",
            {"title": "First", "id": "qr1", "reply": "First 1"},
            1580228523976,
        ),
        "DemoApp",
    )
    assert isinstance(button, ReceiveMessage)
    assert button.button_payload == "qr1"
    sandbox = gupshup.parse(
        "acme",
        gupshup_user_event("DemoApp", "918298765214", "sandbox-start", 1580227393386),
        "DemoApp",
    )
    other_app = gupshup.parse(
        "acme", gupshup_user_event("Other", "918298765214", "opted-in", 1), "DemoApp"
    )
    assert isinstance(sandbox, Ignored)
    assert isinstance(other_app, Ignored)
