"""Bad input gets a 4xx naming the field, and nothing is stored; keys decide everything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Api

ALICE = "+14155550100"


def event(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": "form-1"},
        "evidence": {"method": "web_form"},
    }
    item.update(changes)
    return item


def stored_events(api: Api) -> list[Any]:
    response = api.client.get(f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers())
    events: list[Any] = response.json()["events"]
    return events


@pytest.mark.parametrize(
    ("bad", "status", "code", "field"),
    [
        (event(channel="telegram"), 422, "unknown_channel", "events[1].channel"),
        (event(address="+1415"), 422, "invalid_address", "events[1].address"),
        (event(type="opted_sideways"), 422, "unknown_event_type", "events[1].type"),
        (event(purposes=["Marketing!"]), 422, "invalid_purpose", "events[1].purposes[0]"),
        (event(occurred_at="2026-11-21T09:00:00"), 422, "invalid_input", "events[1].occurred_at"),
        (event(occurred_at="2999-01-01T00:00:00Z"), 422, "invalid_time", "events[1].occurred_at"),
        (
            event(evidence={"method": "telepathy"}),
            422,
            "invalid_method",
            "events[1].evidence.method",
        ),
        (event(evidence={}), 422, "missing_field", "events[1].evidence.method"),
        (event(purpose=["marketing"]), 422, "unknown_field", "events[1].purpose"),
        (event(type="opt_in_request_expired"), 409, "no_pending_request", "events[1].type"),
    ],
)
def test_one_bad_item_refuses_the_whole_batch(
    api: Api, bad: dict[str, Any], status: int, code: str, field: str
) -> None:
    good = event(source={"kind": "web_form", "id": "form-good"})
    response = api.client.post("/v1/events", headers=api.headers(), json={"events": [good, bad]})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert stored_events(api) == []


def test_malformed_json_and_empty_or_oversized_batches(api: Api) -> None:
    broken = api.client.post(
        "/v1/events",
        headers={**api.headers(), "content-type": "application/json"},
        content=b'{"events": [',
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "malformed_json"
    empty = api.client.post("/v1/events", headers=api.headers(), json={"events": []})
    assert empty.status_code == 422
    assert empty.json()["error"]["field"] == "events"
    many = [event(source={"kind": "web_form", "id": f"f-{i}"}) for i in range(10_001)]
    too_many = api.client.post("/v1/events", headers=api.headers(), json={"events": many})
    assert too_many.status_code == 422
    assert too_many.json()["error"] == {
        "code": "batch_too_large",
        "message": too_many.json()["error"]["message"],
        "field": "events",
    }
    huge = api.client.post(
        "/v1/events",
        headers={**api.headers(), "content-type": "application/json"},
        content=b" " * (9 * 1024 * 1024),
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "body_too_large"
    assert stored_events(api) == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer cl_0000_nope"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
def test_requests_without_a_valid_key_are_refused(
    api: Api, headers: dict[str, str], status: int
) -> None:
    response = api.client.post("/v1/events", headers=headers, json={"events": [event()]})
    assert response.status_code == status
    assert response.json()["error"]["field"] == "Authorization"
    assert stored_events(api) == []


def test_each_endpoint_needs_its_role(api: Api) -> None:
    campaign = api.client.post(
        "/v1/events", headers=api.headers("campaign"), json={"events": [event()]}
    )
    assert campaign.status_code == 403
    assert campaign.json()["error"]["code"] == "forbidden"
    ingest = api.client.post(
        "/v1/events", headers=api.headers("ingest"), json={"events": [event()]}
    )
    assert ingest.status_code == 200
    history = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers("campaign")
    )
    assert history.status_code == 403
    audited = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers("auditor")
    )
    assert audited.status_code == 200
    assert len(audited.json()["events"]) == 1
    admin = api.client.get(f"/v1/subjects/whatsapp/{ALICE}", headers=api.headers("admin"))
    assert admin.status_code == 200


def test_a_key_never_sees_another_tenants_data(api: Api) -> None:
    recorded = api.client.post(
        "/v1/events", headers=api.headers(), json={"events": [event()]}
    ).json()
    position = recorded["results"][0]["position"]
    other = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}?after={position}", headers=api.headers("other_tenant")
    ).json()
    assert other["purposes"] == {}
    assert other["subject_id"] != recorded["results"][0]["subject_id"]
    history = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers("other_tenant")
    ).json()
    assert history["events"] == []


def test_a_read_after_a_position_the_ledger_never_recorded_is_refused_at_once(api: Api) -> None:
    # (A recorded position the read model has not applied yet waits, then answers 503:
    # tests/integration/test_read_waiters.py.)
    response = api.client.get(f"/v1/subjects/whatsapp/{ALICE}?after=999999", headers=api.headers())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_position"


def test_a_bad_address_in_the_path_names_the_field(api: Api) -> None:
    response = api.client.get("/v1/subjects/whatsapp/not-a-number", headers=api.headers())
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "address"
