"""Events are hash-chained, and personal data enters them only as salted commitments."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.crypto.canonical import canonical_json
from ledger.crypto.chain import event_hash
from ledger.crypto.commitments import opens
from ledger.crypto.encryption import DecryptionFailed, decrypt, new_data_key
from ledger.events import GENESIS_HASH, OptedIn, OptedOut
from tests.support.builders import ADDRESS, chain_all, draft


def test_each_event_hashes_its_document_and_links_to_the_previous_hash() -> None:
    _, events = chain_all([draft(OptedIn, purposes=("marketing",)), draft(OptedOut, minute=1)])
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    for event in events:
        assert event_hash(event) == event.hash


@pytest.mark.parametrize("field", ["occurred_at", "purposes", "evidence", "prev_hash", "tenant"])
def test_changing_any_hashed_field_breaks_the_hash(field: str) -> None:
    _, [event] = chain_all([draft(OptedIn, purposes=("marketing",))])
    forged_value = {
        "occurred_at": event.occurred_at.replace(year=2020),
        "purposes": ["utility"],
        "evidence": {**event.evidence, "method": "web_form"},
        "prev_hash": "1" * 64,
        "tenant": "other",
    }[field]
    forged = dataclasses.replace(event, **{field: forged_value})
    assert event_hash(forged) != event.hash


def test_personal_data_is_never_in_clear_in_the_hashed_document() -> None:
    key = new_data_key()
    _, [event] = chain_all(
        [draft(OptedIn, purposes=("marketing",), text="Yes I agree, John Doe")], key=key
    )
    document = canonical_json(event.document()).decode()
    assert ADDRESS not in document
    assert "John Doe" not in document
    disclosures = {d.field: d for d in decrypt(key, event.event_id, event.personal_data)}
    assert disclosures["address"].value == ADDRESS
    assert disclosures["text"].value == "Yes I agree, John Doe"
    for name, disclosure in disclosures.items():
        assert opens(event.commitments[name], disclosure)


def test_without_the_subjects_key_the_personal_data_does_not_open() -> None:
    _, [event] = chain_all([draft(OptedIn, purposes=("marketing",), text="hello")])
    with pytest.raises(DecryptionFailed):
        decrypt(new_data_key(), event.event_id, event.personal_data)
