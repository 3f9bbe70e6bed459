"""A rebuilt ``consent_status`` shows invalidated, lapsed and held subjects as the live
one does (how read models built before these events catch up), on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.lapses import LapsingSubject, lapse_due
from ledger.application.signals.recorder import SignalRecorder
from ledger.application.tenants.book import TenantSettingsBook
from ledger.crypto.secret_box import SecretBox
from projections.consent_status.holds import held
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.queries import ConsentQueries
from projections.rebuild import rebuild
from projections.views import open_typed
from tests.support.commands import gateway_opt_out, invalidation, opt_in

REASSIGNED, LAPSED, HELD, KEPT, SPIKE = (f"+1415555010{i}" for i in range(5))


def test_a_rebuild_shows_invalidated_lapsed_and_held_subjects(ledger: ConsentLedger) -> None:
    # Given an invalidated subject, a lapsed grant and a held gateway opt-out
    book = TenantSettingsBook(ledger, SecretBox(None))
    book.change_lapse_policy("acme", {"marketing": 12}, changed_by="test")
    book.change_burst_guard(
        "acme", enabled=True, max_opt_outs=1, window_seconds=3600, changed_by="t"
    )
    for address in (REASSIGNED, HELD, KEPT, SPIKE):
        ledger.record(opt_in(address))
    ledger.record(invalidation(REASSIGNED))
    old = opt_in(LAPSED)
    ledger.record(replace(old, occurred_at=old.occurred_at - timedelta(days=400)))
    lapse_due(ledger, [LapsingSubject("acme", "whatsapp", LAPSED)])
    signals = SignalRecorder(ledger)
    signals.record_signal(gateway_opt_out(SPIKE))
    last = signals.record_signal(gateway_opt_out(HELD)).recorded
    assert last is not None
    assert last.type == "opt_out_held"
    # When the read model is rebuilt from the ledger
    result = rebuild("consent_status", ledger)
    assert result.position == last.position
    view = open_typed("consent_status", ledger, ConsentStatusProjection)
    # Then each subject's eligibility says why, as the ledger's own fold does
    queries = ConsentQueries(view.model)
    addresses = [REASSIGNED, LAPSED, HELD, KEPT]
    reasons = [
        a.reason.value for a in queries.eligibility("acme", "whatsapp", "marketing", addresses)
    ]
    assert reasons == ["invalidated", "lapsed", "held", "opted_in"]
    assert [row.address for row in held(view.model, "acme")] == [HELD]
