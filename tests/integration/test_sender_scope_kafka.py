"""Opt-outs scoped to a sender flow through Kafka: the consumers' consent_status equals
the ledger's fold (scoped opt-outs included) and answers eligibility and audiences per
sender as the embedded default does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.queries import ConsentQueries
from tests.support.commands import message, opt_in
from tests.support.kafka import Broker
from tests.support.pipeline import (
    assert_status_equals_fold,
    caught_up,
    consumers,
    ledger_on,
    publisher,
)

ALICE, BOB = "+14155550201", "+14155550202"


@pytest.fixture
def ledger(pg_storage: StorageSettings) -> Iterator[ConsentLedger]:
    yield from ledger_on(pg_storage)


def test_scoped_opt_outs_reach_the_consumers_read_model(
    pg_storage: StorageSettings, ledger: ConsentLedger, broker: Broker
) -> None:
    kafka = broker.settings()
    with publisher(pg_storage, kafka), consumers(pg_storage, kafka) as service:
        # Given a tenant whose opt-outs are scoped to the sender, two opted-in people
        TenantSettingsBook(ledger, SecretBox(None)).change_opt_out_scope(
            "acme", "sender", changed_by="test"
        )
        for address in (ALICE, BOB):
            ledger.record(opt_in(address))
        # When Alice texts STOP to brand A
        ledger.receive_message(replace(message(ALICE, "STOP"), sender="brand-a"))
        last = ledger.recorder.max_notification_id() or 0
        assert caught_up(service.projections, last)
        status = service.projections[0]
        assert isinstance(status, ConsentStatusProjection)
        # Then the consumers' read model equals the fold and answers per sender
        assert_status_equals_fold(status, ledger, [ALICE, BOB])
        queries = ConsentQueries(status.model)

        def eligible(sender: str | None) -> list[bool]:
            answers = queries.eligibility("acme", "whatsapp", "marketing", [ALICE, BOB], sender)
            return [a.eligible for a in answers]

        assert eligible("brand-b") == [True, True]
        assert eligible("brand-a") == [False, True]
        assert eligible(None) == [False, True]
        audience = {row.address for row in queries.audience("acme", "whatsapp", "marketing")}
        assert audience == {BOB}
