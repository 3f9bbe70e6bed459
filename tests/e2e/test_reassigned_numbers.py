"""Reassigned and disconnected numbers (issue 20, part 1): a ``consent_invalidated``
ends every purpose until the number's new holder opts in; on both backends."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Api

ALICE, BOB = "+14155550100", "+14155550101"
CHECK = {"data_source": "fcc_rnd", "queried_at": "2026-02-01T08:00:00Z", "result": "yes"}


def post_events(api: Api, *events: dict[str, Any]) -> Any:
    return api.client.post("/v1/events", headers=api.headers("ingest"), json={"events": events})


def event(address: str, kind: str, occurred_at: str, **more: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "channel": "whatsapp",
        "address": address,
        "occurred_at": occurred_at,
        "source": {"kind": "web_form", "id": f"{address}-{kind}-{occurred_at}"},
        "evidence": {"method": "web_form"},
        **more,
    }


def opt_in(address: str, occurred_at: str, purposes: list[str]) -> dict[str, Any]:
    return event(address, "opted_in", occurred_at, purposes=purposes)


def invalidate(address: str, occurred_at: str, **more: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "reason": "number_reassigned",
        "number_check": CHECK,
        "source": {"kind": "rnd_query", "id": f"rnd-{address}-{occurred_at}"},
        "evidence": {"method": "api"},
        **more,
    }
    return event(address, "consent_invalidated", occurred_at, **fields)


def eligibility(api: Api, purpose: str, *addresses: str, after: int) -> list[dict[str, Any]]:
    response = api.client.post(
        f"/v1/eligibility?after={after}",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": purpose, "addresses": list(addresses)},
    )
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def test_a_reassigned_number_is_ineligible_for_every_purpose_until_the_new_holder_opts_in(
    api: Api,
) -> None:
    # Given Alice and Bob opted in to marketing and utility
    for address in (ALICE, BOB):
        response = post_events(
            api, opt_in(address, "2026-01-10T09:00:00Z", ["marketing", "utility"])
        )
        assert response.status_code == 200, response.text
    # When a reassigned-numbers query says Alice's number changed hands
    response = post_events(api, invalidate(ALICE, "2026-02-01T08:00:00Z"))
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["type"] == "consent_invalidated"
    # Then Alice is ineligible for every purpose, with the reason; Bob is not touched
    for purpose in ("marketing", "utility", "service"):
        alice, bob = eligibility(api, purpose, ALICE, BOB, after=result["position"])
        assert (alice["eligible"], alice["reason"]) == (False, "invalidated")
    assert (bob["eligible"], bob["reason"]) == (False, "no_consent")  # service: never asked
    status = api.client.get(f"/v1/subjects/whatsapp/{ALICE}", headers=api.headers("campaign"))
    assert {p: s["status"] for p, s in status.json()["purposes"].items()} == {
        "marketing": "invalidated",
        "utility": "invalidated",
        "*": "invalidated",
    }
    # ... the suppression list has her, channel-wide
    suppressions = api.client.get(
        f"/v1/suppressions/whatsapp?after={result['position']}", headers=api.headers("campaign")
    )
    rows = [json.loads(line) for line in suppressions.text.splitlines() if line]
    assert [(r["address"], r["purpose"], r["status"]) for r in rows] == [
        (ALICE, "*", "invalidated")
    ]
    # ... the history carries the reason and the evidence
    history = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers("auditor")
    ).json()["events"]
    last = history[-1]
    assert (last["type"], last["reason"]) == ("consent_invalidated", "number_reassigned")
    assert last["number_check"] == {**CHECK, "queried_at": "2026-02-01T08:00:00.000000Z"}
    # ... a late opt-in of the previous holder changes nothing
    late = post_events(api, opt_in(ALICE, "2026-01-20T09:00:00Z", ["marketing"]))
    [alice] = eligibility(api, "marketing", ALICE, after=late.json()["results"][0]["position"])
    assert alice["reason"] == "invalidated"
    # When the new holder opts in to marketing
    fresh = post_events(api, opt_in(ALICE, "2026-02-05T09:00:00Z", ["marketing"]))
    position = fresh.json()["results"][0]["position"]
    # Then marketing is eligible again, utility stays invalidated
    [marketing] = eligibility(api, "marketing", ALICE, after=position)
    [utility] = eligibility(api, "utility", ALICE, after=position)
    assert (marketing["eligible"], marketing["reason"]) == (True, "opted_in")
    assert (utility["eligible"], utility["reason"]) == (False, "invalidated")


def test_bad_invalidations_are_refused_naming_the_field_and_nothing_is_stored(api: Api) -> None:
    cases = [
        (invalidate(ALICE, "2026-02-01T08:00:00Z", reason="moved"), "events[0].reason"),
        (invalidate(ALICE, "2026-02-01T08:00:00Z", number_check=None), "events[0].number_check"),
        (
            invalidate(ALICE, "2026-02-01T08:00:00Z", number_check={**CHECK, "data_source": "X Y"}),
            "events[0].number_check.data_source",
        ),
        (
            invalidate(ALICE, "2026-02-01T08:00:00Z", purposes=["marketing"]),
            "events[0].purposes",
        ),
        (
            opt_in(ALICE, "2026-01-10T09:00:00Z", ["marketing"]) | {"reason": "number_reassigned"},
            "events[0].reason",
        ),
    ]
    for body, field in cases:
        response = post_events(api, body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
    history = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers("auditor")
    )
    assert history.status_code == 404 or history.json()["events"] == []
