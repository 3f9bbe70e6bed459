"""Every record the ledger publishes matches its JSON Schema in docs/schemas (and the
AsyncAPI document names them all)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.erasure import erase_personal_data
from ledger.application.lapses import LapsingSubject, lapse_due
from ledger.application.signals.holds import HoldDecision, decide_hold
from ledger.application.signals.recorder import SignalRecorder
from ledger.application.tenants.book import TenantSettingsBook
from ledger.attestation.campaigns.receipts import CampaignReceipts
from ledger.crypto.secret_box import SecretBox
from ledger.domain.campaign_receipts import draft_receipt
from ledger.domain.commands import Notice, Source
from ledger.domain.keywords import KeywordRules
from ledger.domain.tenants.first_message import FirstMessageRequest
from ledger.domain.tenants.gateways import Gateway
from ledger.events import LedgerEvent
from ledger.publishing.cloudevents import encode, encode_stored
from ledger.runtime.storage_settings import StorageSettings
from tests.support.commands import (
    gateway_opt_out,
    invalidation,
    message,
    opt_in,
    optin_request,
)
from tests.support.kafka import Broker, read_topic
from tests.support.pipeline import ledger_on, publisher

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def schema(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((SCHEMAS / name).read_text()))


def every_kind_of_event(ledger: ConsentLedger) -> None:
    ledger.record(opt_in("+14155550100", purposes=("marketing", "utility")))
    ledger.receive_message(message("+14155550100", "STOP"))
    confirmation = opt_in("+14155550100", kind="confirmation_sent", purposes=())
    ledger.record(replace(confirmation, source=Source("outbound", "cnf.1")))
    for address, answer in (("+14155550101", "YES"), ("+14155550102", "NO")):
        ledger.request_opt_in(optin_request(address))
        ledger.receive_message(message(address, answer))
    for address, kind in (
        ("+14155550103", "opt_in_request_expired"),
        ("+14155550104", "opt_in_request_undeliverable"),
    ):
        ledger.request_opt_in(optin_request(address))
        ledger.record(opt_in(address, kind=kind, purposes=()))
    ledger.receive_message(message("+14155550105", "HELP"))
    ledger.record(invalidation("+14155550107"))
    erase_personal_data(ledger, "acme", "whatsapp", "+14155550100", reason="gdpr_art17")
    book = TenantSettingsBook(ledger, SecretBox(None))
    book.change_keywords("acme", KeywordRules(), {}, ("marketing",), changed_by="test")
    book.change_texts("acme", {"help": "Reply STOP to stop."}, changed_by="test")
    book.change_request_window("acme", timedelta(hours=12), changed_by="test")
    book.configure_gateway(
        "acme",
        Gateway.WHATSAPP,
        {"app_secret": "s3cret", "verify_token": "tok", "phone_number_id": "106540352242922"},
        changed_by="test",
    )
    book.change_capture_methods("acme", ["kiosk"], changed_by="test")
    book.change_opt_out_scope("acme", "sender", changed_by="test")
    ask = FirstMessageRequest(("marketing",), Notice("welcome", "1", "Reply YES"), "Acme")
    book.change_first_message_request("acme", ask, changed_by="test")
    ledger.receive_message(message("+14155550106", "Hello"))  # asks: evidence.triggered_by
    CampaignReceipts(ledger).record(
        draft_receipt("acme", "c-1", "whatsapp", "marketing", 1, addresses=["+14155550101"]),
        recorded_by="test",
    )
    book.change_lapse_policy("acme", {"marketing": 12}, changed_by="test")
    old = opt_in("+14155550108")
    ledger.record(replace(old, occurred_at=old.occurred_at - timedelta(days=400)))
    assert lapse_due(ledger, [LapsingSubject("acme", "whatsapp", "+14155550108")])
    book.change_burst_guard(
        "acme", enabled=True, max_opt_outs=1, window_seconds=3600, changed_by="test"
    )
    signals = SignalRecorder(ledger)
    for address in ("+14155550109", "+14155550110", "+14155550111"):
        signals.record_signal(gateway_opt_out(address))
    for address, decision in (
        ("+14155550110", HoldDecision.RELEASE),
        ("+14155550111", HoldDecision.DISMISS),
    ):
        decide_hold(ledger, "acme", "whatsapp", address, decision, decided_by="admin-key")


def test_every_published_record_matches_the_schema_of_its_type(
    pg_storage: StorageSettings, broker: Broker
) -> None:
    for ledger in ledger_on(pg_storage):
        every_kind_of_event(ledger)
        expected_events = ledger.recorder.max_notification_id()
    kafka = broker.settings()
    with publisher(pg_storage, kafka):
        events = read_topic(kafka.bootstrap_servers, kafka.events_topic, expect=expected_events)
        outbound = read_topic(kafka.bootstrap_servers, kafka.outbound_topic, expect=5)

    seen: set[str] = set()
    for record in events:
        envelope: dict[str, Any] = json.loads(record.value)
        kind = envelope["type"].removeprefix("consent.")
        errors = list(schema(f"events/{kind}.json").iter_errors(envelope))
        assert errors == [], (kind, [e.message for e in errors])
        seen.add(kind)
    assert seen == {path.stem for path in (SCHEMAS / "events").glob("*.json")}

    kinds = set()
    for record in outbound:
        document = json.loads(record.value)
        errors = list(schema("outbound.json").iter_errors(document))
        assert errors == [], [e.message for e in errors]
        kinds.add(document["kind"])
    assert kinds == {"opt_in_request", "confirmation", "help"}


def test_the_publisher_s_records_from_stored_json_equal_those_from_the_events(
    pg_storage: StorageSettings,
) -> None:
    # Given a ledger holding every kind of event
    for ledger in ledger_on(pg_storage):
        every_kind_of_event(ledger)
        notifications = ledger.recorder.select_notifications(start=1, limit=10_000)
        # When the publisher builds each record straight from the stored row
        fast = {n.id: encode_stored(n, n.id) for n in notifications}
        # Then every subject's event is built that way, byte for byte the record of the
        # event the mapper reads back (other events go through the mapper)
        for n in notifications:
            event = ledger.mapper.to_domain_event(n)
            assert (fast[n.id] is not None) == isinstance(event, LedgerEvent), n.topic
            if fast[n.id] is not None:
                assert fast[n.id] == encode(event, n.id), n.topic
        kinds = {json.loads(r.value)["type"] for r in fast.values() if r is not None}
        assert len(kinds) >= 10
