"""Bulk import: original timestamps and evidence kept, bad rows rejected with reasons."""

from __future__ import annotations

import gc

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.imports import import_rows, parse_csv
from ledger.domain.consent_status import Status
from ledger.domain.errors import InvalidInput
from ledger.runtime.collector import BATCHES_PER_COLLECTION
from tests.support.commands import message

CSV = """channel,address,type,purposes,occurred_at,method,text,ip
whatsapp,+14155550100,opted_in,marketing;utility,2024-03-01T10:00:00Z,web_form,I agree,203.0.113.9
whatsapp,+14155550101,opted_in,marketing,2024-03-02T10:00:00+01:00,,,
sms,+1415,opted_in,marketing,2024-03-02T10:00:00Z,,,
whatsapp,+14155550102,opted_in,marketing,yesterday,,,
whatsapp,+14155550103,opted_in,marketing,2024-03-02T10:00:00Z,,,
whatsapp,+14155550104,opted_out,,2024-03-03T10:00:00Z,,,
whatsapp,+14155550100,opted_in,marketing;utility,2024-03-01T10:00:00Z,web_form,I agree,203.0.113.9
whatsapp,+14155550105,maybe,marketing,2024-03-02T10:00:00Z,,,
"""


def run_import(ledger: ConsentLedger, text: str) -> dict:  # type: ignore[type-arg]
    rows = parse_csv(text.splitlines(keepends=True), tenant="acme", recorded_by="cli")
    return import_rows(ledger, rows, tenant="acme", batch_size=3).as_dict()


def test_an_import_records_good_rows_and_reports_each_bad_one(ledger: ConsentLedger) -> None:
    # Given +14155550103 opted out (by message, now) after the opt-in the file carries.
    ledger.receive_message(message("+14155550103", "STOP"))
    report = run_import(ledger, CSV)
    assert report["rows"] == 8
    assert report["accepted"] == 3
    assert report["duplicates"] == 1  # line 8 repeats line 2
    rejected = {(r["row"], r["code"], r["field"]) for r in report["rejected"]}
    assert rejected == {
        (4, "invalid_address", "address"),
        (5, "invalid_time", "occurred_at"),
        (6, "older_than_opt_out", "occurred_at"),
        (9, "invalid_type", "type"),
    }
    state = ledger.state_of("acme", "whatsapp", "+14155550100")
    assert state.status_of("utility").status is Status.OPTED_IN  # type: ignore[union-attr]
    assert state.status_of("utility").method == "web_form"  # type: ignore[union-attr]
    assert state.status_of("utility").since.isoformat() == "2024-03-01T10:00:00+00:00"  # type: ignore[union-attr]
    assert (
        ledger.state_of("acme", "whatsapp", "+14155550103").status_of("marketing").status
        is Status.OPTED_OUT
    )  # type: ignore[union-attr]
    [entry] = ledger.history("acme", "whatsapp", "+14155550100").entries
    assert entry.document["source"]["kind"] == "import"
    assert entry.disclosures == {"address": "+14155550100", "text": "I agree", "ip": "203.0.113.9"}


def test_importing_the_same_file_again_changes_nothing(ledger: ConsentLedger) -> None:
    first = run_import(ledger, CSV)
    again = run_import(ledger, CSV)
    assert again["accepted"] == 0
    assert again["duplicates"] == first["accepted"] + first["duplicates"]
    history = ledger.history("acme", "whatsapp", "+14155550100").entries
    assert len(history) == 1


def test_a_file_without_the_required_columns_is_refused_before_anything_is_stored(
    ledger: ConsentLedger,
) -> None:
    with pytest.raises(InvalidInput, match="channel") as refused:
        run_import(ledger, "phone,consent\n+14155550100,yes\n")
    assert refused.value.code == "invalid_csv"
    assert ledger.recorder.max_notification_id() in (None, 0)


def test_a_large_import_is_not_walked_by_the_collector_at_every_batch(
    ledger: ConsentLedger,
) -> None:
    # While a batch is stored the next is built, so the young objects at each batch's
    # end are a whole live batch: collecting them then walked ~35 objects a row to free
    # nothing. An import of 12 batches collects once after its tenth (and perhaps once
    # more as it ends and the collector comes back on; at every batch it was 12 or more).
    batches = BATCHES_PER_COLLECTION + 2
    lines = ["channel,address,type,purposes,occurred_at"] + [
        f"whatsapp,+1415556{n:04d},opted_in,marketing,2024-03-01T10:00:00Z"
        for n in range(batches * 100)
    ]
    generations: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            generations.append(info["generation"])

    rows = parse_csv([line + "\n" for line in lines], tenant="acme", recorded_by="cli")
    gc.collect()
    gc.callbacks.append(record)
    try:
        report = import_rows(ledger, rows, tenant="acme", batch_size=100)
    finally:
        gc.callbacks.remove(record)
    assert report.accepted == batches * 100
    assert 1 in generations  # the young and middle generations, after the tenth batch
    assert len(generations) <= 2
