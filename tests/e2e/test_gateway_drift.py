"""Drift with the gateways (issue 20, part 3): a gateway's opt-out list compared with
the ledger, over HTTP on both backends and with ``consent-ledger reconcile``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.support.commands import message, opt_in
from tests.support.processes import clean_env, run_cli

AGREED, MISSED, ONLY_HERE, STILL_IN = (f"+1415555010{i}" for i in range(4))


def record(api: Api, address: str, kind: str, purposes: list[str]) -> int:
    response = api.client.post(
        "/v1/events",
        headers=api.headers("ingest"),
        json={
            "events": [
                {
                    "type": kind,
                    "channel": "whatsapp",
                    "address": address,
                    "purposes": purposes,
                    "occurred_at": "2026-01-10T09:00:00Z",
                    "source": {"kind": "web_form", "id": f"{address}-{kind}"},
                    "evidence": {"method": "web_form"},
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    position: int = response.json()["results"][0]["position"]
    return position


def reconcile(api: Api, body: str, query: str) -> Any:
    headers = {**api.headers("admin"), "content-type": "text/csv"}
    return api.client.post(
        f"/v1/reconciliations/gupshup?channel=whatsapp&{query}",
        headers=headers,
        content=body.encode(),
    )


def test_a_gateways_list_is_compared_and_the_missed_opt_outs_recorded(api: Api) -> None:
    # Given the ledger: one opted out everywhere, one opted in, one opted out only here,
    # one opted out of marketing only
    for address in (AGREED, ONLY_HERE):
        record(api, address, "opted_out", [])
    record(api, MISSED, "opted_in", ["marketing"])
    position = record(api, STILL_IN, "opted_out", ["marketing"])
    # And Gupshup's opt-out list names the first, the second, the fourth and a bad row
    listed = f"address\n{AGREED}\n{MISSED}\n{STILL_IN}\nnot-a-number\n"
    # When it is compared, without recording
    response = reconcile(api, listed, f"after={position}&list_id=2026-12-01")
    assert response.status_code == 200, response.text
    report = response.json()
    # Then the report names each difference, and nothing is recorded
    assert (report["listed"], report["in_agreement"], report["recorded"]) == (4, 1, 0)
    assert report["missing_in_ledger"] == {"count": 2, "addresses": [MISSED, STILL_IN]}
    assert report["missing_at_gateway"] == {"count": 1, "addresses": [ONLY_HERE]}
    assert [row["row"] for row in report["invalid"]] == [5]
    history = api.client.get(
        f"/v1/subjects/whatsapp/{MISSED}/history", headers=api.headers("auditor")
    ).json()["events"]
    assert [e["type"] for e in history] == ["opted_in"]
    # When it is compared again, recording
    report = reconcile(api, listed, f"after={position}&list_id=2026-12-01&record=true").json()
    assert report["recorded"] == 2
    # Then the missed opt-outs are gateway opt-outs, naming the list
    last = api.client.get(
        f"/v1/subjects/whatsapp/{MISSED}/history", headers=api.headers("auditor")
    ).json()["events"][-1]
    assert (last["type"], last["all_purposes"]) == ("opted_out", True)
    assert last["source"] == {"kind": "gupshup_opt_out_list", "id": f"2026-12-01:{MISSED}"}
    assert last["evidence"]["method"] == "provider_signal"
    # ... and the same list again records nothing twice
    latest = api.client.get(
        f"/v1/subjects/whatsapp/{STILL_IN}/history", headers=api.headers("auditor")
    ).json()["events"][-1]["position"]
    again = reconcile(api, listed, f"after={latest}&list_id=2026-12-01&record=true")
    assert (again.json()["recorded"], again.json()["in_agreement"]) == (0, 3)


def test_a_suspicious_list_is_held_by_the_burst_guard(api: Api) -> None:
    response = api.client.put(
        "/v1/tenants/acme/burst-guard",
        headers=api.headers("admin"),
        json={"enabled": True, "max_opt_outs": 1, "window_seconds": 3600},
    )
    assert response.status_code == 200
    position = 0
    for address in (MISSED, STILL_IN, ONLY_HERE):
        position = record(api, address, "opted_in", ["marketing"])
    listed = f"address\n{MISSED}\n{STILL_IN}\n{ONLY_HERE}\n"
    report = reconcile(api, listed, f"after={position}&record=true").json()
    assert (report["recorded"], report["held"]) == (1, 2)


def test_a_bad_list_is_refused_naming_the_field(api: Api) -> None:
    assert reconcile(api, "phone\n+14155550100\n", "").json()["error"]["field"] == "header"
    response = reconcile(api, "address\n", "list_id=" + "x" * 65)
    assert (response.status_code, response.json()["error"]["field"]) == (422, "list_id")
    campaign = {**api.headers("campaign"), "content-type": "text/csv"}
    forbidden = api.client.post(
        "/v1/reconciliations/gupshup?channel=whatsapp", headers=campaign, content=b"address\n"
    )
    assert forbidden.status_code == 403


def test_consent_ledger_reconcile_prints_the_report(tmp_path: Path) -> None:
    storage = StorageSettings(database_url=None, sqlite_path=tmp_path / "consent-ledger.db")
    with ConsentLedger(storage.eventsourcing_env()) as ledger:
        ledger.record(opt_in(MISSED))
        ledger.receive_message(message(AGREED, "STOP"))
    (tmp_path / "stop-list.csv").write_text(f"address\n{AGREED}\n{MISSED}\n")
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(storage.sqlite_path))
    args = ("reconcile", "stop-list.csv", "--gateway", "whatsapp", "--tenant", "acme")
    done = run_cli(*args, "--channel", "whatsapp", env=env, cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # they differ
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["missing_in_ledger"] == {"count": 1, "addresses": [MISSED]}
    done = run_cli(*args, "--channel", "whatsapp", "--record", env=env, cwd=tmp_path)
    assert json.loads(done.stdout)["recorded"] == 1
    done = run_cli(*args, "--channel", "whatsapp", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout  # they agree now
