"""Importing reassigned-number query results and ``consent_invalidated`` rows (issue 20,
part 1): each positive answer invalidates the consent on record; on both backends."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Api

ALICE, BOB, CAROL = "+14155550100", "+14155550101", "+14155550102"

RESULTS = (
    "address,queried_at,result\n"
    f"{ALICE},2026-02-01T08:00:00Z,yes\n"
    f"{BOB},2026-02-01T08:00:00Z,no\n"
    f"{CAROL},2026-02-01T08:00:00Z,no_data\n"
    "not-a-number,2026-02-01T08:00:00Z,yes\n"
)


def csv_post(api: Api, path: str, text: str) -> Any:
    headers = {**api.headers("ingest"), "content-type": "text/csv"}
    return api.client.post(path, headers=headers, content=text.encode())


def opted_in(api: Api, *addresses: str) -> None:
    rows = "".join(
        f"whatsapp,{a},opted_in,marketing,2026-01-10T09:00:00Z,web_form\n" for a in addresses
    )
    response = csv_post(
        api, "/v1/imports", "channel,address,type,purposes,occurred_at,method\n" + rows
    )
    assert response.json()["accepted"] == len(addresses), response.text


def test_a_query_file_invalidates_the_numbers_it_answers_yes_for(api: Api) -> None:
    # Given three opted-in subjects
    opted_in(api, ALICE, BOB, CAROL)
    # When the FCC database's answers are imported
    path = "/v1/imports/reassigned-numbers?channel=whatsapp&data_source=fcc_rnd"
    response = csv_post(api, path, RESULTS)
    assert response.status_code == 200, response.text
    report = response.json()
    # Then the yes is recorded, the no and no_data change nothing, the bad row is reported
    assert (report["rows"], report["accepted"], report["unchanged"]) == (4, 1, 2)
    assert [r["field"] for r in report["rejected"]] == ["address"]
    # ... Alice is out of every purpose; re-importing the file records nothing new
    history = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers("auditor")
    ).json()["events"]
    position = history[-1]["position"]
    assert history[-1]["number_check"] == {
        "data_source": "fcc_rnd",
        "queried_at": "2026-02-01T08:00:00.000000Z",
        "result": "yes",
    }
    assert history[-1]["evidence"]["method"] == "import"
    response = api.client.post(
        f"/v1/eligibility?after={position}",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": "marketing", "addresses": [ALICE, BOB, CAROL]},
    )
    found = [json.loads(line)["reason"] for line in response.text.splitlines() if line]
    assert found == ["invalidated", "opted_in", "opted_in"]
    again = csv_post(api, path, RESULTS).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)


def test_a_general_import_takes_consent_invalidated_rows(api: Api) -> None:
    opted_in(api, ALICE)
    response = csv_post(
        api,
        "/v1/imports",
        "channel,address,type,occurred_at,reason,data_source,queried_at,result\n"
        f"whatsapp,{ALICE},consent_invalidated,2026-02-01T08:00:00Z,number_disconnected,"
        "carrier_lookup,2026-02-01T08:00:00Z,not_in_service\n"
        f"whatsapp,{BOB},consent_invalidated,2026-02-01T08:00:00Z,moved,"
        "carrier_lookup,2026-02-01T08:00:00Z,x\n",
    )
    report = response.json()
    assert (report["accepted"], [r["field"] for r in report["rejected"]]) == (1, ["reason"])
    history = api.client.get(
        f"/v1/subjects/whatsapp/{ALICE}/history", headers=api.headers("auditor")
    ).json()["events"]
    assert history[-1]["reason"] == "number_disconnected"


def test_a_query_file_with_a_wrong_reason_is_refused_whole(api: Api) -> None:
    path = "/v1/imports/reassigned-numbers?channel=whatsapp&reason=moved"
    response = csv_post(api, path, RESULTS)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "reason"
    assert csv_post(api, "/v1/imports/reassigned-numbers?channel=fax", RESULTS).status_code == 422
