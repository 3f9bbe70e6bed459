"""The auditor console over HTTP, on both backends: sign in with a key, a server-side
session, tenant scope, CSRF, the timeline and the status as of a date (the same service
as ``GET …/consent?as_of=``)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ledger.application.api_keys import AccessRegistry
from ledger.runtime.storage_settings import StorageSettings, access_env
from tests.e2e.conftest import Api

ALICE = "+14155550100"


def record_alice(api: Api) -> None:
    event = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": "form-991"},
        "evidence": {"method": "web_form", "text": "I agree to receive offers from Acme"},
    }
    response = api.client.post("/v1/events", json={"events": [event]}, headers=api.headers())
    assert response.is_success, response.text
    stop = {"channel": "whatsapp", "from": ALICE, "text": "STOP", "message_id": "wamid.7"}
    answer = api.client.post("/v1/messages/inbound", json=stop, headers=api.headers())
    assert answer.json()["action"] == "opted_out"
    position = answer.json()["position"]
    api.client.get(f"/v1/subjects/whatsapp/{ALICE}?after={position}", headers=api.headers())


def sign_in(client: TestClient, key: str) -> int:
    form = client.get("/console/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert token is not None
    response = client.post(
        "/console/signin",
        data={"api_key": key, "signin_token": token.group(1)},
        follow_redirects=False,
    )
    return response.status_code


def test_an_auditor_signs_in_and_sees_the_timeline_and_status(api: Api) -> None:
    record_alice(api)
    assert api.client.get("/console", follow_redirects=False).status_code == 303

    assert sign_in(api.client, api.keys["auditor"]) == 303
    cookie = api.client.cookies.get("consent_console")
    assert cookie is not None
    assert api.keys["auditor"] not in cookie
    page = api.client.get("/console", params={"channel": "whatsapp", "address": ALICE})

    assert page.status_code == 200
    assert api.keys["auditor"] not in page.text
    assert "I agree to receive offers from Acme" in page.text  # what the person saw
    assert "wamid.7" in page.text  # the gateway's message id
    assert "STOP" in page.text
    assert "opted_out" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_the_session_cookie_is_httponly_and_samesite_strict(api: Api) -> None:
    form = api.client.get("/console/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert token is not None
    response = api.client.post(
        "/console/signin",
        data={"api_key": api.keys["auditor"], "signin_token": token.group(1)},
        follow_redirects=False,
    )
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie


def test_status_as_of_a_date_before_the_stop_shows_the_opt_in(api: Api) -> None:
    record_alice(api)
    # Recorded today: at the end of yesterday the ledger held nothing; the JSON route
    # and the page answer from the same fold.
    before = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/consent",
        params={"as_of": "2020-01-01T00:00:00Z"},
        headers=api.headers("auditor"),
    )
    assert before.status_code == 200
    assert before.json()["events"] == 0
    assert before.json()["purposes"] == {}
    now = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/consent",
        params={"as_of": "2100-01-01T00:00:00Z"},
        headers=api.headers("auditor"),
    ).json()
    assert now["events"] == 2
    assert now["purposes"]["*"]["status"] == "opted_out"

    sign_in(api.client, api.keys["auditor"])
    page = api.client.get(
        "/console", params={"channel": "whatsapp", "address": ALICE, "as_of": "2020-01-01"}
    )
    assert "Status as of 2020-01-01T23:59:59" in page.text
    assert "The ledger held 0 of this subject" in page.text


def test_a_bad_as_of_names_the_field(api: Api) -> None:
    answer = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/consent",
        params={"as_of": "yesterday"},
        headers=api.headers("auditor"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "as_of"


def test_another_tenants_key_sees_nothing_of_the_first(api: Api) -> None:
    record_alice(api)
    # The fixture's "other_tenant" key has the auditor role of tenant globex.
    assert sign_in(api.client, api.keys["other_tenant"]) == 303
    page = api.client.get("/console", params={"channel": "whatsapp", "address": ALICE})
    assert "holds no events" in page.text
    assert "I agree to receive offers" not in page.text
    download = api.client.get(f"/console/subjects/whatsapp/{ALICE}/attestation")
    assert download.status_code == 404


def test_a_key_without_auditor_role_and_a_forged_form_are_refused(api: Api) -> None:
    assert sign_in(api.client, api.keys["campaign"]) == 403
    assert sign_in(api.client, "not-a-key") == 401
    forged = api.client.post(
        "/console/signin", data={"api_key": api.keys["auditor"], "signin_token": "x"}
    )
    assert forged.status_code == 403
    assert api.client.cookies.get("consent_console") is None


def test_sign_out_ends_the_session(api: Api) -> None:
    sign_in(api.client, api.keys["auditor"])
    page = api.client.get("/console")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    cookie = api.client.cookies.get("consent_console")
    api.client.post("/console/signout", data={"csrf": csrf.group(1)}, follow_redirects=False)
    api.client.cookies.set("consent_console", cookie or "", path="/console")
    assert api.client.get("/console", follow_redirects=False).status_code == 303


def test_the_operations_summary_counts_the_days_opt_ins_and_outs(api: Api) -> None:
    record_alice(api)
    answer = api.client.get("/v1/operations/summary", headers=api.headers("admin"))
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    kinds = {(r["kind"], r["method"], r["keyword"]): r["count"] for r in summary["daily"]}
    assert kinds[("opt_in", "web_form", "")] == 1
    assert kinds[("opt_out", "keyword", "STOP")] == 1
    assert summary["read_model_lag"] == 0  # record_alice waited for the read model
    assert summary["checkpoint_tree_size"] is None  # the fixture's serve does not seal
    assert summary["publisher"] == "embedded"
    refused = api.client.get("/v1/operations/summary", headers=api.headers("auditor"))
    assert refused.status_code == 403


def test_the_operations_page_is_for_admins(api: Api) -> None:
    record_alice(api)
    sign_in(api.client, api.keys["auditor"])
    assert api.client.get("/console/operations").status_code == 403
    sign_in(api.client, api.keys["admin"])
    page = api.client.get("/console/operations")
    assert page.status_code == 200
    assert '<rect class="bar"' in page.text
    assert "1 opt-outs by keyword" in page.text


def test_a_bad_number_or_date_in_the_search_names_the_field(api: Api) -> None:
    sign_in(api.client, api.keys["auditor"])
    bad_number = api.client.get("/console", params={"channel": "whatsapp", "address": "12"})
    assert bad_number.status_code == 422
    assert 'id="search-error">address:' in bad_number.text
    bad_date = api.client.get(
        "/console", params={"channel": "whatsapp", "address": ALICE, "as_of": "31/12/2026"}
    )
    assert bad_date.status_code == 422
    assert 'id="search-error">as_of:' in bad_date.text


def test_revoking_the_key_ends_its_console_sessions(api: Api, storage: StorageSettings) -> None:
    sign_in(api.client, api.keys["auditor"])
    assert api.client.get("/console", follow_redirects=False).status_code == 200
    key_id = api.keys["auditor"].split("_")[1]
    with AccessRegistry(access_env(storage)) as registry:
        registry.revoke(key_id)
    assert api.client.get("/console", follow_redirects=False).status_code == 303


def test_an_erased_subject_shows_as_erased(api: Api) -> None:
    record_alice(api)
    erased = api.client.delete(
        f"/v1/subjects/whatsapp/{ALICE}/personal-data", headers=api.headers("admin")
    )
    assert erased.status_code == 200, erased.text
    sign_in(api.client, api.keys["auditor"])
    page = api.client.get("/console", params={"channel": "whatsapp", "address": ALICE})
    assert 'id="erased"' in page.text
    assert "Personal data erased" in page.text
    assert "I agree to receive offers from Acme" not in page.text  # unreadable now


def test_a_contact_id_finds_every_number_of_the_person_in_the_tenant_only(api: Api) -> None:
    events = [
        {
            "type": "opted_in",
            "channel": channel,
            "address": address,
            "purposes": ["marketing"],
            "occurred_at": "2026-11-21T09:00:00Z",
            "source": {"kind": "web_form", "id": f"form-{address}"},
            "evidence": {"method": "web_form"},
            "contact_id": "cust-42",
        }
        for channel, address in (("whatsapp", ALICE), ("sms", "+14155550101"))
    ]
    stored = api.client.post("/v1/events", json={"events": events}, headers=api.headers())
    assert stored.status_code == 200, stored.text
    assert sign_in(api.client, api.keys["auditor"]) == 303

    page = api.client.get("/console", params={"contact": "cust-42"})
    assert page.status_code == 200
    assert "/console?channel=whatsapp&amp;address=%2B14155550100" in page.text
    assert "/console?channel=sms&amp;address=%2B14155550101" in page.text
    unknown = api.client.get("/console", params={"contact": "cust-43"})
    assert 'id="contact-not-found"' in unknown.text
    bad = api.client.get("/console", params={"contact": "tab\there"})
    assert bad.status_code == 422
    assert "contact_id" in bad.text

    other = TestClient(api.client.app)
    assert sign_in(other, api.keys["other_tenant"]) == 303  # globex: auditor too
    theirs = other.get("/console", params={"contact": "cust-42"})
    assert 'id="contact-not-found"' in theirs.text
    assert "14155550101" not in theirs.text
