"""The guarantee for a campaign run that meets an opt-out arriving during it."""

from __future__ import annotations

from datetime import timedelta

from ledger.application.consent_ledger import ConsentLedger
from ledger.domain.commands import CaptureMethod, Evidence, RecordConsent, Source
from ledger.runtime.storage_settings import StorageSettings
from projections.consent_status.projection import ConsentStatusProjection
from projections.consent_status.queries import CHUNK, ConsentQueries
from projections.embedded import EmbeddedProjections
from tests.support.commands import message, now


def test_rows_read_after_an_opt_out_was_applied_honour_it(
    storage: StorageSettings, ledger: ConsentLedger
) -> None:
    # Given a campaign list longer than one chunk, everyone opted in to marketing.
    addresses = [f"+1415555{n:04d}" for n in range(CHUNK + 10)]
    results = ledger.record_batch(
        [
            RecordConsent(
                tenant="acme",
                channel="whatsapp",
                address=a,
                type="opted_in",
                purposes=("marketing",),
                occurred_at=now() - timedelta(hours=1),
                source=Source("web_form", f"f-{a}"),
                evidence=Evidence(method=CaptureMethod.WEB_FORM),
            )
            for a in addresses
        ]
    )
    embedded = EmbeddedProjections(ledger=ledger)
    try:
        view = embedded.consent_status
        assert isinstance(view, ConsentStatusProjection)
        assert view.wait_for(max(r.position for r in results), 10)
        queries = ConsentQueries(view.model)

        # When the run has read its first chunk, the last person on the list says STOP.
        run = queries.eligibility("acme", "whatsapp", "marketing", addresses)
        first = next(run)
        assert first.eligible
        stop = ledger.receive_message(message(addresses[-1], "STOP"))
        assert stop.recorded is not None
        assert view.wait_for(stop.recorded.position, 10)
        rest = list(run)

        # Then a row read after the opt-out was applied is not eligible…
        assert rest[-1].address == addresses[-1]
        assert (rest[-1].eligible, rest[-1].reason.value) == (False, "opted_out")
        # …and any run that starts after that position (?after=) honours it from row one.
        again = list(queries.eligibility("acme", "whatsapp", "marketing", [addresses[-1]]))
        assert not again[0].eligible
    finally:
        embedded.close()
