"""Tenant settings: gateways, keyword rules, texts and request window, recorded in the
ledger so an audit shows which rules were in force; secrets kept apart and never shown."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.domain.times import parse_time
from ledger.persistence.gateway_secrets import gateway_secret_table
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api, issue_keys
from tests.support.gateways import wa_messages, wa_payload, wa_text
from tests.support.processes import CLI, clean_env
from tests.support.webhooks import (
    APP_SECRET,
    AUTH_TOKEN,
    GATEWAYS,
    GUPSHUP_TOKEN,
    VERIFY_TOKEN,
    configure,
    history,
    log_size,
    post_whatsapp,
)

SECRETS = (APP_SECRET, VERIFY_TOKEN, AUTH_TOKEN, GUPSHUP_TOKEN)
ALICE = "+16315551181"


def raw_log(api: Api) -> bytes:
    """Every stored event of the ledger's log, as stored (published to Kafka, sealed)."""
    ledger = api.client.app.state.services.ledger  # type: ignore[attr-defined]
    notifications = ledger.recorder.select_notifications(start=None, limit=10_000)
    return b"".join(n.state for n in notifications)


def test_gateway_secrets_are_never_returned_logged_or_written_to_the_ledger_log(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name, body in GATEWAYS.items():
        response = api.client.put(
            f"/v1/tenants/acme/gateways/{name}", json=body, headers=api.headers("admin")
        )
        assert response.status_code == 200, response.text
    shown = api.client.get("/v1/tenants/acme", headers=api.headers("admin"))
    audit = api.client.get("/v1/tenants/acme/history", headers=api.headers("auditor"))
    post_whatsapp(api, wa_payload(wa_messages(wa_text("wamid.1", "16315551181", "STOP"))))
    everything = shown.text + audit.text + caplog.text + raw_log(api).decode("utf-8", "replace")
    for secret in SECRETS:
        assert secret not in everything
    gateways = shown.json()["gateways"]
    assert gateways["whatsapp"]["settings"] == {
        "phone_number_id": GATEWAYS["whatsapp"]["phone_number_id"]
    }
    assert set(gateways["whatsapp"]["fingerprints"]) == {"app_secret", "verify_token"}
    assert gateways["twilio"]["settings"] == {"webhook_url": GATEWAYS["twilio"]["webhook_url"]}
    changes = audit.json()["events"]
    assert [e["type"] for e in changes] == ["tenant_gateway_configured"] * 3
    assert changes[0]["changed_by"] is not None
    assert all(e["fingerprints"] for e in changes)


def test_a_new_secret_replaces_the_old_one_and_the_audit_shows_the_change(api: Api) -> None:
    configure(api, "whatsapp")
    rotated = {**GATEWAYS["whatsapp"], "app_secret": "rotated-secret"}
    api.client.put("/v1/tenants/acme/gateways/whatsapp", json=rotated, headers=api.headers("admin"))
    old = post_whatsapp(api, wa_payload(wa_messages(wa_text("wamid.1", "16315551181", "STOP"))))
    new = post_whatsapp(
        api,
        wa_payload(wa_messages(wa_text("wamid.1", "16315551181", "STOP"))),
        secret="rotated-secret",
    )
    assert (old.status_code, new.status_code) == (401, 200)
    first, second = api.client.get("/v1/tenants/acme/history", headers=api.headers("admin")).json()[
        "events"
    ]
    assert first["fingerprints"]["app_secret"] != second["fingerprints"]["app_secret"]
    assert (
        first["fingerprints"]["verify_token"] != second["fingerprints"]["verify_token"]
    )  # new salt
    assert second["prev_hash"] == first["hash"]


@pytest.fixture
def keyed_api(storage: StorageSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv(
        "CONSENT_LEDGER_SECRETS_KEY", base64.b64encode(secrets.token_bytes(32)).decode()
    )
    keys = issue_keys(storage)
    with TestClient(create_app(ServeSettings(read_wait_seconds=2.0), storage)) as client:
        yield Api(client, keys)


def test_secrets_are_encrypted_at_rest_under_the_configured_key(keyed_api: Api) -> None:
    configure(keyed_api, "whatsapp")
    ledger = keyed_api.client.app.state.services.ledger  # type: ignore[attr-defined]
    config = keyed_api.client.get("/v1/tenants/acme", headers=keyed_api.headers("admin")).json()
    assert config["gateways"]["whatsapp"]["version"] == 1
    table = gateway_secret_table(ledger.recorder)
    tenants = keyed_api.client.app.state.gateways.tenants  # type: ignore[attr-defined]
    secret_id = tenants.settings("acme").gateways["whatsapp"].secret_id
    row = table.select("acme", "whatsapp", secret_id)
    assert row is not None
    assert row.scheme == "aes256gcm"
    assert APP_SECRET not in row.sealed
    accepted = post_whatsapp(
        keyed_api, wa_payload(wa_messages(wa_text("wamid.1", "16315551181", "STOP")))
    )
    assert accepted.status_code == 200


def test_keyword_rules_are_versioned_and_each_classified_event_names_its_version(api: Api) -> None:
    configure(api, "whatsapp")
    custom = {"opt_out": ["STOP", "BASTA"], "opt_in_purposes": ["marketing", "news"]}
    first = api.client.put("/v1/tenants/acme/keywords", json=custom, headers=api.headers("admin"))
    assert first.status_code == 200, first.text
    assert first.json()["keywords"]["opt_out"] == ["STOP", "BASTA"]
    post_whatsapp(api, wa_payload(wa_messages(wa_text("wamid.1", "16315551181", "Basta!"))))
    second = api.client.put("/v1/tenants/acme/keywords", json={}, headers=api.headers("admin"))
    post_whatsapp(api, wa_payload(wa_messages(wa_text("wamid.2", "16315551181", "basta"))))
    post_whatsapp(api, wa_payload(wa_messages(wa_text("wamid.3", "16315551181", "START"))))
    stop, start = history(api, ALICE)  # the second "basta" matched nothing under version 3
    assert (stop["evidence"]["keyword"], stop["evidence"]["rules_version"]) == ("BASTA", 2)
    assert start["evidence"]["rules_version"] == second.json()["version"] == 3
    changes = api.client.get("/v1/tenants/acme/history", headers=api.headers("auditor")).json()[
        "events"
    ]
    in_force = {c["version"]: c for c in changes}[stop["evidence"]["rules_version"]]
    assert "BASTA" in in_force["rules"]["opt_out"]
    assert in_force["keyword_purposes"] == ["marketing", "news"]
    assert changes[-1]["rules"]["opt_out"] == second.json()["keywords"]["opt_out"]


def test_the_request_window_applies_to_new_requests(api: Api) -> None:
    response = api.client.put(
        "/v1/tenants/acme/request-window", json={"seconds": 3600}, headers=api.headers("admin")
    )
    assert response.json()["request_window_seconds"] == 3600
    request = api.client.post(
        "/v1/optin-requests",
        headers=api.headers("ingest"),
        json={
            "channel": "whatsapp",
            "address": ALICE,
            "purposes": ["marketing"],
            "template": {"id": "t", "version": "1", "text": "Join?"},
            "business_name": "Acme",
        },
    ).json()
    [event] = history(api, ALICE)
    window = parse_time(event["expires_at"]) - parse_time(event["recorded_at"])
    assert window.total_seconds() == 3600
    assert request["expires_at"] == event["expires_at"]


def test_only_the_tenants_own_admin_changes_its_settings(api: Api) -> None:
    put = "/v1/tenants/acme/gateways/whatsapp"
    assert (
        api.client.put(put, json=GATEWAYS["whatsapp"], headers=api.headers("ingest")).status_code
        == 403
    )
    assert api.client.get("/v1/tenants/acme", headers=api.headers("campaign")).status_code == 403
    other = api.client.put(
        "/v1/tenants/globex/gateways/whatsapp",
        json=GATEWAYS["whatsapp"],
        headers=api.headers("admin"),
    )
    assert (other.status_code, other.json()["error"]["field"]) == (403, "tenant")
    assert api.client.put(put, json=GATEWAYS["whatsapp"]).status_code == 401
    assert log_size(api) == 0


BAD_SETTINGS: list[tuple[str, dict[str, Any], str]] = [
    ("gateways/whatsapp", {"verify_token": "v", "phone_number_id": "1"}, "app_secret"),
    ("gateways/telegram", {"token": "t"}, "gateway"),
    ("gateways/twilio", {"auth_token": "t", "webhook_url": "ftp://x"}, "webhook_url"),
    ("gateways/gupshup", {"app_name": "a", "token": "t", "extra": "x"}, "extra"),
    ("keywords", {"buttons": {"b1": "maybe"}}, "buttons.b1.action"),
    ("keywords", {"opt_out": [""]}, "opt_out[0]"),
    ("keywords", {"opt_in_purposes": ["Not A Purpose"]}, "opt_in_purposes[0]"),
    ("texts", {"goodbye": "x"}, "goodbye"),
    ("request-window", {"seconds": 5}, "seconds"),
]


def test_bad_settings_are_refused_naming_the_field_and_nothing_is_stored(api: Api) -> None:
    for path, body, field in BAD_SETTINGS:
        response = api.client.put(
            f"/v1/tenants/acme/{path}", json=body, headers=api.headers("admin")
        )
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["field"] == field, path
    assert log_size(api) == 0


def test_the_cli_configures_a_tenant_from_stdin_and_never_prints_a_secret(tmp_path: Path) -> None:
    storage = StorageSettings(database_url=None, sqlite_path=tmp_path / "ledger.db")
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(storage.sqlite_path))
    document = {"gateways": GATEWAYS, "texts": {"help": "Acme help: 555-0100"}}
    configured = subprocess.run(
        [CLI, "tenants", "configure", "acme"],
        input=json.dumps(document),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert configured.returncode == 0, configured.stderr
    shown = subprocess.run(
        [CLI, "tenants", "show", "acme"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    for output in (configured.stdout, configured.stderr, shown.stdout):
        assert not any(secret in output for secret in SECRETS)
    settings = json.loads(shown.stdout)
    assert (settings["version"], settings["texts"]["help"]) == (4, "Acme help: 555-0100")
    assert set(settings["gateways"]) == {"whatsapp", "twilio", "gupshup"}
    bad = subprocess.run(
        [CLI, "tenants", "configure", "acme"],
        input=json.dumps({"gateways": {"whatsapp": {"app_secret": "x"}}}),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "gateways.whatsapp.phone_number_id" in bad.stderr
    # The API serving that file accepts the gateway's signed callbacks at once.
    keys = issue_keys(storage)
    with TestClient(create_app(ServeSettings(), storage)) as client:
        api = Api(client, keys)
        response = post_whatsapp(
            api, wa_payload(wa_messages(wa_text("wamid.1", "16315551181", "STOP")))
        )
        assert response.status_code == 200, response.text
        assert len(history(api, ALICE)) == 1
