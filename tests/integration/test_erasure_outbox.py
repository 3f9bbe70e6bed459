"""Erasure also removes the messages not yet sent to the subject."""

from __future__ import annotations

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.erasure import erase_personal_data
from tests.support.commands import message

ALICE = "+14155550100"
BOB = "+14155550101"


def test_erasing_a_subject_drops_its_unsent_messages_including_help_replies(
    ledger: ConsentLedger,
) -> None:
    # Given a help reply (it holds the address in clear) and a confirmation queued for Alice
    ledger.receive_message(message(ALICE, "HELP"))
    ledger.receive_message(message(ALICE, "STOP"))
    ledger.receive_message(message(BOB, "STOP"))
    queued = ledger.store.select_outbox(after=0, limit=100)
    alice = ledger.state_of("acme", "whatsapp", ALICE).id
    assert {m.kind for m in queued if m.subject_id == alice} == {"help", "confirmation"}
    assert any(ALICE in m.payload for m in queued)
    # When Alice's personal data is erased
    erase_personal_data(ledger, "acme", "whatsapp", ALICE, reason="gdpr_art17")
    # Then none of her messages is left to send, and Bob's still is
    left = ledger.store.select_outbox(after=0, limit=100)
    assert all(m.subject_id != alice for m in left)
    assert all(ALICE not in m.payload for m in left)
    assert [m.kind for m in left] == ["confirmation"]
