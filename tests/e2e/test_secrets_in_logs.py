"""No secret and no personal data in any log line, error answer or metric of a full run.

``serve``, ``publish``, ``consume`` and ``deliver`` run as real processes on PostgreSQL and the
broker; ``keys create``, ``keys signing-key`` and ``seal`` as the operator runs them.
The run covers the three gateways' webhooks (good and forged), tenant settings with
secrets, batch events with IP and user agent, opt-in requests, erasure, and a range of
errors (bad keys, wrong roles, invalid input, conflicts). Then every log line of every
process, every error body and ``/metrics`` are searched for the API keys, gateway
secrets, the secrets key, the signing key, the phone numbers and the message texts.
"""

from __future__ import annotations

import base64
import re
import secrets
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.gateways import (
    twilio_inbound,
    twilio_sign,
    wa_body,
    wa_messages,
    wa_payload,
    wa_sign,
    wa_text,
)
from tests.support.kafka import Broker, wait_until
from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy

PHONES = ["+14155550171", "+14155550172", "+14155550173", "+14155550174"]
TEXTS = [
    "STOP sending me the aubergine-zeppelin offers",
    "YES please, periwinkle-marmalade updates",
    "what is the quokka-saxophone about?",
]
APP_SECRET = "meta-app-secret-" + secrets.token_hex(8)
VERIFY_TOKEN = "verify-token-" + secrets.token_hex(8)
AUTH_TOKEN = "twilio-token-" + secrets.token_hex(8)
GUPSHUP_TOKEN = "gupshup-token-" + secrets.token_hex(8)
TWILIO_URL = "https://ledger.example.com/v1/webhooks/twilio/acme"
SECRETS_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
METRICS_TOKEN = "metrics-token-" + secrets.token_hex(8)
PREFERENCE_KEY = "preference-key-" + secrets.token_hex(24)
WEBHOOK_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
SESSION: dict[str, str] = {}  # what the console and the preference page handed out


@pytest.fixture
def run(tmp_path: Path, pg_url: str, broker: Broker) -> dict[str, Any]:
    kafka = broker.settings()
    env = clean_env(
        DATABASE_URL=pg_url,
        CONSENT_LEDGER_SECRETS_KEY=SECRETS_KEY,
        CONSENT_LEDGER_PREFERENCE_KEY=PREFERENCE_KEY,
        CONSENT_LEDGER_METRICS_PORT="0",
        CONSENT_LEDGER_RECONCILE_SECONDS="0.1",
        CONSENT_LEDGER_PUBLISH_POLL_SECONDS="0.2",
        CONSENT_LEDGER_READ_WAIT_SECONDS="20",
        **broker.env(kafka),
    )
    cli_output: list[str] = []

    def cli(*args: str, extra: dict[str, str] | None = None) -> str:
        done = run_cli(*args, env={**env, **(extra or {})}, cwd=tmp_path)
        cli_output.append(done.stderr)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    keys = {
        role: cli("keys", "create", "--tenant", "acme", "--roles", role)
        for role in ("ingest", "campaign", "auditor", "admin")
    }
    signing_key = tmp_path / "signing.key"
    cli("keys", "signing-key", "--out", str(signing_key))
    port = free_port()
    processes = {
        name: start_cli(*args, env=env, cwd=tmp_path, log=tmp_path / f"{name}.log")
        for name, args in (
            ("serve", ("serve", "--port", str(port))),
            ("publish", ("publish",)),
            ("consume", ("consume",)),
            ("deliver", ("deliver",)),
        )
    }
    base = f"http://127.0.0.1:{port}"
    answers: list[httpx.Response] = []
    try:
        wait_healthy(base, processes["serve"], timeout=60)
        with httpx.Client(base_url=base, timeout=30) as client:
            answers = traffic(client, keys)
            metrics = client.get("/metrics")
            assert metrics.status_code == 200  # loopback: this host
            answers.append(metrics)
            # everything reached Kafka and came back into the read models
            last = max(r.json().get("position", 0) for r in answers if _json(r) and r.is_success)
            wait_until(
                lambda: (
                    client.get(
                        f"/v1/subjects/whatsapp/{PHONES[0]}?after={last}",
                        headers={"Authorization": f"Bearer {keys['auditor']}"},
                    ).status_code
                    == 200
                ),
                timeout=60,
            )
        cli("seal", "--once", extra={"CONSENT_LEDGER_SIGNING_KEY": str(signing_key)})
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=30)
    logs = {path.name: path.read_text() for path in tmp_path.glob("*.log")}
    return {
        "keys": keys,
        "signing_key": signing_key,
        "answers": answers,
        "logs": logs,
        "cli": cli_output,
    }


