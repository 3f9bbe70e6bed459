"""Invalidations, lapses, holds and their review flow through Kafka: the consumers'
read models equal the ledger's fold, and a released hold counts as an opt-out of its
day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.lapses import LapsingSubject, lapse_due
from ledger.application.signals.holds import HoldDecision, decide_hold
from ledger.application.signals.recorder import SignalRecorder
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_daily import ConsentDailyProjection
from projections.consent_status.projection import ConsentStatusProjection
from tests.support.commands import gateway_opt_out, invalidation, opt_in
from tests.support.kafka import Broker
from tests.support.pipeline import (
    assert_status_equals_fold,
    caught_up,
    consumers,
    daily_counts,
    expected_daily,
    ledger_on,
    publisher,
)

ADDRESSES = [f"+1415555010{i}" for i in range(6)]
REASSIGNED, LAPSED, SPIKE, RELEASED, DISMISSED, KEPT = ADDRESSES


@pytest.fixture
def ledger(pg_storage: StorageSettings) -> Iterator[ConsentLedger]:
    yield from ledger_on(pg_storage)


def test_the_lifecycle_events_reach_the_read_models_through_kafka(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    kafka = broker.settings()
    with publisher(pg_storage, kafka), consumers(pg_storage, kafka) as service:
        # Given every kind of lifecycle event
        book = TenantSettingsBook(ledger, SecretBox(None))
        book.change_lapse_policy("acme", {"marketing": 12}, changed_by="test")
        book.change_burst_guard(
            "acme", enabled=True, max_opt_outs=1, window_seconds=3600, changed_by="test"
        )
        for address in (REASSIGNED, SPIKE, RELEASED, DISMISSED, KEPT):
            ledger.record(opt_in(address))
        ledger.record(invalidation(REASSIGNED))
        old = opt_in(LAPSED)
        ledger.record(replace(old, occurred_at=old.occurred_at - timedelta(days=400)))
        lapse_due(ledger, [LapsingSubject("acme", "whatsapp", LAPSED)])
        signals = SignalRecorder(ledger)
        for address in (SPIKE, RELEASED, DISMISSED):
            signals.record_signal(gateway_opt_out(address))
        decide_hold(ledger, "acme", "whatsapp", RELEASED, HoldDecision.RELEASE, decided_by="k")
        decide_hold(ledger, "acme", "whatsapp", DISMISSED, HoldDecision.DISMISS, decided_by="k")
        last = ledger.recorder.max_notification_id() or 0
        # When the consumers have applied everything
        assert caught_up(service.projections, last)
        status, _, daily = service.projections
        assert isinstance(status, ConsentStatusProjection)
        assert isinstance(daily, ConsentDailyProjection)
        # Then the read models equal the ledger's own fold
        assert_status_equals_fold(status, ledger, ADDRESSES)
        assert daily_counts(daily) == expected_daily(ledger, ADDRESSES)
        assert service.projections[0].metrics.gap_repairs == 0
