"""Bad input at the HTTP edge: a clear 4xx naming the field, nothing stored, never a 500,
and nothing a caller sends can make the server hold memory or threads (issue 13)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from api.errors import MAX_MESSAGE
from ledger.application.api_keys import CACHE_ENTRIES
from ledger.domain.bounded_cache import CACHES
from tests.e2e.conftest import Api

ALICE = "+14155550100"


def inbound(**changes: Any) -> dict[str, Any]:
    return {
        "channel": "whatsapp",
        "from": ALICE,
        "text": "STOP",
        "message_id": "wamid.1",
        "occurred_at": "2026-11-21T10:00:00Z",
    } | changes


def event(**changes: Any) -> dict[str, Any]:
    return {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": "form-1"},
        "evidence": {"method": "web_form"},
    } | changes


def history(api: Api) -> list[Any]:
    response = api.client.get(f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers())
    assert response.status_code == 200, response.text
    events: list[Any] = response.json()["events"]
    return events


def refused(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["field"] == field, error
    assert len(error["message"]) <= MAX_MESSAGE
    return error


@pytest.mark.parametrize("after", ["9223372036854775808", "1" + "0" * 30, "-1"])
def test_an_outbox_position_beyond_a_bigint_is_a_422_naming_after(api: Api, after: str) -> None:
    response = api.client.get(f"/v1/outbound?after={after}", headers=api.headers("ingest"))
    refused(response, 422, "after")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"message_id": "wamid.\x00nul"}, "message_id"),
        ({"profile_name": "Ali\x00ce"}, "profile_name"),
        ({"text": "STOP\x00"}, "text"),
        ({"button_payload": "\x00"}, "button_payload"),
    ],
)
def test_a_nul_character_in_an_inbound_message_is_a_422_and_nothing_is_stored(
    api: Api, changes: dict[str, str], field: str
) -> None:
    response = api.client.post(
        "/v1/messages/inbound", headers=api.headers("ingest"), json=inbound(**changes)
    )
    assert refused(response, 422, field)["code"] == "invalid_text"
    assert history(api) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source": {"kind": "web_form", "id": "form\x00"}}, "events[0].source.id"),
        (
            {"evidence": {"method": "web_form", "profile_name": "\x00"}},
            "events[0].evidence.profile_name",
        ),
        ({"evidence": {"method": "web_form", "text": "I agree\x00"}}, "events[0].evidence.text"),
    ],
)
def test_a_nul_character_in_an_event_is_a_422_and_nothing_is_stored(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    response = api.client.post(
        "/v1/events", headers=api.headers(), json={"events": [event(**changes)]}
    )
    refused(response, 422, field)
    assert history(api) == []


@pytest.mark.parametrize(
    "body",
    [
        # A lone surrogate escape, and invalid UTF-8 bytes.
        b'{"channel":"whatsapp","from":"+14155550100","text":"STOP","message_id":"m",'
        b'"profile_name":"\\ud800"}',
        b'{"channel":"whatsapp","from":"+14155550100","text":"ST\xffOP","message_id":"m"}',
    ],
)
def test_lone_surrogates_and_invalid_utf8_are_a_400(api: Api, body: bytes) -> None:
    response = api.client.post(
        "/v1/messages/inbound",
        headers={**api.headers("ingest"), "content-type": "application/json"},
        content=body,
    )
    assert refused(response, 400, None)["code"] == "malformed_json"
    assert history(api) == []


def test_a_megabyte_profile_name_is_refused_and_not_stored(api: Api) -> None:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers("ingest"),
        json=inbound(profile_name="x" * 1_000_000),
    )
    assert refused(response, 422, "profile_name")["code"] == "too_long"
    assert history(api) == []


def test_a_huge_address_is_refused_without_echoing_it_and_names_from(api: Api) -> None:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers("ingest"),
        json=inbound(**{"from": "1" * 3_000_000}),
    )
    assert refused(response, 422, "from")["code"] == "invalid_address"
    assert len(response.content) < 1_000
    short = api.client.post(
        "/v1/messages/inbound", headers=api.headers("ingest"), json=inbound(**{"from": "abc"})
    )
    assert refused(short, 422, "from")["code"] == "invalid_address"


def test_refused_addresses_do_not_grow_the_address_cache(api: Api) -> None:
    cache = CACHES["addresses"]
    before = len(cache)
    for n in range(50):
        response = api.client.post(
            "/v1/eligibility",
            headers=api.headers("campaign"),
            json={"channel": "whatsapp", "purpose": "marketing", "addresses": [f"+1{n}" * 40]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["reason"] == "invalid_address"
    assert len(cache) == before


def test_unknown_bearer_tokens_are_refused_and_do_not_grow_the_key_cache(api: Api) -> None:
    services = api.client.app.state.services  # type: ignore[attr-defined]
    huge = api.client.get("/v1/outbound", headers={"Authorization": "Bearer " + "x" * 4_000_000})
    assert refused(huge, 401, "Authorization")["code"] == "unauthorized"
    for n in range(30):
        wrong = api.client.get("/v1/outbound", headers={"Authorization": f"Bearer cl_{n:016x}_no"})
        assert wrong.status_code == 401
    cache = services.access._cache
    assert len(cache) <= CACHE_ENTRIES
    assert all(len(key) == 32 for key in cache)  # digests, never what was presented


def test_a_read_after_a_position_never_recorded_answers_at_once(api: Api) -> None:
    recorded = api.client.post(
        "/v1/messages/inbound", headers=api.headers("ingest"), json=inbound()
    ).json()["position"]
    started = time.monotonic()
    ahead = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}?after={recorded + 1_000_000}", headers=api.headers()
    )
    assert refused(ahead, 422, "after")["code"] == "unknown_position"
    assert time.monotonic() - started < 1.5  # the read wait is 2 s in these tests
    caught_up = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}?after={recorded}", headers=api.headers()
    )
    assert caught_up.status_code == 200
    assert caught_up.json()["purposes"]["*"]["status"] == "opted_out"
