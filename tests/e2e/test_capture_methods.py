"""Every capture route the vendors' opt-in flows name (yellow.ai, BizMagnets, Glific,
Movius) is recorded as itself, and a tenant adds its own; on both backends."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Api
from tests.support.webhooks import history

# The routes the vendors' documentation names, as the ledger calls them.
VENDOR_ROUTES = (
    "missed_call", "sms_link", "email_link", "ivr", "paper_form", "qr_code", "pos",
    "website", "webview", "in_app_prompt", "registration_form", "social_lead_ad", "button",
    "keyword", "agent", "preference_page", "import", "api", "provider_signal", "web_form",
)  # fmt: skip


def opt_in(address: str, method: str, *, source_id: str) -> dict[str, Any]:
    return {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": address,
        "purposes": ["marketing"],
        "occurred_at": "2026-01-10T09:00:00Z",
        "source": {"kind": "form", "id": source_id},
        "evidence": {"method": method, "text": "Yes, send me offers"},
    }


def record(api: Api, *events: dict[str, Any]) -> Any:
    return api.client.post("/v1/events", headers=api.headers("ingest"), json={"events": events})


def audience_methods(api: Api, position: int) -> dict[str, str]:
    answer = api.client.get(
        f"/v1/audiences/whatsapp/marketing?after={position}", headers=api.headers("campaign")
    )
    assert answer.status_code == 200, answer.text
    rows = [line for line in answer.text.splitlines() if line]
    return {row["address"]: row["method"] for row in map(json.loads, rows)}


def test_every_vendor_route_is_recorded_as_itself_and_reported_so(api: Api) -> None:
    # Given one opt-in per capture route, a missed call among them (once refused with 422)
    events = [
        opt_in(f"+1415555{index:04d}", method, source_id=f"route-{index}")
        for index, method in enumerate(VENDOR_ROUTES)
    ]
    response = record(api, *events)
    assert response.status_code == 200, response.text
    position = response.json()["results"][-1]["position"]
    # Then the audience, the history and the status all show the route, not api/web_form
    assert audience_methods(api, position) == {
        f"+1415555{index:04d}": method for index, method in enumerate(VENDOR_ROUTES)
    }
    [missed_call] = history(api, "+14155550000")
    assert missed_call["evidence"]["method"] == "missed_call"


def test_a_tenant_adds_its_own_capture_methods_and_unknown_ones_are_refused(api: Api) -> None:
    unknown = record(api, opt_in("+14155550100", "kiosk", source_id="k-1"))
    assert unknown.status_code == 422
    assert unknown.json()["error"] == {
        "code": "invalid_method",
        "message": unknown.json()["error"]["message"],
        "field": "events[0].evidence.method",
    }
    # The tenant's admin adds "kiosk"; names are checked, built-in names refused
    put = "/v1/tenants/acme/capture-methods"
    for bad in (["Kiosk!"], ["missed_call"], ["x"]):
        refused = api.client.put(put, headers=api.headers("admin"), json={"methods": bad})
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_method")
    added = api.client.put(
        put, headers=api.headers("admin"), json={"methods": ["kiosk", "whatsapp_catalog"]}
    )
    assert added.status_code == 200, added.text
    assert added.json()["capture_methods"] == ["kiosk", "whatsapp_catalog"]
    # Then an opt-in by kiosk is recorded as kiosk, for this tenant only
    recorded = record(api, opt_in("+14155550100", "kiosk", source_id="k-1"))
    assert recorded.status_code == 200, recorded.text
    assert history(api, "+14155550100")[0]["evidence"]["method"] == "kiosk"
    foreign = api.client.post(
        "/v1/events",
        headers=api.headers("other_tenant"),
        json={"events": [opt_in("+14155550100", "kiosk", source_id="k-1")]},
    )
    assert foreign.status_code == 422
    # And the change is in the tenant's settings history, with who made it
    changes = api.client.get("/v1/tenants/acme/history", headers=api.headers("auditor")).json()
    [change] = changes["events"]
    assert (change["type"], change["methods"]) == (
        "tenant_capture_methods_changed",
        ["kiosk", "whatsapp_catalog"],
    )
    assert change["changed_by"]


def test_an_agents_opt_in_request_records_method_agent(api: Api) -> None:
    def ask(address: str, **more: Any) -> dict[str, Any]:
        response = api.client.post(
            "/v1/optin-requests",
            headers=api.headers("ingest"),
            json={
                "channel": "whatsapp",
                "address": address,
                "purposes": ["marketing"],
                "template": {"id": "welcome", "version": "1", "text": "Reply YES for offers"},
                "business_name": "Acme",
                **more,
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    ask("+14155550200", source={"kind": "agent", "id": "chat-77"})
    ask("+14155550201", method="agent")
    ask("+14155550202")
    methods = [history(api, f"+1415555020{i}")[0]["evidence"]["method"] for i in range(3)]
    assert methods == ["agent", "agent", "api"]
    refused = api.client.post(
        "/v1/optin-requests",
        headers=api.headers("ingest"),
        json={
            "channel": "whatsapp",
            "address": "+14155550203",
            "purposes": ["marketing"],
            "template": {"id": "welcome", "version": "1", "text": "Reply YES"},
            "business_name": "Acme",
            "method": "carrier_pigeon",
        },
    )
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "method")


def test_an_import_takes_every_route_and_the_tenants_own(api: Api) -> None:
    api.client.put(
        "/v1/tenants/acme/capture-methods",
        headers=api.headers("admin"),
        json={"methods": ["kiosk"]},
    )
    csv = (
        "channel,address,type,purposes,occurred_at,method\n"
        "whatsapp,+14155550300,opted_in,marketing,2024-03-01T10:00:00Z,missed_call\n"
        "whatsapp,+14155550301,opted_in,marketing,2024-03-01T10:00:00Z,kiosk\n"
        "whatsapp,+14155550302,opted_in,marketing,2024-03-01T10:00:00Z,carrier_pigeon\n"
    )
    headers = {**api.headers(), "content-type": "text/csv"}
    report = api.client.post("/v1/imports", headers=headers, content=csv.encode()).json()
    assert (report["accepted"], report["rejected_count"]) == (2, 1)
    assert report["rejected"][0]["row"] == 4
    assert (report["rejected"][0]["code"], report["rejected"][0]["field"]) == (
        "invalid_method",
        "method",
    )
    assert history(api, "+14155550300")[0]["evidence"]["method"] == "missed_call"
    assert history(api, "+14155550301")[0]["evidence"]["method"] == "kiosk"
