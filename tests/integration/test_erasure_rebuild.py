"""A rebuilt ``consent_status`` shows erasures as ``erased`` (how read models built
before erasures ended targeting catch up after an upgrade), on both backends."""

from __future__ import annotations

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.erasure import erase_personal_data
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.queries import ConsentQueries
from projections.rebuild import rebuild
from projections.views import open_typed
from tests.support.commands import opt_in

ALICE, BOB = "+14155550100", "+14155550101"


def test_a_rebuild_shows_an_erased_subject_as_erased(ledger: ConsentLedger) -> None:
    # Given two opted-in subjects, one of them erased
    ledger.record(opt_in(ALICE))
    ledger.record(opt_in(BOB))
    erased = erase_personal_data(ledger, "acme", "whatsapp", ALICE)
    # When the read model is rebuilt from the ledger
    result = rebuild("consent_status", ledger)
    assert result.position == erased.position
    view = open_typed("consent_status", ledger, ConsentStatusProjection)
    # Then the erased subject is erased, without an address, and out of every audience
    projected = view.subject(erased.subject_id)
    assert projected is not None
    assert projected.address is None
    assert {row.purpose: row.status for row in projected.rows} == {
        "marketing": "erased",
        "*": "erased",
    }
    queries = ConsentQueries(view.model)
    assert [row.address for row in queries.audience("acme", "whatsapp", "marketing")] == [BOB]
    assert queries.audience_count("acme", "whatsapp", "marketing") == 1
    [alice] = queries.eligibility("acme", "whatsapp", "marketing", [ALICE])
    assert (alice.eligible, alice.reason.value) == (False, "erased")
