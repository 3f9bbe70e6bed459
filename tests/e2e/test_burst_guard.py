"""The burst guard (issue 20, part 3): an unusual spike of gateway opt-outs is held for
review; held subjects are ineligible, visible to admins, and each is released as an
opt-out or dismissed, every decision recorded; on both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.support.gateways import twilio_inbound, twilio_status
from tests.support.webhooks import configure, history, post_twilio

PEOPLE = [f"+1415555010{i}" for i in range(5)]


@pytest.fixture
def gw(api: Api) -> Api:
    configure(api, "twilio")
    response = api.client.put(
        "/v1/tenants/acme/burst-guard",
        headers=api.headers("admin"),
        json={"enabled": True, "max_opt_outs": 2, "window_seconds": 3600},
    )
    assert response.status_code == 200, response.text
    assert response.json()["max_opt_outs"] == 2
    for index, address in enumerate(PEOPLE):
        post_twilio(api, twilio_inbound(f"SMin{index}", address, "START"))
    return api


def eligibility(api: Api, *addresses: str, after: int = 0) -> list[dict[str, Any]]:
    response = api.client.post(
        f"/v1/eligibility?after={after}",
        headers=api.headers("campaign"),
        json={"channel": "sms", "purpose": "marketing", "addresses": list(addresses)},
    )
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def held(api: Api, after: int) -> list[dict[str, Any]]:
    response = api.client.get(
        f"/v1/held-opt-outs?after_position={after}", headers=api.headers("admin")
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["held"]
    return found


def test_a_spike_of_gateway_opt_outs_is_held_and_reviewed(gw: Api) -> None:
    # When the gateway reports four opt-outs (error 21610) within the window, limit two
    for index, address in enumerate(PEOPLE[:4]):
        post_twilio(gw, twilio_status(f"SM{index}", "failed", address, error_code="21610"))
    # Then the first two are recorded, the next two are held with why
    kinds = [history(gw, address, "sms")[-1]["type"] for address in PEOPLE[:4]]
    assert kinds == ["opted_out", "opted_out", "opt_out_held", "opt_out_held"]
    last = history(gw, PEOPLE[3], "sms")[-1]
    assert last["burst"] == {"max_opt_outs": 2, "window_seconds": 3600, "seen": 3}
    assert last["evidence"]["gateway_error"] == "21610"
    position = last["position"]
    # ... held subjects are ineligible, and admins see them
    answers = eligibility(gw, *PEOPLE, after=position)
    assert [a["reason"] for a in answers] == [
        "opted_out",
        "opted_out",
        "held",
        "held",
        "opted_in",
    ]
    suppressions = gw.client.get(
        f"/v1/suppressions/sms?after={position}", headers=gw.headers("campaign")
    )
    rows = [json.loads(line) for line in suppressions.text.splitlines() if line]
    suppressed = {(r["address"], r["purpose"], r["status"]) for r in rows}
    assert {(a, "*", "held") for a in PEOPLE[2:4]} <= suppressed
    listed = held(gw, position)
    assert sorted(h["address"] for h in listed) == sorted(PEOPLE[2:4])
    assert gw.client.get("/v1/held-opt-outs", headers=gw.headers("campaign")).status_code == 403
    # ... a request to a held subject is refused: no messages meanwhile
    request = gw.client.post(
        "/v1/optin-requests",
        headers=gw.headers("ingest"),
        json={
            "channel": "sms",
            "address": PEOPLE[2],
            "purposes": ["utility"],
            "template": {"id": "t", "version": "1", "text": "Reply YES"},
            "business_name": "Acme",
        },
    )
    assert (request.status_code, request.json()["error"]["code"]) == (409, "held_for_review")
    # When an admin releases one and dismisses the other
    base = "/v1/held-opt-outs/sms"
    released = gw.client.post(f"{base}/{PEOPLE[2]}/release", headers=gw.headers("admin"))
    dismissed = gw.client.post(f"{base}/{PEOPLE[3]}/dismiss", headers=gw.headers("admin"))
    assert released.status_code == 200, released.text
    assert dismissed.status_code == 200, dismissed.text
    assert released.json()["type"] == "held_opt_out_released"
    assert dismissed.json()["type"] == "held_opt_out_dismissed"
    # Then the released one is opted out, the dismissed one opted in as before
    after = dismissed.json()["position"]
    answers = eligibility(gw, PEOPLE[2], PEOPLE[3], after=after)
    assert [a["reason"] for a in answers] == ["opted_out", "opted_in"]
    assert held(gw, after) == []
    # ... each decision is in the chain, naming the hold and the admin's key
    decision = history(gw, PEOPLE[2], "sms")[-1]
    assert decision["hold_id"] == history(gw, PEOPLE[2], "sms")[-2]["event_id"]
    assert decision["evidence"]["recorded_by"]
    # ... counted where operators look
    metrics = gw.client.get("/metrics").text
    assert 'consent_ledger_provider_opt_outs_held_total{tenant="acme"}' in metrics
    assert 'consent_ledger_held_opt_out_decisions_total{decision="release"}' in metrics
    # ... and a hold is decided once
    again = gw.client.post(f"{base}/{PEOPLE[2]}/dismiss", headers=gw.headers("admin"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "not_held")


def test_the_persons_own_stop_is_never_held(gw: Api) -> None:
    for index, address in enumerate(PEOPLE[:2]):
        post_twilio(gw, twilio_status(f"SM{index}", "failed", address, error_code="21610"))
    # A STOP the person sent, relayed by Twilio's Advanced Opt-Out, is recorded at once
    post_twilio(gw, twilio_inbound("SMstop", PEOPLE[4], "STOP", opt_out_type="STOP"))
    assert history(gw, PEOPLE[4], "sms")[-1]["type"] == "opted_out"


def test_a_disabled_guard_records_every_opt_out(gw: Api) -> None:
    response = gw.client.put(
        "/v1/tenants/acme/burst-guard",
        headers=gw.headers("admin"),
        json={"enabled": False, "max_opt_outs": 2, "window_seconds": 3600},
    )
    assert response.status_code == 200
    for index, address in enumerate(PEOPLE[:4]):
        post_twilio(gw, twilio_status(f"SM{index}", "failed", address, error_code="21610"))
    assert {history(gw, a, "sms")[-1]["type"] for a in PEOPLE[:4]} == {"opted_out"}


def test_a_bad_burst_guard_is_refused_naming_the_field(api: Api) -> None:
    response = api.client.put(
        "/v1/tenants/acme/burst-guard",
        headers=api.headers("admin"),
        json={"enabled": True, "max_opt_outs": 0, "window_seconds": 60},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "max_opt_outs"
    guard = api.client.get("/v1/tenants/acme/burst-guard", headers=api.headers("admin"))
    assert guard.json() | {"version": 0} == {
        "enabled": True,
        "max_opt_outs": 500,
        "window_seconds": 600,
        "version": 0,
    }


def test_a_whole_spike_is_released_in_one_call(gw: Api) -> None:
    for index, address in enumerate(PEOPLE):
        post_twilio(gw, twilio_status(f"SM{index}", "failed", address, error_code="21610"))
    position = history(gw, PEOPLE[-1], "sms")[-1]["position"]
    assert len(held(gw, position)) == 3
    response = gw.client.post(
        "/v1/held-opt-outs/release",
        headers=gw.headers("admin"),
        json={"channel": "sms", "addresses": [*PEOPLE, "not-a-number"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["decided"], body["read_models_updated"]) == (3, True)
    errors = [r["error"]["code"] if r["error"] else None for r in body["results"]]
    assert errors == ["not_held", "not_held", None, None, None, "invalid_address"]
    assert {r["decided"]["type"] for r in body["results"][2:5]} == {"held_opt_out_released"}
    assert held(gw, body["position"]) == []
    answers = eligibility(gw, *PEOPLE, after=body["position"])
    assert {a["reason"] for a in answers} == {"opted_out"}
    wrong = gw.client.post(
        "/v1/held-opt-outs/dismiss",
        headers=gw.headers("admin"),
        json={"channel": "fax", "addresses": [PEOPLE[0]]},
    )
    assert (wrong.status_code, wrong.json()["error"]["field"]) == (422, "channel")
