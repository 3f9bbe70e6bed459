"""The revocation timeliness report through the HTTP API, on both backends: each opt-out
with its gateway and ledger times, confirmations and the first campaign after it; flags
for a late one, a doubly confirmed one and one a campaign still included; JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.attestation.revocations import COLUMNS
from ledger.domain.times import format_time
from tests.e2e.conftest import Api

ALICE, BOB, CAROL, DAVE = "+14155550100", "+14155550101", "+14155550102", "+14155550103"
NOW = datetime.now(UTC)


def record(api: Api, address: str, kind: str, n: int, occurred_at: datetime) -> dict[str, Any]:
    event = {
        "type": kind,
        "channel": "whatsapp",
        "address": address,
        "purposes": ["marketing"] if kind != "confirmation_sent" else [],
        "occurred_at": format_time(occurred_at),
        "source": {
            "kind": "outbound" if kind == "confirmation_sent" else "web_form",
            "id": f"s-{n}",
        },
        "evidence": {"method": "api" if kind == "confirmation_sent" else "web_form"},
    }
    response = api.client.post(
        "/v1/events", headers=api.headers("ingest"), json={"events": [event]}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def report(api: Api, query: str = "") -> dict[str, Any]:
    response = api.client.get(f"/v1/reports/revocations{query}", headers=api.headers("auditor"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def given_three_revocations(api: Api) -> dict[str, Any]:
    """Alice opted out on time; Bob on time, confirmed twice; Carol's STOP reached the
    ledger 30 days late, and a campaign afterwards (to Dave) still sent to her."""
    for n, address in enumerate((ALICE, BOB, CAROL, DAVE)):
        record(api, address, "opted_in", n, NOW - timedelta(days=60))
    alice = record(api, ALICE, "opted_out", 10, NOW - timedelta(minutes=5))
    bob = record(api, BOB, "opted_out", 11, NOW - timedelta(minutes=4))
    record(api, BOB, "confirmation_sent", 12, NOW - timedelta(minutes=3))
    record(api, BOB, "confirmation_sent", 13, NOW - timedelta(minutes=2))
    carol = record(api, CAROL, "opted_out", 14, NOW - timedelta(days=30))
    response = api.client.post(
        "/v1/campaigns/winter/receipts",
        headers=api.headers("campaign"),
        json={
            "channel": "whatsapp",
            "purpose": "marketing",
            "position": carol["position"],
            "addresses": [DAVE, CAROL],
        },
    )
    assert response.status_code == 201, response.text
    return {"alice": alice, "bob": bob, "carol": carol, "receipt": response.json()}


def test_each_revocation_shows_its_times_confirmations_campaign_and_flags(api: Api) -> None:
    given = given_three_revocations(api)
    body = report(api)
    by_event = {row["event_id"]: row for row in body["revocations"]}
    assert body["count"] == 3
    assert body["flagged"] == 2
    alice = by_event[given["alice"]["event_id"]]
    bob = by_event[given["bob"]["event_id"]]
    carol = by_event[given["carol"]["event_id"]]
    assert alice["flags"] == ""
    assert alice["jurisdiction"] == "US"
    assert alice["limit_business_days"] == 10
    assert alice["effective_position"] == given["alice"]["position"]
    assert alice["first_receipt_campaign_id"] == "winter"
    assert alice["first_receipt_included"] is False
    assert bob["confirmations"] == 2
    assert bob["flags"] == "multiple_confirmations"
    assert bob["first_receipt_included"] is False
    assert carol["business_days"] > 10
    assert carol["flags"] == "late included_after_opt_out"
    assert carol["included_receipts"] == given["receipt"]["receipt_id"]
    assert carol["received_at_gateway"] < carol["received_at_ledger"]
    assert "+1415" not in str(body)  # subject ids only


def test_the_report_as_csv_and_by_period(api: Api) -> None:
    given_three_revocations(api)
    response = api.client.get("/v1/reports/revocations?format=csv", headers=api.headers("auditor"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == COLUMNS
    assert sorted(row["flags"] for row in rows) == [
        "",
        "late included_after_opt_out",
        "multiple_confirmations",
    ]
    # Recorded after "to": none; before "from": all
    earlier = format_time(NOW - timedelta(days=1)).replace("+00:00", "Z")
    assert report(api, f"?to={earlier}")["count"] == 0
    assert report(api, f"?from={earlier}")["count"] == 3
    bad = api.client.get("/v1/reports/revocations?from=yesterday", headers=api.headers("auditor"))
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "from"
    assert (
        api.client.get("/v1/reports/revocations", headers=api.headers("campaign")).status_code
        == 403
    )


@pytest.fixture
def lenient_us(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CONSENT_LEDGER_COMPLIANCE_POLICY",
        '{"tenants": {"acme": {"revocation_business_days": {"US": 40}}}}',
    )


def test_the_limit_is_the_tenants_for_the_jurisdiction(lenient_us: None, api: Api) -> None:
    given = given_three_revocations(api)
    body = report(api)
    carol = next(r for r in body["revocations"] if r["event_id"] == given["carol"]["event_id"])
    assert carol["limit_business_days"] == 40
    assert carol["flags"] == "included_after_opt_out"
    assert body["policy"]["revocation_business_days"] == {"default": 10, "US": 40}


def test_the_bundle_links_the_receipt_proofs_and_the_printed_report_shows_revocations(
    api: Api,
) -> None:
    given = given_three_revocations(api)
    bundle = api.client.get(
        f"/v1/subjects/whatsapp/{CAROL}/attestation", headers=api.headers("auditor")
    )
    assert bundle.status_code == 200, bundle.text
    last = max(e["recorded_at"] for e in bundle.json()["events"])  # US: kept 4 years more
    assert bundle.json()["retention_until"] == f"{int(last[:4]) + 4}{last[4:]}"
    links = bundle.json()["campaign_receipts"]
    assert links["after_opt_outs"] == [
        f"/v1/subjects/whatsapp/%2B14155550102/campaigns?after_opt_out={given['carol']['event_id']}"
    ]
    followed = api.client.get(links["after_opt_outs"][0], headers=api.headers("auditor"))
    assert followed.status_code == 200
    assert followed.json()["violations"] == 1
    html = api.client.get(
        f"/v1/subjects/whatsapp/{CAROL}/attestation?format=html", headers=api.headers("auditor")
    )
    assert "<h2>Revocations</h2>" in html.text
    assert "Records kept until" in html.text
    assert "late included_after_opt_out" in html.text
    assert "winter (included!)" in html.text


def test_the_report_is_paged_in_ledger_order(api: Api) -> None:
    given = given_three_revocations(api)
    first = report(api, "?limit=2")
    assert [r["event_id"] for r in first["revocations"]] == [
        given["alice"]["event_id"],
        given["bob"]["event_id"],
    ]
    rest = report(api, f"?limit=2&cursor={first['next_cursor']}")
    assert [r["event_id"] for r in rest["revocations"]] == [given["carol"]["event_id"]]
    assert rest["next_cursor"] is None
    page = api.client.get(
        "/v1/reports/revocations?format=csv&limit=1", headers=api.headers("auditor")
    )
    assert page.headers["X-Next-Cursor"] == str(given["alice"]["position"])
    too_many = api.client.get(
        "/v1/reports/revocations?limit=100000", headers=api.headers("auditor")
    )
    assert too_many.status_code == 422
