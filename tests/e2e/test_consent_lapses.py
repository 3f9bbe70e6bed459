"""Consent that lapses (issue 20, part 2): a tenant's policy per purpose, lapses_at in
eligibility answers, ``consent_lapsed`` recorded by the expiry pass, re-permission before
the lapse; on both backends, and ``consent-ledger expire`` on the embedded default."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from api.cli.lapse_pass import lapse_pass
from api.services import Services
from ledger.application.consent_ledger import ConsentLedger
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox
from ledger.domain.consent_status import Status
from ledger.domain.times import format_time, utc_now
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_status.projection import ConsentStatusProjection
from tests.e2e.conftest import Api
from tests.support.commands import opt_in as command
from tests.support.processes import clean_env, run_cli

OLD, RECENT, RENEWED = "+14155550100", "+14155550101", "+14155550102"


def opt_in(api: Api, address: str, occurred_at: str) -> int:
    response = api.client.post(
        "/v1/events",
        headers=api.headers("ingest"),
        json={
            "events": [
                {
                    "type": "opted_in",
                    "channel": "whatsapp",
                    "address": address,
                    "purposes": ["marketing", "utility"],
                    "occurred_at": occurred_at,
                    "source": {"kind": "web_form", "id": f"{address}-{occurred_at}"},
                    "evidence": {"method": "web_form"},
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    position: int = response.json()["results"][0]["position"]
    return position


def eligibility(api: Api, purpose: str, *addresses: str, after: int) -> list[dict[str, Any]]:
    response = api.client.post(
        f"/v1/eligibility?after={after}",
        headers=api.headers("campaign"),
        json={"channel": "whatsapp", "purpose": purpose, "addresses": list(addresses)},
    )
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines() if line]


def set_policy(api: Api, months: dict[str, Any]) -> Any:
    return api.client.put(
        "/v1/tenants/acme/lapse-policy", headers=api.headers("admin"), json={"months": months}
    )


def test_a_grant_older_than_the_policy_lapses_and_a_renewed_one_does_not(api: Api) -> None:
    now = utc_now()
    # Given marketing grants lapse after 12 months
    response = set_policy(api, {"marketing": 12})
    assert response.status_code == 200, response.text
    assert response.json()["months"] == {"marketing": 12}
    # ... a grant of 13 months ago, one of last month, and one of 13 months ago renewed
    opt_in(api, OLD, format_time(now - timedelta(days=400)))
    opt_in(api, RECENT, format_time(now - timedelta(days=30)))
    opt_in(api, RENEWED, format_time(now - timedelta(days=400)))
    # ... renewed through a re-permission request, allowed while the grant is in force
    request = api.client.post(
        "/v1/optin-requests",
        headers=api.headers("ingest"),
        json={
            "channel": "whatsapp",
            "address": RENEWED,
            "purposes": ["marketing"],
            "template": {"id": "renew", "version": "1", "text": "Still want offers? YES"},
            "business_name": "Acme",
        },
    )
    assert request.status_code == 201, request.text
    answer = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers("ingest"),
        json={"channel": "whatsapp", "from": RENEWED, "text": "YES", "message_id": "wamid.r1"},
    )
    assert answer.json()["action"] == "accepted", answer.text
    position = answer.json()["position"]
    # Then eligibility tells when each grant lapses (none for a purpose without policy)
    old, recent, renewed = eligibility(api, "marketing", OLD, RECENT, RENEWED, after=position)
    assert recent["lapses_at"] is not None
    assert recent["lapses_at"] > format_time(now + timedelta(days=300))
    assert renewed["lapses_at"] > format_time(now + timedelta(days=360))
    assert old["lapses_at"] < format_time(now)  # due, not yet recorded: still opted in
    [utility] = eligibility(api, "utility", OLD, after=position)
    assert utility["lapses_at"] is None
    subject = api.client.get(f"/v1/subjects/whatsapp/{RECENT}", headers=api.headers("campaign"))
    purposes = subject.json()["purposes"]
    assert purposes["marketing"]["lapses_at"] == recent["lapses_at"]
    assert purposes["utility"]["lapses_at"] is None
    # When the expiry pass runs (as consent-ledger expire does)
    services: Services = api.client.app.state.services  # type: ignore[attr-defined]
    view = services.consent_status
    assert isinstance(view, ConsentStatusProjection)
    assert lapse_pass(services.ledger, view, utc_now(), 1000) == 1
    assert lapse_pass(services.ledger, view, utc_now(), 1000) == 0  # once
    # Then only the old grant lapsed, for marketing only, with a consent_lapsed event
    history = api.client.get(
        f"/v1/subjects/whatsapp/{OLD}/history", headers=api.headers("auditor")
    ).json()["events"]
    last = history[-1]
    assert (last["type"], last["purposes"], last["months"]) == ("consent_lapsed", ["marketing"], 12)
    old, recent, renewed = eligibility(
        api, "marketing", OLD, RECENT, RENEWED, after=last["position"]
    )
    assert (old["eligible"], old["reason"], old["lapses_at"]) == (False, "lapsed", None)
    assert (recent["reason"], renewed["reason"]) == ("opted_in", "opted_in")
    [utility] = eligibility(api, "utility", OLD, after=last["position"])
    assert utility["reason"] == "opted_in"
    # ... and a new opt-in brings it back
    position = opt_in(api, OLD, format_time(utc_now() - timedelta(seconds=1)))
    [old] = eligibility(api, "marketing", OLD, after=position)
    assert old["reason"] == "opted_in"


def test_a_bad_lapse_policy_is_refused_naming_the_purpose(api: Api) -> None:
    response = set_policy(api, {"marketing": 0})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "months.marketing"
    assert set_policy(api, {"marketing": "soon"}).status_code == 422
    other = api.client.put(
        "/v1/tenants/globex/lapse-policy", headers=api.headers("admin"), json={"months": {}}
    )
    assert other.status_code == 403
    policy = api.client.get("/v1/tenants/acme/lapse-policy", headers=api.headers("admin"))
    assert policy.json()["months"] == {}


def test_consent_ledger_expire_records_lapses_on_the_embedded_default(tmp_path: Path) -> None:
    storage = StorageSettings(database_url=None, sqlite_path=tmp_path / "consent-ledger.db")
    ledger = ConsentLedger(storage.eventsourcing_env())
    try:
        TenantSettingsBook(ledger, SecretBox(None)).change_lapse_policy(
            "acme", {"marketing": 6}, changed_by="test"
        )
        old = command(OLD)
        ledger.record(replace(old, occurred_at=utc_now() - timedelta(days=200)))
        ledger.record(command(RECENT))
        env = clean_env(CONSENT_LEDGER_SQLITE_PATH=str(storage.sqlite_path))
        done = run_cli("expire", env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert '"lapsed": 1' in done.stderr or '"lapsed":1' in done.stderr, done.stderr
        statuses = {
            address: ledger.state_of("acme", "whatsapp", address).status_of("marketing")
            for address in (OLD, RECENT)
        }
        assert {a: s.status if s else None for a, s in statuses.items()} == {
            OLD: Status.LAPSED,
            RECENT: Status.OPTED_IN,
        }
    finally:
        ledger.close()
