"""Gateway signatures: a callback is genuine only if signed exactly as the gateway signs."""

from __future__ import annotations

import pytest

from api.gateways import gupshup, twilio, whatsapp
from tests.support.gateways import wa_body, wa_payload, wa_sign

# twilio-python's own test vectors (tests/unit/test_request_validator.py): auth token
# "12345", this URL and these parameters sign to these values.
TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]


def test_twilio_signature_is_computed_as_twilios_sdk_computes_it() -> None:
    assert twilio.compute_signature(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS) == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    assert twilio.signature_valid(
        TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_twilio_repeated_parameters_are_signed_value_by_sorted_value() -> None:
    params = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert (
        twilio.compute_signature(TWILIO_TOKEN, TWILIO_URL, params) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        # the URL has a port Twilio did not sign
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
        # Twilio signed the default port the URL does not show
        ("https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ],
)
def test_twilio_signature_holds_with_and_without_the_port(url: str, signature: str) -> None:
    assert twilio.signature_valid(TWILIO_TOKEN, url, TWILIO_PARAMS, signature)


def test_twilio_signature_fails_for_another_token_url_parameter_or_none() -> None:
    good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert not twilio.signature_valid("54321", TWILIO_URL, TWILIO_PARAMS, good)
    assert not twilio.signature_valid(TWILIO_TOKEN, TWILIO_URL + "&x=1", TWILIO_PARAMS, good)
    tampered = [*TWILIO_PARAMS[:-1], ("Caller", "+14158675300")]
    assert not twilio.signature_valid(TWILIO_TOKEN, TWILIO_URL, tampered, good)
    assert not twilio.signature_valid(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, None)


def test_twilio_signs_the_configured_public_url_with_the_request_query() -> None:
    public = "https://ledger.example.com/v1/webhooks/twilio/acme"
    assert twilio.signed_url(public, "") == public
    assert twilio.signed_url(public, "outbound_id=x") == f"{public}?outbound_id=x"
    assert twilio.signed_url(f"{public}?a=1", "b=2") == f"{public}?a=1&b=2"


def test_whatsapp_signature_is_the_hmac_of_the_raw_body() -> None:
    body = wa_body(wa_payload())
    header = wa_sign("app-secret", body)
    assert whatsapp.signature_valid("app-secret", body, header)
    assert not whatsapp.signature_valid("other-secret", body, header)
    assert not whatsapp.signature_valid("app-secret", body + b" ", header)
    assert not whatsapp.signature_valid("app-secret", body, header.removeprefix("sha256="))
    assert not whatsapp.signature_valid("app-secret", body, None)


def test_gupshup_token_from_the_authorization_header_or_the_query() -> None:
    assert gupshup.token_valid("tok", "Bearer tok", None)
    assert gupshup.token_valid("tok", None, "tok")
    assert not gupshup.token_valid("tok", "Bearer nope", "tok")  # a wrong header wins
    assert not gupshup.token_valid("tok", None, None)
