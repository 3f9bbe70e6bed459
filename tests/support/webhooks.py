"""Driving the webhook endpoints of a test API as the gateways would."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from tests.e2e.conftest import Api
from tests.support.gateways import PHONE_NUMBER_ID, twilio_sign, wa_body, wa_sign

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-token-for-tests"
AUTH_TOKEN = "twilio-auth-token-for-tests"
GUPSHUP_TOKEN = "gupshup-token-for-tests"
GUPSHUP_APP = "DemoApp"
# The public URL Twilio calls (a proxy in front of the API): what it signs.
TWILIO_URL = "https://ledger.example.com/v1/webhooks/twilio/acme"

GATEWAYS = {
    "whatsapp": {
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "phone_number_id": PHONE_NUMBER_ID,
    },
    "twilio": {"auth_token": AUTH_TOKEN, "webhook_url": TWILIO_URL},
    "gupshup": {"app_name": GUPSHUP_APP, "token": GUPSHUP_TOKEN},
}


def configure(api: Api, *gateways: str, tenant: str = "acme") -> None:
    for name in gateways or tuple(GATEWAYS):
        response = api.client.put(
            f"/v1/tenants/{tenant}/gateways/{name}",
            json=GATEWAYS[name],
            headers=api.headers("admin"),
        )
        assert response.status_code == 200, response.text


def post_whatsapp(
    api: Api, payload: dict[str, Any], *, tenant: str = "acme", secret: str = APP_SECRET
) -> httpx.Response:
    body = wa_body(payload)
    return api.client.post(
        f"/v1/webhooks/whatsapp/{tenant}",
        content=body,
        headers={"X-Hub-Signature-256": wa_sign(secret, body), "content-type": "application/json"},
    )


def post_twilio(
    api: Api, params: list[tuple[str, str]], *, query: str = "", token: str = AUTH_TOKEN
) -> httpx.Response:
    url = f"{TWILIO_URL}?{query}" if query else TWILIO_URL
    return api.client.post(
        f"/v1/webhooks/twilio/acme{'?' + query if query else ''}",
        content=urlencode(params),
        headers={
            "X-Twilio-Signature": twilio_sign(token, url, params),
            "content-type": "application/x-www-form-urlencoded",
        },
    )


def post_gupshup(
    api: Api, payload: dict[str, Any], *, token: str = GUPSHUP_TOKEN
) -> httpx.Response:
    return api.client.post(
        "/v1/webhooks/gupshup/acme", json=payload, headers={"Authorization": f"Bearer {token}"}
    )


def history(api: Api, address: str, channel: str = "whatsapp") -> list[dict[str, Any]]:
    response = api.client.get(
        f"/v1/subjects/{channel}/{address}/history", headers=api.headers("auditor")
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def statuses(api: Api, address: str, channel: str = "whatsapp") -> dict[str, str]:
    """Status per purpose, straight from the ledger's fold (the source of truth)."""
    ledger = api.client.app.state.services.ledger  # type: ignore[attr-defined]
    state = ledger.state_of("acme", channel, address)
    return {purpose: s.status.value for purpose, s in state.statuses().items()}


def log_size(api: Api) -> int:
    """How many notifications the ledger's log holds (every event of every kind)."""
    ledger = api.client.app.state.services.ledger  # type: ignore[attr-defined]
    return int(ledger.recorder.max_notification_id() or 0)


def outbound(api: Api, after: int = 0) -> list[dict[str, Any]]:
    response = api.client.get(f"/v1/outbound?after={after}", headers=api.headers("ingest"))
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages
