"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures.

A note is a UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> base64(key id || signature)``. The key id is the first four bytes of
``SHA-256(key name || 0x0A || 0x01 || 32-byte Ed25519 public key)``; the signature is
Ed25519 over the text (including its final newline).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
KEY_ID_BYTES = 4
ED25519_SIGNATURE_BYTES = 64


class NoteError(ValueError):
    """The note is malformed or not signed by the expected key."""


@dataclass(frozen=True)
class NoteSignature:
    key_name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key_name: str, key: Ed25519PublicKey) -> bytes:
    digest = hashlib.sha256(key_name.encode("utf-8") + b"\n" + ED25519_TYPE + raw_public_key(key))
    return digest.digest()[:KEY_ID_BYTES]


def verifier_key(key_name: str, key: Ed25519PublicKey) -> str:
    """The key as note verifiers spell it: ``<name>+<key id hex>+base64(0x01 || key)``."""
    encoded = base64.b64encode(ED25519_TYPE + raw_public_key(key)).decode("ascii")
    return f"{key_name}+{key_id(key_name, key).hex()}+{encoded}"


def check_key_name(key_name: str) -> None:
    if not key_name or any(c.isspace() or c == "+" for c in key_name):
        raise NoteError(f"key name {key_name!r} must be non-empty, without spaces or '+'")


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must not contain control characters")


def sign(text: str, key_name: str, key: Ed25519PrivateKey) -> str:
    """The signed note: ``text``, a blank line, one signature line."""
    _check_text(text)
    check_key_name(key_name)
    blob = key_id(key_name, key.public_key()) + key.sign(text.encode("utf-8"))
    return f"{text}\n{SIGNATURE_PREFIX}{key_name} {base64.b64encode(blob).decode('ascii')}\n"


def parse(note: str) -> Note:
    """Split a signed note into its text and signatures (nothing verified yet)."""
    separator = note.rfind("\n\n")
    if separator < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signatures")
    text, lines = note[: separator + 1], note[separator + 2 :].splitlines()
    _check_text(text)
    signatures: list[NoteSignature] = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        check_key_name(name)
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError(f"signature of {name!r} is not base64") from None
        if len(blob) <= KEY_ID_BYTES:
            raise NoteError(f"signature of {name!r} is too short")
        signatures.append(NoteSignature(name, blob[:KEY_ID_BYTES], blob[KEY_ID_BYTES:]))
    if not signatures:
        raise NoteError("the note carries no signature")
    return Note(text=text, signatures=tuple(signatures))


def open_note(note: str, key: Ed25519PublicKey) -> Note:
    """Parse ``note`` and verify it with ``key``; raises ``NoteError`` unless it verifies.

    The returned note carries only the signatures that were verified.

    As the spec asks, signatures from other keys are ignored, and at least one
    signature from ``key`` (matched by key name and key id) must verify.
    """
    parsed = parse(note)
    known = [s for s in parsed.signatures if s.key_id == key_id(s.key_name, key)]
    if not known:
        found = ", ".join(f"{s.key_name} ({s.key_id.hex()})" for s in parsed.signatures)
        raise NoteError(f"the note is not signed by this public key; it is signed by {found}")
    for signature in known:
        if len(signature.signature) != ED25519_SIGNATURE_BYTES:
            raise NoteError(f"the signature of {signature.key_name} has the wrong length")
        try:
            key.verify(signature.signature, parsed.text.encode("utf-8"))
        except InvalidSignature:
            raise NoteError(
                f"the signature of {signature.key_name} ({signature.key_id.hex()}) does not "
                "verify: the note was altered or forged"
            ) from None
    return Note(text=parsed.text, signatures=tuple(known))


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """``(key name, key)`` of a note verifier key ``<name>+<key id hex>+base64(0x01 || key)``."""
    name, _, rest = vkey.strip().partition("+")
    spelled_id, _, encoded = rest.partition("+")
    check_key_name(name)
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{vkey!r} is not a verifier key <name>+<id>+<key>") from None
    if len(blob) != 33 or blob[:1] != ED25519_TYPE:
        raise NoteError(f"{vkey!r} is not an Ed25519 note key (type 0x01)")
    key = Ed25519PublicKey.from_public_bytes(blob[1:])
    if key_id(name, key).hex() != spelled_id:
        raise NoteError(f"the key id of {vkey!r} does not match its key")
    return name, key
