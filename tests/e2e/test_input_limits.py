"""Bad input at the HTTP edge: a clear 4xx naming the field, nothing stored, never a 500,
and nothing a caller sends can make the server hold memory or threads (issue 13)."""

from __future__ import annotations

import csv
import io
import json
import time
import typing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import REGISTRY
from pydantic import AfterValidator, BaseModel

from api.csv_cells import neutralise
from api.errors import MAX_MESSAGE
from api.raw_body import RAW_BODY_MODELS
from api.text_fields import plain_text
from ledger.application.api_keys import CACHE_ENTRIES
from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.bounded_cache import CACHES
from ledger.runtime.storage_settings import StorageSettings
from tests.conftest import sqlite_settings
from tests.e2e.conftest import Api
from tests.support.attestation import new_sealer
from tests.support.gateways import wa_body, wa_messages, wa_payload, wa_sign, wa_text
from tests.support.processes import clean_env, run_cli
from tests.support.webhooks import APP_SECRET, GUPSHUP_TOKEN, configure

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


NESTED = b'{"object":"whatsapp_business_account","entry":' + b"[" * 10_000 + b"]" * 10_000 + b"}"


def test_a_ten_thousand_level_body_validly_signed_is_a_400_at_both_webhooks(api: Api) -> None:
    configure(api, "whatsapp", "gupshup")
    whatsapp = api.client.post(
        "/v1/webhooks/whatsapp/acme",
        content=NESTED,
        headers={
            "X-Hub-Signature-256": wa_sign(APP_SECRET, NESTED),
            "content-type": "application/json",
        },
    )
    assert refused(whatsapp, 400, None)["code"] == "malformed_json"
    gupshup = api.client.post(
        "/v1/webhooks/gupshup/acme",
        content=NESTED,
        headers={"Authorization": f"Bearer {GUPSHUP_TOKEN}", "content-type": "application/json"},
    )
    assert refused(gupshup, 400, None)["code"] == "malformed_json"


def test_a_lone_surrogate_in_a_signed_webhook_is_a_400_and_nothing_is_stored(api: Api) -> None:
    configure(api, "whatsapp")
    change = wa_messages(wa_text("wamid.s1", ALICE[1:], "STOP"), profile=(ALICE[1:], "NAME"))
    body = wa_body(wa_payload(change)).replace(b'"NAME"', b'"\\ud800"')
    response = api.client.post(
        "/v1/webhooks/whatsapp/acme",
        content=body,
        headers={
            "X-Hub-Signature-256": wa_sign(APP_SECRET, body),
            "content-type": "application/json",
        },
    )
    assert refused(response, 400, None)["code"] == "malformed_json"
    assert history(api) == []


CSV_HEADER = "channel,address,type,purposes,occurred_at,text\n"


def csv_row(n: int, text: str = "I agree") -> str:
    return f"whatsapp,+1415555{n:04d},opted_in,marketing,2024-03-01T10:00:00Z,{text}\n"


def test_an_import_with_a_huge_cell_at_row_1003_is_refused_whole_naming_row_and_column(
    api: Api,
) -> None:
    rows = "".join(csv_row(n) for n in range(1001))  # rows 2 to 1002
    body = CSV_HEADER + rows + csv_row(1001, "x" * 140_000)  # row 1003
    response = api.client.post(
        "/v1/imports", headers={**api.headers(), "content-type": "text/csv"}, content=body.encode()
    )
    error = refused(response, 422, "rows[1003].text")
    assert error["code"] == "cell_too_long"
    assert "row 1003" in error["message"]
    first = api.client.get("/v1/subjects/whatsapp/+14155550000/history", headers=api.headers())
    assert first.json()["events"] == []  # nothing of the 1,001 good rows was stored


def test_csv_exports_neutralise_formulas_even_after_a_tab(
    api: Api, storage: StorageSettings
) -> None:
    for cell in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=HYPERLINK(1)", "\r=1", " =1"):
        assert neutralise(cell).startswith("'"), repr(cell)
    for cell in ("+14155550100", "-3", "I agree", ""):
        assert neutralise(cell) == cell
    formula = '\t=HYPERLINK("http://evil.example")'
    recorded = event(evidence={"method": "web_form", "text": formula})
    posted = api.client.post("/v1/events", json={"events": [recorded]}, headers=api.headers())
    assert posted.status_code == 200, posted.text
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        new_sealer(ledger, Ed25519PrivateKey.generate()).checkpoint_once()
    finally:
        ledger.close()
    response = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/attestation",
        params={"format": "csv"},
        headers=api.headers("auditor"),
    )
    assert response.status_code == 200, response.text
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["text"] == "'" + formula