def _json(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("application/json")


def traffic(client: httpx.Client, keys: dict[str, str]) -> list[httpx.Response]:
    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    answers: list[httpx.Response] = []
    add = answers.append
    gateways = {
        "whatsapp": {
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "phone_number_id": "106540352242922",
        },
        "twilio": {"auth_token": AUTH_TOKEN, "webhook_url": TWILIO_URL},
        "gupshup": {"app_name": "DemoApp", "token": GUPSHUP_TOKEN},
    }
    for name, values in gateways.items():
        add(client.put(f"/v1/tenants/acme/gateways/{name}", headers=auth("admin"), json=values))
    event = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": PHONES[0],
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T10:00:00Z",
        "source": {"kind": "web_form", "id": "form-1"},
        "evidence": {
            "method": "web_form",
            "text": TEXTS[1],
            "ip": "203.0.113.9",
            "user_agent": "Mozilla/5.0 (secret-agent)",
        },
    }
    add(client.post("/v1/events", headers=auth("ingest"), json={"events": [event]}))
    add(
        client.post(
            "/v1/optin-requests",
            headers=auth("ingest"),
            json={
                "channel": "whatsapp",
                "address": PHONES[1],
                "purposes": ["marketing"],
                "template": {"id": "welcome", "version": "2", "text": TEXTS[1]},
                "business_name": "Acme",
            },
        )
    )
    # webhooks: a genuine one of each gateway, then forged ones
    body = wa_body(wa_payload(wa_messages(wa_text("wamid.1", PHONES[0].lstrip("+"), TEXTS[0]))))
    wa_headers = {"content-type": "application/json"}
    add(
        client.post(
            "/v1/webhooks/whatsapp/acme",
            content=body,
            headers={**wa_headers, "X-Hub-Signature-256": wa_sign(APP_SECRET, body)},
        )
    )
    add(
        client.post(
            "/v1/webhooks/whatsapp/acme",
            content=body,
            headers={**wa_headers, "X-Hub-Signature-256": wa_sign("guessed", body)},
        )
    )
    add(
        client.get(
            "/v1/webhooks/whatsapp/acme",
            params={"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        )
    )
    params = twilio_inbound("SM1", PHONES[2], TEXTS[2])
    form = {"content-type": "application/x-www-form-urlencoded"}
    add(
        client.post(
            "/v1/webhooks/twilio/acme",
            content=urlencode(params),
            headers={**form, "X-Twilio-Signature": twilio_sign(AUTH_TOKEN, TWILIO_URL, params)},
        )
    )
    add(
        client.post(
            "/v1/webhooks/twilio/acme",
            content=urlencode(params),
            headers={**form, "X-Twilio-Signature": twilio_sign("x", TWILIO_URL, params)},
        )
    )
    gupshup = {
        "app": "DemoApp",
        "timestamp": int(time.time() * 1000),
        "version": 2,
        "type": "user-event",
        "payload": {"phone": PHONES[3].lstrip("+"), "type": "opted-in"},
    }
    add(client.post(f"/v1/webhooks/gupshup/acme?token={GUPSHUP_TOKEN}", json=gupshup))
    add(client.post("/v1/webhooks/gupshup/acme?token=wrong-" + GUPSHUP_TOKEN[:6], json=gupshup))
    # errors: bad keys, wrong roles, invalid and conflicting input, unknown subjects
    forged = keys["admin"][:-6] + "AAAAAA"
    add(
        client.get(
            f"/v1/subjects/whatsapp/{PHONES[0]}", headers={"Authorization": f"Bearer {forged}"}
        )
    )
    add(client.get(f"/v1/subjects/whatsapp/{PHONES[0]}/history", headers=auth("campaign")))
    add(
        client.post(
            "/v1/events",
            headers=auth("ingest"),
            json={"events": [{**event, "address": PHONES[0] + "99999"}]},
        )
    )
    add(
        client.post(
            "/v1/events",
            headers=auth("ingest"),
            json={"events": [{**event, "occurred_at": TEXTS[2]}]},
        )
    )
    add(
        client.post(
            "/v1/messages/inbound",
            headers=auth("ingest"),
            json={
                "channel": "sms",
                "from": PHONES[3],
                "text": TEXTS[0],
                "message_id": "SM9",
                "extra": TEXTS[2],
            },
        )
    )
    add(
        client.post(
            "/v1/optin-requests",
            headers=auth("ingest"),
            json={
                "channel": "whatsapp",
                "address": PHONES[1],
                "purposes": ["marketing"],
                "template": {"id": "welcome", "version": "2", "text": TEXTS[1]},
                "business_name": "Acme",
            },
        )
    )  # 409: one is pending
    add(client.get(f"/v1/subjects/sms/{PHONES[3]}9/history", headers=auth("auditor")))
    add(
        client.post(
            "/v1/eligibility",
            headers=auth("campaign"),
            json={"channel": "whatsapp", "purpose": "marketing", "addresses": PHONES},
        )
    )
    add(
        client.delete(
            f"/v1/subjects/whatsapp/{PHONES[0]}/personal-data?reason=gdpr_art17",
            headers=auth("admin"),
        )
    )
    add(
        client.delete(
            f"/v1/subjects/whatsapp/{PHONES[0]}/personal-data?reason=gdpr_art17",
            headers=auth("admin"),
        )
    )
    add(client.get("/v1/outbound?after=0", headers=auth("ingest")))
    # a downstream webhook subscription (its secret signs every delivery), and a bad one
    subscription = {"url": "https://hooks.example.com/consent", "secret": WEBHOOK_SECRET}
    put = client.put("/v1/tenants/acme/subscriptions/crm", headers=auth("admin"), json=subscription)
    assert put.status_code in (200, 201), put.text
    add(
        client.put(
            "/v1/tenants/acme/subscriptions/crm2",
            headers=auth("admin"),
            json={**subscription, "secret": WEBHOOK_SECRET[:-8] + "!!!"},
        )
    )
    # the console (signed in with an API key) and a person's preference page
    signin = client.get("/console/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', signin.text)
    assert token is not None, signin.text
    signed_in = client.post(
        "/console/signin", data={"api_key": keys["auditor"], "signin_token": token.group(1)}
    )
    assert signed_in.status_code == 303, signed_in.text
    SESSION["console session"] = client.cookies["consent_console"]
    assert client.get("/console").status_code == 200
    link = client.post(
        "/v1/preference-links",
        headers=auth("admin"),
        json={"channel": "whatsapp", "address": PHONES[2]},
    )
    assert link.status_code in (200, 201), link.text
    SESSION["preference link token"] = link.json()["path"].removeprefix("/p/")
    assert client.get(link.json()["path"]).status_code == 200
    add(client.get("/p/" + SESSION["preference link token"][:-4] + "AAAA"))  # forged link
    return answers


def needles(run: dict[str, Any]) -> dict[str, str]:
    """What must appear nowhere, by name."""
    found = {f"{role} API key": key for role, key in run["keys"].items()}
    found |= {f"{role} API key secret": key.split("_", 2)[2] for role, key in run["keys"].items()}
    found |= {
        "WhatsApp app secret": APP_SECRET,
        "WhatsApp verify token": VERIFY_TOKEN,
        "Twilio auth token": AUTH_TOKEN,
        "Gupshup token": GUPSHUP_TOKEN,
        "secrets key": SECRETS_KEY,
        "metrics token": METRICS_TOKEN,
        "preference key": PREFERENCE_KEY,
        "downstream webhook secret": WEBHOOK_SECRET.removeprefix("whsec_"),
        **SESSION,
    }
    pem = run["signing_key"].read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    raw = private.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    body = "".join(line for line in pem.decode().splitlines() if "-----" not in line)
    found |= {
        "signing key (PEM)": body,
        "signing key (hex)": raw.hex(),
        "signing key (base64)": base64.b64encode(raw).decode().rstrip("="),
    }
    for phone in PHONES:
        found[f"phone {phone}"] = phone.lstrip("+")
    for i, text in enumerate(TEXTS):
        found[f"message text {i}"] = re.findall(r"\w+-\w+", text)[0]
    return found


def test_no_secret_or_personal_data_in_logs_errors_or_metrics(run: dict[str, Any]) -> None:
    places: dict[str, str] = dict(run["logs"])
    for i, text in enumerate(run["cli"]):
        places[f"cli stderr {i}"] = text
    answers: list[httpx.Response] = run["answers"]
    errors = [r for r in answers if r.status_code >= 400]
    assert {r.status_code for r in errors} >= {401, 403, 409, 422}  # the errors did happen
    webhooks = [r for r in answers if "/webhooks/" in r.request.url.path and r.is_success]
    assert len(webhooks) == 3  # each gateway's genuine callback was recorded
    for i, response in enumerate(errors):
        places[f"error {response.status_code} of {response.request.url.path} #{i}"] = response.text
    metrics = [r for r in answers if r.request.url.path == "/metrics"]
    places["/metrics"] = metrics[0].text
    for name in ("serve.log", "publish.log", "consume.log", "deliver.log"):
        assert any(line.startswith("{") for line in run["logs"][name].splitlines()), name
    leaks = [
        f"{what} in {where}"
        for what, needle in needles(run).items()
        for where, text in places.items()
        if needle in text
    ]
    assert not leaks, leaks
