"""Attestation bundles built from the real ledger, on both backends, and verified offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.erasure import erase_personal_data
from ledger.attestation.bundle import build_bundle
from ledger.attestation.checkpoint import parse_text
from ledger.attestation.checkpointer import Checkpointer
from ledger.attestation.verification import verify_bundle
from ledger.crypto.chain import event_hash
from ledger.domain.times import parse_time
from ledger.events import PersonalDataErased
from ledger.runtime.storage_settings import StorageSettings
from tests.support.attestation import new_sealer
from tests.support.commands import message, opt_in

ALICE = "+14155550100"
SECRET_TEXT = "STOP sending me offers, Alice Example"


def alice_history(ledger: ConsentLedger) -> None:
    ledger.record(opt_in(ALICE))  # a web form with the IP 203.0.113.9
    ledger.receive_message(message(ALICE, SECRET_TEXT))
    ledger.receive_message(message(ALICE, "START"))


def bundle_of(ledger: ConsentLedger, sealer: Checkpointer, **kwargs: Any) -> dict[str, Any]:
    return build_bundle(ledger, sealer.store, "acme", "whatsapp", ALICE, **kwargs)


def test_a_bundle_verifies_with_the_public_key_alone(ledger: ConsentLedger) -> None:
    # Given a subject's history, sealed
    alice_history(ledger)
    sealer = new_sealer(ledger)
    sealer.checkpoint_once()
    # When an auditor gets the bundle (as JSON, over the wire)
    bundle = json.loads(json.dumps(bundle_of(ledger, sealer)))
    # Then it verifies with nothing but the public key
    report = verify_bundle(bundle, sealer.key.public_key())
    assert report.ok, report.summary()
    assert report.summary().startswith("OK: 3 events")
    assert bundle["verification"]["verified"] is True
    # And the events are the ledger's history, chained, with personal data only committed
    history = ledger.history("acme", "whatsapp", ALICE).entries
    assert [e["hash"] for e in bundle["events"]] == [h.hash for h in history]
    assert [e["leaf_index"] for e in bundle["events"]] == [0, 1, 2]
    objects = json.dumps(bundle["events"])
    assert ALICE not in objects
    assert "Alice Example" not in objects
    assert "203.0.113.9" not in objects
    # And beside them, disclosures open every commitment
    disclosed = {(d["field"], d["value"]) for d in bundle["disclosures"]}
    assert {("address", ALICE), ("ip", "203.0.113.9"), ("text", SECRET_TEXT)} <= disclosed
    assert bundle["subject"]["address"] == ALICE


def test_a_bundle_names_events_recorded_after_the_checkpoint(ledger: ConsentLedger) -> None:
    alice_history(ledger)
    sealer = new_sealer(ledger)
    sealer.checkpoint_once()
    ledger.receive_message(message(ALICE, "STOP"))
    bundle = bundle_of(ledger, sealer)
    assert bundle["events"][3]["inclusion_proof"] is None
    report = verify_bundle(bundle, sealer.key.public_key())
    assert report.failure is not None
    assert report.failure.version == 4
    assert "not covered by the checkpoint" in report.failure.reason
    sealer.checkpoint_once()
    assert verify_bundle(bundle_of(ledger, sealer), sealer.key.public_key()).ok


def test_as_of_answers_with_what_the_ledger_knew_then(ledger: ConsentLedger) -> None:
    # Given an opt-in, and later a STOP
    ledger.record(opt_in(ALICE))
    [first] = ledger.history("acme", "whatsapp", ALICE).entries
    ledger.receive_message(message(ALICE, "STOP"))
    sealer = new_sealer(ledger)
    sealer.checkpoint_once()
    # When the auditor asks for the consent at the moment the opt-in was recorded
    then = parse_time(first.document["recorded_at"])
    bundle = bundle_of(ledger, sealer, as_of=then)
    # Then marketing was opted in, decided by that event, and only it is in the bundle
    assert bundle["consent"]["purposes"]["marketing"]["status"] == "opted_in"
    assert bundle["consent"]["purposes"]["marketing"]["event_id"] == first.document["event_id"]
    assert [e["version"] for e in bundle["events"]] == [1]
    assert verify_bundle(bundle, sealer.key.public_key()).ok
    # And now the STOP has withdrawn everything
    now = bundle_of(ledger, sealer)
    assert now["consent"]["purposes"]["*"]["status"] == "opted_out"


def test_erasure_keeps_the_bundle_verifiable_and_the_data_unreadable(
    ledger: ConsentLedger,
) -> None:
    # Given a sealed history with personal data
    alice_history(ledger)
    sealer = new_sealer(ledger)
    sealer.checkpoint_once()
    before = bundle_of(ledger, sealer)
    # When the subject's personal data is erased
    erased = erase_personal_data(ledger, "acme", "whatsapp", ALICE, requested_by="k1")
    sealer.checkpoint_once()
    # Then the erasure is the next link of the chain and the bundle still verifies
    after = bundle_of(ledger, sealer)
    assert verify_bundle(after, sealer.key.public_key()).ok
    assert [e["type"] for e in after["events"]][-1] == PersonalDataErased.type_name
    assert after["events"][3]["prev_hash"] == before["events"][2]["hash"]
    # And the earlier events, their hashes and leaves are exactly as before
    for old, new in zip(before["events"], after["events"], strict=False):
        assert {k: v for k, v in old.items() if k != "inclusion_proof"} == {
            k: v for k, v in new.items() if k != "inclusion_proof"
        }
    # And no personal value can be read any more: no key, no disclosures, nothing in clear
    assert ledger.store.data_keys([erased.subject_id]) == {}
    history = ledger.history("acme", "whatsapp", ALICE).entries
    assert all(entry.disclosures is None for entry in history)
    assert after["disclosures"] == []
    text = json.dumps(after)
    assert ALICE not in text
    assert "Alice Example" not in text
    assert "203.0.113.9" not in text
    # And erasing again records nothing new
    again = erase_personal_data(ledger, "acme", "whatsapp", ALICE)
    assert again.duplicate
    assert again.event_id == erased.event_id


def test_a_subject_who_writes_after_an_erasure_can_be_erased_again(ledger: ConsentLedger) -> None:
    alice_history(ledger)
    first = erase_personal_data(ledger, "acme", "whatsapp", ALICE)
    ledger.receive_message(message(ALICE, "STOP please"))
    history = ledger.history("acme", "whatsapp", ALICE).entries
    assert history[-1].disclosures == {"address": ALICE, "text": "STOP please"}
    second = erase_personal_data(ledger, "acme", "whatsapp", ALICE)
    assert not second.duplicate
    assert second.version == first.version + 2
    history = ledger.history("acme", "whatsapp", ALICE).entries
    assert all(entry.disclosures is None for entry in history)


def forge_checkpoint(bundle: dict[str, Any]) -> None:
    """Claim a bigger tree under the old signature."""
    checkpoint = bundle["checkpoint"]
    size = checkpoint["tree_size"]
    checkpoint["note"] = checkpoint["note"].replace(f"\n{size}\n", f"\n{size + 1}\n", 1)
    checkpoint["tree_size"] = size + 1


def resign_checkpoint(bundle: dict[str, Any]) -> None:
    """A checkpoint that verifies, but with someone else's key."""
    text = bundle["checkpoint"]["note"].rpartition("\n\n")[0] + "\n"
    bundle["checkpoint"]["note"] = parse_text(text).sign(Ed25519PrivateKey.generate())


