"""The ledger on both backends: the embedded SQLite file and real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.crypto.chain import document_hash
from ledger.domain.consent_status import Status
from ledger.domain.errors import InvalidAddress, RuleViolation, SourceConflict
from ledger.events import GENESIS_HASH
from tests.support.commands import message, opt_in

ALICE = "+14155550100"
BOB = "+14155550101"


def test_events_are_recorded_in_a_verifiable_hash_chain(ledger: ConsentLedger) -> None:
    ledger.record(opt_in(ALICE))
    ledger.receive_message(message(ALICE, "STOP"))
    ledger.receive_message(message(ALICE, "START"))
    history = ledger.history("acme", "whatsapp", ALICE).entries
    assert [e.document["type"] for e in history] == ["opted_in", "opted_out", "opted_in"]
    assert [e.document["version"] for e in history] == [1, 2, 3]
    previous = GENESIS_HASH
    for entry in history:
        assert entry.document["prev_hash"] == previous
        assert document_hash(entry.document) == entry.hash
        previous = entry.hash
    assert [e.position for e in history] == sorted(e.position for e in history)


def test_a_redelivered_source_is_recorded_once_and_answers_with_the_original(
    ledger: ConsentLedger,
) -> None:
    first = ledger.record(opt_in(ALICE, source_id="form-991"))
    again = ledger.record(opt_in(ALICE, source_id="form-991"))
    assert again.duplicate
    assert not first.duplicate
    assert (again.event_id, again.position) == (first.event_id, first.position)
    history = ledger.history("acme", "whatsapp", ALICE).entries
    assert len(history) == 1


def test_a_redelivered_inbound_message_answers_with_the_original_event(
    ledger: ConsentLedger,
) -> None:
    stop = message(ALICE, "STOP", message_id="wamid.1")
    first = ledger.receive_message(stop)
    again = ledger.receive_message(stop)
    assert again.action == "opted_out"
    assert again.recorded
    assert again.recorded.duplicate
    assert first.recorded
    assert again.recorded.event_id == first.recorded.event_id
    history = ledger.history("acme", "whatsapp", ALICE).entries
    assert len(history) == 1


def test_a_source_id_reused_for_another_person_is_a_conflict(ledger: ConsentLedger) -> None:
    ledger.record(opt_in(ALICE, source_id="form-7"))
    with pytest.raises(SourceConflict):
        ledger.record(opt_in(BOB, source_id="form-7"))
    history = ledger.history("acme", "whatsapp", BOB).entries
    assert history == []


def test_a_batch_with_one_bad_item_stores_nothing(ledger: ConsentLedger) -> None:
    good = opt_in(ALICE)
    with pytest.raises(InvalidAddress) as refused:
        ledger.record_batch([good, replace(opt_in(BOB), address="+1415")])
    assert refused.value.field == "events[1].address"
    with pytest.raises(RuleViolation) as broken:
        ledger.record_batch([good, opt_in(BOB, kind="opt_in_request_expired")])
    assert broken.value.field == "events[1].type"
    assert ledger.history("acme", "whatsapp", ALICE).entries == []
    assert ledger.history("acme", "whatsapp", BOB).entries == []


def test_a_batch_folds_events_of_one_subject_in_order(ledger: ConsentLedger) -> None:
    results = ledger.record_batch(
        [opt_in(ALICE), opt_in(ALICE, kind="opted_out", purposes=()), opt_in(BOB)]
    )
    assert [r.version for r in results] == [1, 2, 1]
    state = ledger.state_of("acme", "whatsapp", ALICE)
    assert state.status_of("marketing").status is Status.OPTED_OUT  # type: ignore[union-attr]


def test_tenants_never_share_subjects_or_source_ids(ledger: ConsentLedger) -> None:
    ledger.record(opt_in(ALICE, tenant="acme", source_id="form-1"))
    other = ledger.record(opt_in(ALICE, tenant="globex", source_id="form-1"))
    assert not other.duplicate
    assert ledger.state_of("globex", "whatsapp", ALICE).version == 1
    assert ledger.state_of("acme", "whatsapp", ALICE).version == 1


def test_personal_data_is_stored_only_sealed(ledger: ConsentLedger) -> None:
    ledger.receive_message(message(ALICE, "STOP please, Alice Example here"))
    raw = b"".join(
        item.state
        for items in ledger.store.select_subjects(
            [ledger.state_of("acme", "whatsapp", ALICE).id]
        ).values()
        for item in items
    )
    assert ALICE.encode() not in raw
    assert b"Alice Example" not in raw
    [entry] = ledger.history("acme", "whatsapp", ALICE).entries
    assert entry.disclosures == {"address": ALICE, "text": "STOP please, Alice Example here"}
