"""Managing webhook subscriptions: admin keys of the tenant only, bad input refused
naming the field with nothing stored, endpoints checked against SSRF, secrets never
shown."""

from __future__ import annotations

import base64

import pytest

from tests.e2e.conftest import Api

SECRET = "whsec_" + base64.b64encode(b"s" * 24).decode()
URL = "https://93.184.216.34/hooks"
PATH = "/v1/tenants/acme/subscriptions"


def test_a_subscription_is_created_read_listed_replaced_and_deleted(api: Api) -> None:
    admin = api.headers("admin")
    body = {"url": URL, "secret": SECRET, "event_types": ["opted_out", "opted_in"]}
    created = api.client.put(f"{PATH}/crm", json=body, headers=admin)
    assert created.status_code == 200, created.text
    shown = api.client.get(f"{PATH}/crm", headers=admin).json()
    assert shown["url"] == URL
    assert shown["event_types"] == ["opted_in", "opted_out"]
    assert SECRET not in created.text + str(shown)
    replaced = api.client.put(
        f"{PATH}/crm", json={"url": URL + "/v2", "secret": SECRET}, headers=admin
    ).json()
    assert replaced["previous_secret_until"] is None  # the same secret: no rotation
    assert replaced["event_types"] == []
    assert replaced["created_at"] == shown["created_at"]
    listed = api.client.get(PATH, headers=admin).json()["subscriptions"]
    assert [s["subscription_id"] for s in listed] == ["crm"]
    assert api.client.delete(f"{PATH}/crm", headers=admin).status_code == 204
    missing = api.client.get(f"{PATH}/crm", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "subscription_id"


def test_only_the_tenants_admin_keys_manage_subscriptions(api: Api) -> None:
    body = {"url": URL, "secret": SECRET}
    assert api.client.put(f"{PATH}/crm", json=body, headers=api.headers()).status_code == 403
    other = api.client.put(
        "/v1/tenants/globex/subscriptions/crm", json=body, headers=api.headers("admin")
    )
    assert other.status_code == 403
    assert api.client.get(PATH, headers=api.headers("admin")).json()["subscriptions"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://93.184.216.34/", "secret": SECRET}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data", "secret": SECRET}, "url"),
        ({"url": "https://10.0.0.7/hooks", "secret": SECRET}, "url"),
        ({"url": "https://[::1]:8443/", "secret": SECRET}, "url"),
        ({"url": "https://localhost/hooks", "secret": SECRET}, "url"),
        ({"url": URL, "secret": "plain-secret"}, "secret"),
        ({"url": URL, "secret": "whsec_c2hvcnQ="}, "secret"),
        ({"url": URL, "secret": SECRET, "event_types": ["opted_sideways"]}, "event_types"),
        ({"url": URL}, "secret"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    api: Api, body: dict[str, object], field: str
) -> None:
    response = api.client.put(f"{PATH}/crm", json=body, headers=api.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert api.client.get(PATH, headers=api.headers("admin")).json()["subscriptions"] == []


def test_a_bad_subscription_id_is_refused(api: Api) -> None:
    response = api.client.put(
        f"{PATH}/-bad%20id", json={"url": URL, "secret": SECRET}, headers=api.headers("admin")
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "subscription_id"
