"""Webhooks: every forged, damaged or replayed request is refused and stores nothing.

For each gateway: missing, wrong, truncated, wrong-algorithm and non-ASCII signatures,
and a genuine signature replayed over an altered body, are answered ``401`` (never a
500) and leave the ledger's log as it was; the same request correctly signed is then
recorded, so the refusals are not an accident of the payload. Signatures are compared
with ``hmac.compare_digest``.

Gupshup does not sign bodies (a shared token in ``Authorization`` or ``?token=``): a
replay with the genuine token and an altered body cannot be told apart, so it is not
among Gupshup's cases (docs/notes/access-security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.e2e.conftest import Api
from tests.support.gateways import (
    gupshup_user_event,
    twilio_inbound,
    twilio_sign,
    wa_body,
    wa_messages,
    wa_payload,
    wa_sign,
    wa_text,
)
from tests.support.webhooks import (
    APP_SECRET,
    AUTH_TOKEN,
    GUPSHUP_APP,
    GUPSHUP_TOKEN,
    TWILIO_URL,
    VERIFY_TOKEN,
    configure,
    history,
    log_size,
)

ALICE = "14155550100"
ALICE_E164 = "+" + ALICE


@pytest.fixture
def gw(api: Api) -> Api:
    configure(api)
    return api


def refused_and_nothing_stored(api: Api, responses: dict[str, httpx.Response]) -> None:
    for case, response in responses.items():
        assert response.status_code == 401, (case, response.status_code, response.text)
        assert response.json()["error"]["code"] in ("invalid_signature", "invalid_token"), case
    assert history(api, ALICE_E164) == []
    assert history(api, ALICE_E164, "sms") == []


# --------------------------------------------------------------------------- WhatsApp
def wa_post(api: Api, body: bytes, signature: str | bytes | None) -> httpx.Response:
    headers: dict[str, str | bytes] = {"content-type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return api.client.post("/v1/webhooks/whatsapp/acme", content=body, headers=headers)


def test_whatsapp_refuses_every_bad_signature(gw: Api) -> None:
    body = wa_body(wa_payload(wa_messages(wa_text("wamid.1", ALICE, "START"))))
    genuine = wa_sign(APP_SECRET, body)
    altered = body.replace(b"START", b"STOP ")
    sha1 = "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    sha512 = "sha512=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha512).hexdigest()
    before = log_size(gw)
    refused_and_nothing_stored(
        gw,
        {
            "missing": wa_post(gw, body, None),
            "empty": wa_post(gw, body, ""),
            "wrong secret": wa_post(gw, body, wa_sign("guessed", body)),
            "truncated": wa_post(gw, body, genuine[:-8]),
            "prefix only": wa_post(gw, body, "sha256="),
            "bare digest": wa_post(gw, body, genuine.removeprefix("sha256=")),
            "sha1 (X-Hub-Signature)": wa_post(gw, body, sha1),
            "sha512": wa_post(gw, body, sha512),
            "plain sha256, no key": wa_post(gw, body, "sha256=" + hashlib.sha256(body).hexdigest()),
            "non-ASCII": wa_post(gw, body, ("sha256=" + "é" * 64).encode("latin-1")),
            "replayed, altered body": wa_post(gw, altered, genuine),
        },
    )
    assert log_size(gw) == before
    assert wa_post(gw, body, genuine).status_code == 200
    assert [e["type"] for e in history(gw, ALICE_E164)] == ["opted_in"]


# ----------------------------------------------------------------------------- Twilio
def twilio_post(api: Api, params: list[tuple[str, str]], signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return api.client.post("/v1/webhooks/twilio/acme", content=urlencode(params), headers=headers)


def test_twilio_refuses_every_bad_signature(gw: Api) -> None:
    params = twilio_inbound("SM1", ALICE_E164, "START")
    genuine = twilio_sign(AUTH_TOKEN, TWILIO_URL, params)
    data = TWILIO_URL + "".join(k + v for k, v in sorted(params))
    sha256 = base64.b64encode(
        hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha256).digest()
    ).decode()
    altered = [(k, "STOP" if k == "Body" else v) for k, v in params]
    other_url = twilio_sign(AUTH_TOKEN, "https://evil.example.com/v1/webhooks/twilio/acme", params)
    before = log_size(gw)
    refused_and_nothing_stored(
        gw,
        {
            "missing": twilio_post(gw, params, None),
            "empty": twilio_post(gw, params, ""),
            "wrong token": twilio_post(gw, params, twilio_sign("guessed", TWILIO_URL, params)),
            "truncated": twilio_post(gw, params, genuine[:-4]),
            "hmac-sha256": twilio_post(gw, params, sha256),
            "signed for another URL": twilio_post(gw, params, other_url),
            "non-ASCII": twilio_post(gw, params, ("é" * 28).encode("latin-1")),
            "replayed, altered body": twilio_post(gw, altered, genuine),
            "replayed, a field added": twilio_post(gw, [*params, ("OptOutType", "STOP")], genuine),
            "not a form": gw.client.post(
                "/v1/webhooks/twilio/acme",
                content=b"%zz&&=",
                headers={"X-Twilio-Signature": genuine},
            ),
        },
    )
    assert log_size(gw) == before
    assert twilio_post(gw, params, genuine).status_code == 200
    assert [e["type"] for e in history(gw, ALICE_E164, "sms")] == ["opted_in"]


# ---------------------------------------------------------------------------- Gupshup
def gupshup_post(
    api: Api, event: dict[str, Any], authorization: str | bytes | None, query: str = ""
) -> httpx.Response:
    headers: dict[str, str | bytes] = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    return api.client.post(f"/v1/webhooks/gupshup/acme{query}", json=event, headers=headers)


def test_gupshup_refuses_every_bad_token(gw: Api) -> None:
    event = gupshup_user_event(GUPSHUP_APP, ALICE, "opted-in", int(time.time() * 1000))
    before = log_size(gw)
    refused_and_nothing_stored(
        gw,
        {
            "missing": gupshup_post(gw, event, None),
            "empty": gupshup_post(gw, event, ""),
            "bearer, nothing": gupshup_post(gw, event, "Bearer "),
            "wrong": gupshup_post(gw, event, "Bearer guessed"),
            "truncated": gupshup_post(gw, event, f"Bearer {GUPSHUP_TOKEN[:-3]}"),
            "longer": gupshup_post(gw, event, f"Bearer {GUPSHUP_TOKEN}x"),
            "other scheme": gupshup_post(gw, event, f"Basic {GUPSHUP_TOKEN}"),
            "non-ASCII": gupshup_post(gw, event, ("Bearer " + "é" * 10).encode("latin-1")),
            "wrong query token": gupshup_post(gw, event, None, "?token=guessed"),
            "truncated query token": gupshup_post(gw, event, None, f"?token={GUPSHUP_TOKEN[:5]}"),
        },
    )
    assert log_size(gw) == before
    assert gupshup_post(gw, event, f"Bearer {GUPSHUP_TOKEN}").status_code == 200
    assert [e["type"] for e in history(gw, ALICE_E164)] == ["opted_in"]


# ---------------------------------------------------------------- constant-time compare
@pytest.mark.parametrize(
    ("gateway", "send"),
    [
        ("whatsapp", lambda api: wa_post(api, b"{}", "sha256=" + "0" * 64)),
        ("twilio", lambda api: twilio_post(api, [("Body", "x")], "A" * 28)),
        ("gupshup", lambda api: gupshup_post(api, {}, "Bearer guessed")),
    ],
)
def test_signatures_are_compared_in_constant_time(
    gw: Api, monkeypatch: pytest.MonkeyPatch, gateway: str, send: Callable[[Api], httpx.Response]
) -> None:
    seen: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert send(gw).status_code == 401
    assert seen, f"{gateway}: the signature was not compared with hmac.compare_digest"


def test_the_whatsapp_handshake_refuses_every_bad_verify_token(gw: Api) -> None:
    def handshake(**params: str) -> httpx.Response:
        return gw.client.get("/v1/webhooks/whatsapp/acme", params=params)

    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
    for case, params in {
        "missing": {"hub.mode": "subscribe", "hub.challenge": "42"},
        "empty": {**good, "hub.verify_token": ""},
        "wrong": {**good, "hub.verify_token": "guessed"},
        "truncated": {**good, "hub.verify_token": VERIFY_TOKEN[:-2]},
        "longer": {**good, "hub.verify_token": VERIFY_TOKEN + "x"},
        "non-ASCII": {**good, "hub.verify_token": "é" * 8},
        "wrong mode": {**good, "hub.mode": "unsubscribe"},
    }.items():
        response = handshake(**params)
        assert response.status_code == 403, case
        assert "42" not in response.text, case  # the challenge is not echoed
    assert (handshake(**good).status_code, handshake(**good).text) == (200, "42")
