"""Campaign targeting: eligibility, audiences and suppressions, streamed."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests.e2e.conftest import Api


def record(api: Api, events: list[dict[str, Any]]) -> int:
    response = api.client.post("/v1/events", headers=api.headers(), json={"events": events})
    assert response.status_code == 200, response.text
    return max(r["position"] for r in response.json()["results"])


def opt_in(address: str, purposes: list[str], n: int) -> dict[str, Any]:
    return {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": address,
        "purposes": purposes,
        "occurred_at": "2026-11-01T09:00:00Z",
        "source": {"kind": "web_form", "id": f"form-{n}"},
        "evidence": {"method": "web_form"},
    }


def inbound(api: Api, address: str, text: str, message_id: str) -> int:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers(),
        json={"channel": "whatsapp", "from": address, "text": text, "message_id": message_id},
    )
    assert response.status_code == 200, response.text
    position: int = response.json()["position"]
    return position


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def test_eligibility_answers_every_address_in_order_with_why(api: Api) -> None:
    record(
        api, [opt_in("+14155550100", ["marketing"], 1), opt_in("+14155550101", ["marketing"], 2)]
    )
    inbound(api, "+14155550101", "STOP", "m1")
    request = {
        "channel": "whatsapp",
        "address": "+14155550102",
        "purposes": ["marketing"],
        "template": {"id": "t", "version": "1", "text": "Reply YES"},
        "business_name": "Acme",
    }
    created = api.client.post("/v1/optin-requests", headers=api.headers(), json=request)
    position = created.json()["position"]
    addresses = ["+14155550102", "14155550100", "+1415", "+14155550101", "+14155550199"]
    response = api.client.post(
        f"/v1/eligibility?after={position}",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": "marketing", "addresses": addresses},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert int(response.headers["X-Ledger-Position"]) >= position
    rows = ndjson(response.text)
    assert [r["address"] for r in rows] == addresses
    assert [(r["eligible"], r["reason"]) for r in rows] == [
        (False, "pending"),
        (True, "opted_in"),
        (False, "invalid_address"),
        (False, "opted_out"),
        (False, "no_consent"),
    ]
    assert rows[1]["since"] == "2026-11-01T09:00:00.000000Z"
    assert rows[1]["method"] == "web_form"
    assert rows[3]["keyword"] == "STOP"


def test_eligibility_refuses_bad_requests_naming_the_field(api: Api) -> None:
    def check(body: dict[str, Any], status: int, field: str) -> None:
        response = api.client.post("/v1/eligibility", headers=api.headers("campaign"), json=body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["field"] == field

    base = {"channel": "whatsapp", "purpose": "marketing", "addresses": ["+14155550100"]}
    check({**base, "channel": "fax"}, 422, "channel")
    check({**base, "purpose": "Marketing!"}, 422, "purpose")
    check({**base, "addresses": []}, 422, "addresses")
    check({**base, "addresses": ["+14155550100"] * 100_001}, 422, "addresses")
    forbidden = api.client.post("/v1/eligibility", headers=api.headers("ingest"), json=base)
    assert forbidden.status_code == 403


def test_the_audience_streams_exactly_the_opted_in_and_pages_by_cursor(api: Api) -> None:
    addresses = [f"+1415555{n:04d}" for n in range(25)]
    record(api, [opt_in(a, ["marketing"], n) for n, a in enumerate(addresses)])
    last = 0
    for address in addresses[:5]:
        last = inbound(api, address, "STOP", f"stop-{address}")
    expected = set(addresses[5:])
    everyone = api.client.get(
        f"/v1/audiences/whatsapp/marketing?after={last}", headers=api.headers("campaign")
    )
    assert {r["address"] for r in ndjson(everyone.text)} == expected
    assert all(r["method"] == "web_form" for r in ndjson(everyone.text))

    as_csv = api.client.get(
        "/v1/audiences/whatsapp/marketing",
        headers={**api.headers("campaign"), "Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["address"] for r in table} == expected
    assert set(table[0]) >= {"address", "subject_id", "since", "method"}

    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        page = api.client.get(
            f"/v1/audiences/whatsapp/marketing?limit=8{cursor}", headers=api.headers("campaign")
        )
        seen += [r["address"] for r in ndjson(page.text)]
        if "X-Next-Cursor" not in page.headers:
            break
        cursor = "&cursor=" + page.headers["X-Next-Cursor"]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(expected)  # no row twice across pages

    count = api.client.get(
        "/v1/audiences/whatsapp/marketing/count", headers=api.headers("campaign")
    )
    assert count.json()["count"] == 20


def test_suppressions_list_everyone_opted_out_with_when_and_how(api: Api) -> None:
    record(api, [opt_in("+14155550100", ["marketing", "utility"], 1)])
    inbound(api, "+14155550100", "stop promotions", "m1")
    last = inbound(api, "+14155550101", "STOP", "m2")
    response = api.client.get(
        f"/v1/suppressions/whatsapp?after={last}&format=csv", headers=api.headers("campaign")
    )
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert {(r["address"], r["purpose"], r["keyword"]) for r in table} == {
        ("+14155550100", "marketing", "STOP PROMOTIONS"),
        ("+14155550101", "*", "STOP"),
    }
    assert all(r["since"] and r["method"] == "keyword" for r in table)
    bad = api.client.get("/v1/suppressions/whatsapp?format=xml", headers=api.headers("campaign"))
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "format"


def test_suppressions_page_by_cursor_through_a_subject_with_several_purposes(api: Api) -> None:
    record(api, [opt_in("+14155550100", ["marketing", "utility"], 1)])
    inbound(api, "+14155550100", "stop promotions", "m1")
    inbound(api, "+14155550100", "stop utility", "m2")
    inbound(api, "+14155550101", "STOP", "m3")
    last = inbound(api, "+14155550102", "stop promotions", "m4")
    seen: list[tuple[str, str]] = []
    cursor = ""
    for _ in range(10):
        page = api.client.get(
            f"/v1/suppressions/whatsapp?after={last}&limit=1{cursor}",
            headers=api.headers("campaign"),
        )
        assert page.status_code == 200, page.text
        seen += [(r["address"], r["purpose"]) for r in ndjson(page.text)]
        if "X-Next-Cursor" not in page.headers:
            break
        cursor = "&cursor=" + page.headers["X-Next-Cursor"]
    # Every (subject, purpose) once, though three of them belong to one subject ("stop
    # utility" is no scoped keyword: a plain STOP, all purposes) and pages hold one row
    assert sorted(seen) == [
        ("+14155550100", "*"),
        ("+14155550100", "marketing"),
        ("+14155550100", "utility"),
        ("+14155550101", "*"),
        ("+14155550102", "marketing"),
    ]