def test_bad_units_sent_beside_good_ones_fail_alone_in_the_shared_group_commit(api: Api) -> None:
    """NUL bytes in message ids and source ids (which PostgreSQL cannot store) are sent
    at the same time as valid writes of two tenants: only the bad ones are refused."""

    def send(n: int) -> tuple[str, int]:
        bad = n % 3 == 0
        key = "other_tenant" if n % 2 else "ingest"
        message_id = f"wamid.{n}\x00" if bad else f"wamid.{n}"
        if n % 5 == 0:
            item = event(
                address=f"+1415555{n:04d}",
                source={"kind": "web_form", "id": message_id},
            )
            response = api.client.post(
                "/v1/events",
                headers=api.headers("all" if key == "ingest" else key),
                json={"events": [item]},
            )
        else:
            response = api.client.post(
                "/v1/messages/inbound",
                headers=api.headers(key),
                json=inbound(**{"from": f"+1415555{n:04d}", "message_id": message_id}),
            )
        return ("bad" if bad else "good"), response.status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, range(120)))
    assert {status for kind, status in answers if kind == "bad"} == {422}
    assert {status for kind, status in answers if kind == "good"} == {200}


def role_for(path: str) -> str:
    admin = ("/v1/tenants", "/v1/held-opt-outs", "/v1/preference-links")
    return "admin" if path.startswith(admin) else "all"


@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("put", "/v1/tenants/acme/texts", lambda v: {"help": f"Reply STOP{v}"}, "help"),
        (
            "put",
            "/v1/tenants/acme/gateways/gupshup",
            lambda v: {"app_name": v, "token": "t"},
            "app_name",
        ),
        ("put", "/v1/tenants/acme/capture-methods", lambda v: {"methods": [v]}, "methods[0]"),
        (
            "post",
            "/v1/eligibility",
            lambda v: {"channel": "whatsapp", "purpose": "marketing", "addresses": [v]},
            "addresses[0]",
        ),
        (
            "put",
            "/v1/tenants/acme/subscriptions/s1",
            lambda v: {"url": f"https://example.com/{v}", "secret": "whsec_x"},
            "url",
        ),
        ("put", "/v1/tenants/acme/opt-out-scope", lambda v: {"scope": v}, "scope"),
        ("put", "/v1/tenants/acme/lapse-policy", lambda v: {"months": {v: 3}}, "months[key]"),
        (
            "post",
            "/v1/held-opt-outs/release",
            lambda v: {"channel": "whatsapp", "addresses": [v]},
            "addresses[0]",
        ),
        (
            "post",
            "/v1/preference-links",
            lambda v: {"channel": "whatsapp", "address": ALICE, "reopt_in": [v]},
            "reopt_in[0]",
        ),
        (
            "post",
            "/v1/optin-requests",
            lambda v: {
                "channel": "whatsapp",
                "address": ALICE,
                "purposes": ["marketing"],
                "template": {"id": "t", "version": "1", "text": f"Reply YES{v}"},
                "business_name": "Acme",
            },
            "template.text",
        ),
    ],
)
def test_nul_and_lone_surrogates_in_any_body_string_are_a_422_naming_the_field(
    api: Api, bad: str, method: str, path: str, body: Any, field: str
) -> None:
    # json.dumps escapes both (\\u0000, \\ud800), as a client's JSON library would.
    content = json.dumps(body(bad)).encode()
    response = api.client.request(
        method.upper(),
        path,
        headers={
            **api.headers(role_for(path)),
            "content-type": "application/json",
        },
        content=content,
    )
    assert refused(response, 422, field)["code"] == "invalid_text"
    settings = api.client.get("/v1/tenants/acme", headers=api.headers("admin")).json()
    assert "gupshup" not in settings["gateways"]
    assert all(bad not in text for text in settings["texts"].values())
    assert history(api) == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/tenants/acme/texts", {"help": "h" * 1025}, "help"),
        ("/v1/tenants/acme/keywords", {"buttons": {"b" * 257: "accept"}}, "buttons"),
        ("/v1/tenants/acme/keywords", {"opt_out": ["S" * 65]}, "opt_out[0]"),
        ("/v1/tenants/acme/gateways/gupshup", {"app_name": "a" * 2049, "token": "t"}, "app_name"),
        (
            "/v1/tenants/acme/first-message-request",
            {"enabled": True, "template": {"id": "t", "version": "1", "text": "x" * 4097}},
            "template.text",
        ),
    ],
)
def test_every_tenant_setting_string_has_a_length_limit(
    api: Api, path: str, body: dict[str, Any], field: str
) -> None:
    response = api.client.put(path, json=body, headers=api.headers("admin"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"].startswith(field), error
    assert error["code"] == "too_long"
    assert len(response.content) < 1_000  # the value is not echoed back


def test_the_key_cache_evicts_its_oldest_entries_and_counts_them(api: Api) -> None:
    services = api.client.app.state.services  # type: ignore[attr-defined]
    services.access.cache_entries = 5  # as CONSENT_LEDGER_KEY_CACHE_ENTRIES=5 would
    before = REGISTRY.get_sample_value(
        "consent_ledger_cache_evictions_total", {"cache": "api_keys"}
    )
    for n in range(12):
        wrong = api.client.get("/v1/outbound", headers={"Authorization": f"Bearer cl_{n:016x}_x"})
        assert wrong.status_code == 401
    assert len(services.access._cache) <= 5
    after = REGISTRY.get_sample_value("consent_ledger_cache_evictions_total", {"cache": "api_keys"})
    assert (after or 0) - (before or 0) >= 7
    metrics = api.client.get("/metrics").text
    assert 'consent_ledger_cache_evictions_total{cache="api_keys"}' in metrics
    assert 'consent_ledger_cache_entries{cache="addresses"}' in metrics


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/v1/events", "all"),
        ("/v1/messages/inbound", "ingest"),
        ("/v1/eligibility", "campaign"),
        ("/v1/optin-requests", "ingest"),
    ],
)
def test_a_ten_thousand_level_body_is_a_400_on_the_json_routes(
    api: Api, path: str, role: str
) -> None:
    nested = b'{"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    response = api.client.post(
        path, headers={**api.headers(role), "content-type": "application/json"}, content=nested
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_json"


