"""The person's own preference page over HTTP, on both backends: a signed, expiring link
minted by an admin; withdraw one purpose or all in one click, opt back in where the link
allows; every change an ordinary ledger event with method ``preference_page``; no API key;
rate-limited; the token never in a log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.console.preference_tokens import PreferenceLink, mint
from api.console.settings import ConsoleSettings
from api.serve_settings import ServeSettings
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api, issue_keys

BOB = "+14155550123"
KEY = "k" * 40


@pytest.fixture
def site(storage: StorageSettings) -> Iterator[Api]:
    settings = ServeSettings(read_wait_seconds=5.0, seal_every_seconds=0)
    console = ConsoleSettings(preference_key=SecretStr(KEY), preference_rate_per_minute=1000)
    keys = issue_keys(storage)
    with TestClient(create_app(settings, storage, console)) as client:
        yield Api(client, keys)


def opt_bob_in(site: Api) -> None:
    event = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": BOB,
        "purposes": ["marketing", "utility"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": "form-1"},
        "evidence": {
            "method": "web_form",
            "notice": {"id": "signup", "version": "2", "text": "Acme deals and order news"},
            "business_name": "Acme",
        },
    }
    answer = site.client.post("/v1/events", json={"events": [event]}, headers=site.headers())
    assert answer.is_success, answer.text
    position = answer.json()["results"][0]["position"]
    site.client.get(f"/v1/subjects/whatsapp/{BOB}?after={position}", headers=site.headers())


def mint_link(site: Api, **extra: object) -> str:
    answer = site.client.post(
        "/v1/preference-links",
        json={"channel": "whatsapp", "address": BOB, **extra},
        headers=site.headers("admin"),
    )
    assert answer.status_code == 201, answer.text
    path: str = answer.json()["path"]
    return path


def status(site: Api) -> dict[str, dict[str, str]]:
    answer = site.client.get(f"/v1/subjects/whatsapp/{BOB}", headers=site.headers())
    purposes: dict[str, dict[str, str]] = answer.json()["purposes"]
    return purposes


def press(site: Api, path: str, action: str, purpose: str) -> int:
    page = site.client.get(path)
    submission = re.search(r'name="submission" value="([^"]+)"', page.text)
    assert submission is not None
    response = site.client.post(
        path,
        data={"action": action, "purpose": purpose, "submission": submission.group(1)},
        follow_redirects=False,
    )
    return response.status_code


def test_the_person_withdraws_one_purpose_and_opts_back_in(
    site: Api, caplog: pytest.LogCaptureFixture
) -> None:
    opt_bob_in(site)
    path = mint_link(site, reopt_in=["marketing"])
    caplog.set_level(logging.INFO)

    page = site.client.get(path)  # no API key
    assert page.status_code == 200
    assert "Your messages from Acme" in page.text
    assert "Acme deals and order news" in page.text  # in the business's own words

    assert press(site, path, "withdraw", "marketing") == 303
    assert status(site)["marketing"]["status"] == "opted_out"
    assert status(site)["marketing"]["method"] == "preference_page"
    assert status(site)["utility"]["status"] == "opted_in"
    history = site.client.get(
        f"/v1/subjects/whatsapp/{BOB}/history", headers=site.headers("auditor")
    ).json()["events"]
    evidence = history[-1]["evidence"]
    assert evidence["notice"]["id"] == "preference-page"
    assert evidence["notice"]["version"] == "1"
    assert history[-1]["source"]["kind"] == "preference_page"

    assert press(site, path, "opt_in", "marketing") == 303
    assert status(site)["marketing"]["status"] == "opted_in"
    # Utility was not offered for opting back in.
    assert press(site, path, "opt_in", "utility") == 403

    token = path.removeprefix("/p/")
    # The server's log lines (the test client's own httpx lines name the URL it asked for).
    server = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert any(r.name == "api.requests" for r in server)
    leaked = [r for r in server if token in str(r.__dict__)]
    assert [(r.name, r.getMessage()) for r in leaked] == []


def test_withdraw_all_in_one_click(site: Api) -> None:
    opt_bob_in(site)
    path = mint_link(site)
    assert press(site, path, "withdraw", "*") == 303
    purposes = status(site)
    assert purposes["*"]["status"] == "opted_out"
    assert site.client.get(path + "?done=withdrawn").text.count("Stopped") >= 1


def test_a_forged_or_expired_link_shows_nothing(site: Api) -> None:
    opt_bob_in(site)
    path = mint_link(site)
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert site.client.get(forged).status_code == 404
    other_key = mint(
        b"x" * 40,
        PreferenceLink("acme", "whatsapp", BOB, datetime.now(UTC) + timedelta(days=1), ()),
    )
    assert site.client.get(f"/p/{other_key}").status_code == 404
    expired = mint(
        KEY.encode(),
        PreferenceLink("acme", "whatsapp", BOB, datetime.now(UTC) - timedelta(seconds=1), ()),
    )
    answer = site.client.get(f"/p/{expired}")
    assert answer.status_code == 404
    assert "Acme" not in answer.text


def test_minting_needs_an_admin_and_a_valid_address(site: Api) -> None:
    refused = site.client.post(
        "/v1/preference-links",
        json={"channel": "whatsapp", "address": BOB},
        headers=site.headers("auditor"),
    )
    assert refused.status_code == 403
    bad = site.client.post(
        "/v1/preference-links",
        json={"channel": "whatsapp", "address": "12"},
        headers=site.headers("admin"),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "address"


def test_without_a_key_no_link_is_minted(api: Api) -> None:
    answer = api.client.post(
        "/v1/preference-links",
        json={"channel": "whatsapp", "address": BOB},
        headers=api.headers("admin"),
    )
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "preference_links_off"


def test_the_page_is_rate_limited(storage: StorageSettings) -> None:
    console = ConsoleSettings(preference_key=SecretStr(KEY), preference_rate_per_minute=3)
    app = create_app(ServeSettings(seal_every_seconds=0), storage, console)
    with TestClient(app) as client:
        codes = [client.get("/p/not-a-token").status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404]
    assert codes[3:] == [429, 429]


def test_sending_the_same_form_twice_records_one_event(site: Api) -> None:
    opt_bob_in(site)
    path = mint_link(site)
    page = site.client.get(path)
    submission = re.search(r'name="submission" value="([^"]+)"', page.text)
    assert submission is not None
    form = {"action": "withdraw", "purpose": "marketing", "submission": submission.group(1)}
    for _ in range(2):  # a double click, or the browser re-sending the form
        sent = site.client.post(path, data=form, follow_redirects=False)
        assert sent.status_code == 303
    history = site.client.get(
        f"/v1/subjects/whatsapp/{BOB}/history", headers=site.headers("auditor")
    ).json()["events"]
    assert [e["type"] for e in history] == ["opted_in", "opted_out"]


def test_after_erasure_the_page_says_so_and_offers_no_withdrawal(site: Api) -> None:
    opt_bob_in(site)
    path = mint_link(site)
    erased = site.client.delete(
        f"/v1/subjects/whatsapp/{BOB}/personal-data", headers=site.headers("admin")
    )
    assert erased.status_code == 200, erased.text
    page = site.client.get(path)
    assert "Erased</strong> on" in page.text
    assert 'id="withdraw-' not in page.text
