"""Events stored before senders were recorded (no ``sender`` in their evidence) read as
they always did, on both backends: their hashes verify, they publish and decode, and
their opt-outs cover every sender."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from ledger.application.consent_ledger import ConsentLedger
from ledger.crypto.chain import event_hash
from ledger.domain.commands import CaptureMethod, Evidence, RecordConsent, Source
from ledger.domain.consent_status import Status
from ledger.publishing.cloudevents import decode, encode

ALICE = "+14155550133"


def record(ledger: ConsentLedger, kind: str, minute: int) -> None:
    ledger.record(
        RecordConsent(
            tenant="acme",
            channel="sms",
            address=ALICE,
            type=kind,
            purposes=("marketing",),
            occurred_at=datetime(2026, 11, 1, 9, minute, tzinfo=UTC),
            source=Source(kind="web_form", id=f"f-{minute}"),
            evidence=Evidence(method=CaptureMethod.WEB_FORM),
        )
    )


def test_events_without_a_sender_read_verify_publish_and_cover_every_sender(
    ledger: ConsentLedger,
) -> None:
    record(ledger, "opted_in", 0)
    record(ledger, "opted_out", 1)
    stored = ledger.recorder.select_notifications(start=None, limit=10)
    # The stored shape is the old one: no sender, no scope in the evidence
    for notification in stored:
        evidence = orjson.loads(notification.state)["evidence"]
        assert "sender" not in evidence
        assert "opt_out_scope" not in evidence
        event = ledger.ledger_event(notification)
        assert event_hash(event) == event.hash
        assert decode(encode(event, notification.id).value).event == event
    state = ledger.state_of("acme", "sms", ALICE)
    for sender in ("brand-a", "brand-b", None):
        found = state.status_for("marketing", sender)
        assert found is not None
        assert found.status is Status.OPTED_OUT
        assert found.sender is None