def _plain_strings(annotation: Any, where: str, text: bool = False) -> Iterator[str]:
    """Where ``annotation`` holds a ``str`` that is not ``Text``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        yield from _plain_strings(base, where, text or any(map(_is_text, meta)))
    elif annotation is str:
        if not text:
            yield where
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _plain_strings(
                field.annotation,
                f"{annotation.__name__}.{name}",
                any(map(_is_text, field.metadata)),
            )
    else:
        for arg in typing.get_args(annotation):
            yield from _plain_strings(arg, where, text)


def _is_text(meta: Any) -> bool:
    return isinstance(meta, AfterValidator) and meta.func is plain_text


def test_every_string_a_v1_body_carries_is_text(api: Api) -> None:
    """A guard for routes to come: every string of every ``/v1`` request body is ``Text``
    (so a NUL or a lone surrogate is a 422 naming the field, never a 500 or a stored row)."""
    app: Any = api.client.app
    bodies: list[Any] = list(RAW_BODY_MODELS.values())
    for context in iter_route_contexts(app.routes):
        if isinstance(context.route, APIRoute) and context.path.startswith("/v1/"):
            bodies += [param.field_info.annotation for param in context.route.dependant.body_params]
    assert len(bodies) > 12
    plain = sorted({where for body in bodies for where in _plain_strings(body, str(body))})
    assert plain == []


def test_the_cli_import_of_a_file_with_a_huge_cell_at_row_1003_stores_nothing(
    tmp_path: Path,
) -> None:
    rows = "".join(csv_row(n) for n in range(1001))
    (tmp_path / "contacts.csv").write_text(CSV_HEADER + rows + csv_row(1001, "x" * 140_000))
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "l.db"))
    done = run_cli("import", "contacts.csv", "--tenant", "acme", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "rows[1003].text" in done.stderr
    assert "row 1003" in done.stderr
    ledger = ConsentLedger(sqlite_settings(tmp_path / "l.db").eventsourcing_env())
    try:
        assert (ledger.recorder.max_notification_id() or 0) == 0  # nothing was stored
    finally:
        ledger.close()
