"""Sender scope through the HTTP API, on both backends: with the tenant's opt-out scope
set to ``sender``, a STOP sent to one sender withdraws consent for that sender only, and
status, eligibility and audiences answer per sender (with none named, the opt-out
counts); with the default ``channel`` scope a STOP to any sender covers them all."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Api
from tests.support.processes import CLI, clean_env
from tests.support.webhooks import log_size

ALICE, BOB = "+14155550111", "+14155550122"


def opt_in(api: Api, address: str) -> int:
    event = {
        "type": "opted_in",
        "channel": "sms",
        "address": address,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": f"form-{address}"},
        "evidence": {"method": "web_form", "text": "I agree"},
    }
    response = api.client.post("/v1/events", headers=api.headers(), json={"events": [event]})
    assert response.status_code == 200, response.text
    position: int = response.json()["results"][0]["position"]
    return position


def text(api: Api, address: str, words: str, sender: str, message_id: str) -> dict[str, Any]:
    body = {"channel": "sms", "from": address, "text": words, "message_id": message_id}
    response = api.client.post(
        "/v1/messages/inbound", headers=api.headers(), json={**body, "sender": sender}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def set_scope(api: Api, scope: str) -> dict[str, Any]:
    response = api.client.put(
        "/v1/tenants/acme/opt-out-scope", json={"scope": scope}, headers=api.headers("admin")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def status(api: Api, address: str, after: int, sender: str | None = None) -> dict[str, Any]:
    query = f"?after={after}" + (f"&sender={sender}" if sender else "")
    response = api.client.get(f"/v1/subjects/sms/{address}{query}", headers=api.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def eligible(api: Api, after: int, sender: str | None = None) -> dict[str, bool]:
    body: dict[str, Any] = {"channel": "sms", "purpose": "marketing", "addresses": [ALICE, BOB]}
    if sender:
        body["sender"] = sender
    response = api.client.post(
        f"/v1/eligibility?after={after}", json=body, headers=api.headers("campaign")
    )
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines() if line]
    return {line["address"]: line["eligible"] for line in lines}


def audience(api: Api, after: int, sender: str | None = None) -> set[str]:
    query = f"?after={after}" + (f"&sender={sender}" if sender else "")
    response = api.client.get(
        f"/v1/audiences/sms/marketing{query}", headers=api.headers("campaign")
    )
    assert response.status_code == 200, response.text
    found = {json.loads(line)["address"] for line in response.text.splitlines() if line}
    count = api.client.get(
        f"/v1/audiences/sms/marketing/count{query}", headers=api.headers("campaign")
    ).json()["count"]
    assert count == len(found)
    return found


def suppressed(api: Api, after: int, sender: str | None = None) -> set[tuple[str, str]]:
    query = f"?after={after}" + (f"&sender={sender}" if sender else "")
    response = api.client.get(f"/v1/suppressions/sms{query}", headers=api.headers("campaign"))
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines() if line]
    return {(line["address"], line["purpose"]) for line in lines}


def test_a_stop_to_one_sender_withdraws_consent_for_that_sender_only(api: Api) -> None:
    # Given a tenant whose opt-outs are scoped to the sender, and two opted-in people
    assert set_scope(api, "sender")["opt_out_scope"] == "sender"
    opt_in(api, ALICE)
    opt_in(api, BOB)
    # When Alice texts STOP to brand A
    stop = text(api, ALICE, "STOP", "brand-a", "m1")
    after = stop["position"]
    # Then she is out for brand A only
    assert status(api, ALICE, after, "brand-a")["purposes"]["marketing"]["status"] == "opted_out"
    assert status(api, ALICE, after, "brand-b")["purposes"]["marketing"]["status"] == "opted_in"
    plain = status(api, ALICE, after)
    assert plain["purposes"]["marketing"]["status"] == "opted_in"  # the channel's own status
    assert plain["senders"]["brand-a"]["marketing"]["status"] == "opted_out"
    assert eligible(api, after, "brand-b") == {ALICE: True, BOB: True}
    assert eligible(api, after, "brand-a") == {ALICE: False, BOB: True}
    assert eligible(api, after) == {ALICE: False, BOB: True}  # no sender named: safer
    assert audience(api, after, "brand-b") == {ALICE, BOB}
    assert audience(api, after, "brand-a") == {BOB}
    assert audience(api, after) == {BOB}
    assert suppressed(api, after, "brand-a") == {(ALICE, "*"), (ALICE, "marketing")}
    assert suppressed(api, after, "brand-b") == set()
    assert suppressed(api, after) == {(ALICE, "*"), (ALICE, "marketing")}
    # And an opt-in sent to brand B does not lift it; one sent to brand A does
    after = text(api, ALICE, "START", "brand-b", "m2")["position"]
    assert eligible(api, after, "brand-a") == {ALICE: False, BOB: True}
    after = text(api, ALICE, "START", "brand-a", "m3")["position"]
    assert eligible(api, after, "brand-a") == {ALICE: True, BOB: True}
    # (as on the channel: START restores the purposes on record; "*", the purposes never
    # named, stays withdrawn for brand A)
    assert set(status(api, ALICE, after)["senders"]["brand-a"]) == {"*"}


def test_with_the_default_channel_scope_a_stop_to_one_sender_covers_them_all(api: Api) -> None:
    shown = api.client.get("/v1/tenants/acme", headers=api.headers("admin")).json()
    assert shown["opt_out_scope"] == "channel"
    opt_in(api, BOB)
    after = text(api, BOB, "STOP", "brand-a", "m1")["position"]
    assert eligible(api, after, "brand-b")[BOB] is False
    assert audience(api, after, "brand-b") == set()
    history = api.client.get(f"/v1/subjects/sms/{BOB}/history", headers=api.headers("auditor"))
    evidence = history.json()["events"][-1]["evidence"]
    assert evidence["sender"] == "brand-a"
    assert "opt_out_scope" not in evidence


def test_an_unknown_scope_is_refused_naming_the_field(api: Api) -> None:
    response = api.client.put(
        "/v1/tenants/acme/opt-out-scope", json={"scope": "brand"}, headers=api.headers("admin")
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "scope"
    audit = api.client.get("/v1/tenants/acme/history", headers=api.headers("auditor")).json()
    assert audit["events"] == []


def test_the_cli_sets_the_scope_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(tmp_path / "ledger.db"))

    def configure(document: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, "tenants", "configure", "acme"],
            input=json.dumps(document),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    configured = configure({"opt_out_scope": "sender"})
    assert configured.returncode == 0, configured.stderr
    assert json.loads(configured.stdout)["opt_out_scope"] == "sender"
    refused = configure({"opt_out_scope": "brand"})
    assert refused.returncode == 2
    assert "opt_out_scope" in refused.stderr


def test_an_imported_opt_out_with_a_sender_column_is_scoped_to_it(api: Api) -> None:
    set_scope(api, "sender")
    opt_in(api, ALICE)
    csv_body = (
        "channel,address,type,purposes,occurred_at,sender\n"
        f"sms,{ALICE},opted_out,marketing,2026-11-21T10:00:00Z,brand-a\n"
    )
    headers = {**api.headers(), "content-type": "text/csv"}
    report = api.client.post("/v1/imports", headers=headers, content=csv_body.encode()).json()
    assert report["accepted"] == 1, report
    after = log_size(api)  # the import's position: the last of the log
    assert eligible(api, after, "brand-a")[ALICE] is False
    assert eligible(api, after, "brand-b")[ALICE] is True