TAMPERING = {
    "an altered event": (
        lambda b: b["events"][1].update(purposes=["utility"]),
        "v2 (",
        "hash does not match its contents",
    ),
    "a removed event": (lambda b: b["events"].pop(1), "v3 (", "v2 is missing"),
    "reordered events": (
        lambda b: b["events"].insert(1, b["events"].pop(2)),
        "v3 (",
        "the chain jumps from v1 to v3",
    ),
    "a forged checkpoint": (forge_checkpoint, "checkpoint", "does not verify"),
    "a checkpoint of another key": (resign_checkpoint, "checkpoint", "not signed by this"),
    "a false disclosure": (
        lambda b: b["disclosures"][0].update(value="+14155559999"),
        "v1 (",
        "does not open its commitment",
    ),
    "another subject's event": (
        lambda b: b["events"][0].update(subject_id="7c9e6679-7425-40de-944b-e07fc1f90ae7"),
        "v1 (",
        "belongs to another subject",
    ),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_any_tampering_with_the_bundle_fails_verification(tmp_path: Path, case: str) -> None:
    change, where, reason = TAMPERING[case]
    storage = StorageSettings(database_url=None, sqlite_path=tmp_path / "ledger.db")
    with ConsentLedger(storage.eventsourcing_env()) as ledger:
        alice_history(ledger)
        sealer = new_sealer(ledger)
        sealer.checkpoint_once()
        bundle = bundle_of(ledger, sealer)
    assert verify_bundle(bundle, sealer.key.public_key()).ok
    change(bundle)
    report = verify_bundle(bundle, sealer.key.public_key())
    assert not report.ok
    assert where in report.summary()
    assert reason in report.summary()


def tamper(pg_url: str, statement: str, params: tuple[Any, ...] = ()) -> None:
    """What a superuser can do behind the ledger's back: switch the trigger off and write."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "ALTER TABLE consentledger_events DISABLE TRIGGER consentledger_events_append_only"
        )
        conn.execute(statement, params)  # type: ignore[arg-type]


def test_an_event_altered_in_the_database_breaks_the_next_bundle(
    pg_storage: StorageSettings, pg_url: str
) -> None:
    with ConsentLedger(pg_storage.eventsourcing_env()) as ledger:
        alice_history(ledger)
        sealer = new_sealer(ledger)
        sealer.checkpoint_once()
        # When a superuser rewrites the opt-in's purposes in place
        tamper(
            pg_url,
            "UPDATE consentledger_events SET state = convert_to(replace(convert_from(state, "
            "'UTF8'), '\"purposes\":[\"marketing\"]', '\"purposes\":[\"utility\"]'), 'UTF8') "
            "WHERE originator_version = 1",
        )
        # Then the bundle says the first event no longer matches its hash
        bundle = bundle_of(ledger, sealer)
        assert bundle["verification"]["verified"] is False
        assert bundle["verification"]["failure"]["version"] == 1
        assert "hash does not match its contents" in bundle["verification"]["summary"]
        assert not verify_bundle(bundle, sealer.key.public_key()).ok


def test_a_consistent_rewrite_is_caught_by_the_sealed_leaf(
    pg_storage: StorageSettings, pg_url: str
) -> None:
    with ConsentLedger(pg_storage.eventsourcing_env()) as ledger:
        alice_history(ledger)
        sealer = new_sealer(ledger)
        sealer.checkpoint_once()
        # When the last event is rewritten with a hash recomputed to fit its new content
        sid = ledger.state_of("acme", "whatsapp", ALICE).id
        stored = ledger.store.select_subjects([sid])[sid][-1]
        event = ledger.ledger_event(stored)
        forged = type(event)(**{**vars(event), "purposes": ["utility"], "hash": ""})
        forged = type(event)(**{**vars(forged), "hash": event_hash(forged)})
        state = ledger.mapper.to_stored_event(forged).state
        tamper(
            pg_url,
            "UPDATE consentledger_events SET state = %s "
            "WHERE originator_id = %s AND originator_version = 3",
            (state, sid),
        )
        # Then the chain alone holds, but the event is not what the log sealed
        bundle = bundle_of(ledger, sealer)
        failure = bundle["verification"]["failure"]
        assert failure["version"] == 3
        assert "differs from what the log sealed" in failure["reason"]


def test_an_event_deleted_from_the_database_is_named_as_missing(
    pg_storage: StorageSettings, pg_url: str
) -> None:
    with ConsentLedger(pg_storage.eventsourcing_env()) as ledger:
        alice_history(ledger)
        sealer = new_sealer(ledger)
        sealer.checkpoint_once()
        # When a superuser deletes the last event (the chain of the rest still holds)
        tamper(pg_url, "DELETE FROM consentledger_events WHERE originator_version = 3")
        # Then the bundle shows it as missing, and it does not verify
        bundle = bundle_of(ledger, sealer)
        assert bundle["events"][2]["missing"] is True
        assert bundle["verification"]["failure"]["version"] == 3
        assert "missing from the ledger" in bundle["verification"]["summary"]
        assert not verify_bundle(bundle, sealer.key.public_key()).ok
