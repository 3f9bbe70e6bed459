"""Signed notes and checkpoints in the C2SP formats, checked against Go's sumdb/note."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.attestation.checkpoint import Checkpoint, open_checkpoint, parse_text
from ledger.crypto.merkle import EMPTY_ROOT
from ledger.crypto.signed_note import NoteError, key_id, open_note, sign, verifier_key

# The example of golang.org/x/mod/sumdb/note: its private key (0x01 || Ed25519 seed),
# verifier key and the note it signs. Ed25519 is deterministic, so our note must be
# byte for byte the same, key id included.
GO_PRIVATE = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUg"
    "YN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "ledger.example/log"
T = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def go_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_PRIVATE)
    assert seed[0] == 1
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_our_notes_are_byte_for_byte_those_of_the_go_reference() -> None:
    key = go_key()
    assert sign(GO_TEXT, "PeterNeumann", key) == GO_NOTE
    assert key_id("PeterNeumann", key.public_key()).hex() == "c74f20a3"
    assert verifier_key("PeterNeumann", key.public_key()) == GO_VERIFIER
    assert open_note(GO_NOTE, key.public_key()).text == GO_TEXT


def test_an_altered_note_or_another_key_is_refused() -> None:
    key = go_key()
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), key.public_key())
    with pytest.raises(NoteError, match="not signed by this public key"):
        open_note(GO_NOTE, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(NoteError, match="no blank line"):
        open_note(GO_TEXT, key.public_key())


def test_a_checkpoint_round_trips_through_its_signed_note() -> None:
    key = Ed25519PrivateKey.generate()
    checkpoint = Checkpoint(origin=ORIGIN, tree_size=1234, root_hash=EMPTY_ROOT, time=T)
    note = checkpoint.sign(key)
    root = base64.b64encode(EMPTY_ROOT).decode()
    assert note.startswith(f"{ORIGIN}\n1234\n{root}\ntime 2026-11-21T10:00:00.000000Z\n\n")
    assert note.splitlines()[-1].startswith(f"\u2014 {ORIGIN} ")
    assert open_checkpoint(note, key.public_key()) == checkpoint


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("\n1234\n", "\n1235\n"), "does not verify"),  # a bigger tree, same signature
        (("time 2026-11-21T10", "time 2027-11-21T10"), "does not verify"),
    ],
)
def test_a_forged_checkpoint_does_not_verify(change: tuple[str, str], reason: str) -> None:
    key = Ed25519PrivateKey.generate()
    note = Checkpoint(origin=ORIGIN, tree_size=1234, root_hash=EMPTY_ROOT, time=T).sign(key)
    with pytest.raises(NoteError, match=reason):
        open_checkpoint(note.replace(*change), key.public_key())


def test_a_checkpoint_signed_under_another_name_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    text = Checkpoint(origin=ORIGIN, tree_size=1, root_hash=EMPTY_ROOT, time=T).text()
    with pytest.raises(NoteError, match="not under its origin"):
        open_checkpoint(sign(text, "someone.else/log", key), key.public_key())


@pytest.mark.parametrize(
    "text",
    [
        "log\n12\n",  # no root, no time
        "log\n012\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ntime 2026-11-21T10:00:00Z\n",
        "log\n12\nnot base64!\ntime 2026-11-21T10:00:00Z\n",
        "log\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nwhen yesterday\n",
    ],
)
def test_malformed_checkpoint_texts_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        parse_text(text)
