"""The consent lifecycle in the standard records and the revocation report, on both
backends: a lapsed grant is ``ConsentExpired`` in its 27560 record, and a gateway opt-out
held by the burst guard, then released, is a revocation whose hold counts against the
limit."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from jsonschema import Draft202012Validator

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.lapses import LapsingSubject, lapse_due
from ledger.application.signals.holds import HoldDecision, decide_hold
from ledger.application.signals.recorder import SignalRecorder
from ledger.application.tenants.book import TenantSettingsBook
from ledger.attestation.campaigns.receipts import CampaignReceipts
from ledger.attestation.consent_records import dpv_records, read_consent
from ledger.attestation.revocations import revocations
from ledger.crypto.secret_box import SecretBox
from ledger.domain.compliance_policy import CompliancePolicy
from ledger.domain.subjects import resolve_subject
from tests.support.commands import gateway_opt_out, opt_in

SCHEMA = Path(__file__).resolve().parents[2] / "vendor/consent-schemas/dpv-27560-record.schema.json"
ALICE, BOB, CAROL = "+14155550100", "+14155550101", "+14155550102"


def test_a_lapsed_grant_is_consent_expired_in_its_record(ledger: ConsentLedger) -> None:
    book = TenantSettingsBook(ledger, SecretBox(None))
    book.change_lapse_policy("acme", {"marketing": 12}, changed_by="test")
    old = opt_in(ALICE)
    ledger.record(replace(old, occurred_at=old.occurred_at - timedelta(days=400)))
    assert lapse_due(ledger, [LapsingSubject("acme", "whatsapp", ALICE)])
    document = dpv_records(
        read_consent(ledger, resolve_subject("acme", "whatsapp", ALICE)), CompliancePolicy()
    )
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    assert list(validator.iter_errors(document)) == []
    [record] = document["@graph"]
    assert [p["@type"] for p in record["dct:hasPart"]] == ["dpv:ConsentGiven", "dpv:ConsentExpired"]
    assert record["dpv:hasConsentStatus"] == "dpv:ConsentExpired"


def test_a_released_held_opt_out_is_a_revocation(ledger: ConsentLedger) -> None:
    # Given a burst guard that holds the second gateway opt-out of the hour
    book = TenantSettingsBook(ledger, SecretBox(None))
    book.change_burst_guard(
        "acme", enabled=True, max_opt_outs=1, window_seconds=3600, changed_by="t"
    )
    for address in (ALICE, BOB, CAROL):
        ledger.record(opt_in(address))
    signals = SignalRecorder(ledger)
    for address in (ALICE, BOB):
        signals.record_signal(gateway_opt_out(address))
    # When the admin releases Bob's held opt-out
    decide_hold(ledger, "acme", "whatsapp", BOB, HoldDecision.RELEASE, decided_by="admin-key")
    # Then the report has both opt-outs; Bob's was received when the gateway said
    rows = [
        r.to_json()
        for r in revocations(ledger, CampaignReceipts(ledger), CompliancePolicy(), "acme")
    ]
    bob = resolve_subject("acme", "whatsapp", BOB).id
    assert len(rows) == 2
    [released] = [row for row in rows if row["subject_id"] == str(bob)]
    history = {
        e.document["type"]: e.document for e in ledger.history("acme", "whatsapp", BOB).entries
    }
    assert "opt_out_held" in history  # it was held, not recorded at once
    assert released["event_id"] == history["held_opt_out_released"]["event_id"]
    assert released["received_at_gateway"] <= released["received_at_ledger"]
    assert released["flags"] == ""
