"""C2SP ``tlog-cosignature`` Ed25519 cosignatures (``cosignature/v1``, c2sp.org/tlog-cosignature).

A cosignature is a signed-note signature line on a checkpoint by a witness:
``— <witness name> base64(key id || u64 timestamp || Ed25519 signature)``. The key id is
``SHA-256(<name> || "\\n" || 0x04 || public key)[:4]``; the signed message is
``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint's note text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.crypto.signed_note import (
    ED25519_SIGNATURE_BYTES,
    KEY_ID_BYTES,
    SIGNATURE_PREFIX,
    NoteError,
    NoteSignature,
    check_key_name,
    parse,
    raw_public_key,
)

COSIGNATURE_TYPE = b"\x04"
HEADER = "cosignature/v1\n"
TIMESTAMP_BYTES = 8
MAX_TIMESTAMP = (1 << 63) - 1


@dataclass(frozen=True)
class Cosigner:
    """A witness as a verifier knows it: its name and Ed25519 public key."""

    name: str
    key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.key)

    def vkey(self) -> str:
        """``<name>+<key id hex>+base64(0x04 || key)`` (signed-note verifier key)."""
        encoded = base64.b64encode(COSIGNATURE_TYPE + raw_public_key(self.key)).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


@dataclass(frozen=True)
class Cosignature:
    name: str
    timestamp: int
    line: str  # the signature line, with its final newline


def cosigner_key_id(name: str, key: Ed25519PublicKey) -> bytes:
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + COSIGNATURE_TYPE + raw_public_key(key))
    return digest.digest()[:KEY_ID_BYTES]


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"{HEADER}time {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line of ``name`` on a checkpoint's note text, at ``timestamp``."""
    check_key_name(name)
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp {timestamp} is out of range")
    signature = key.sign(signed_message(checkpoint_text, timestamp))
    blob = cosigner_key_id(name, key.public_key()) + timestamp.to_bytes(8, "big") + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def parse_vkey(vkey: str) -> Cosigner:
    """A cosigner from its verifier key ``<name>+<key id>+base64(0x04 || key)``."""
    name, _, rest = vkey.strip().partition("+")
    spelled_id, _, encoded = rest.partition("+")
    try:
        check_key_name(name)
        blob = base64.b64decode(encoded, validate=True)
    except (NoteError, binascii.Error, ValueError):
        raise NoteError(f"{vkey!r} is not a witness verifier key <name>+<id>+<key>") from None
    if len(blob) != 33 or blob[:1] != COSIGNATURE_TYPE:
        raise NoteError(f"{vkey!r} is not an Ed25519 cosignature/v1 key (type 0x04)")
    cosigner = Cosigner(name, Ed25519PublicKey.from_public_bytes(blob[1:]))
    if cosigner.key_id.hex() != spelled_id:
        raise NoteError(f"the key id of {vkey!r} does not match its key")
    return cosigner


def _timestamped(signature: NoteSignature) -> tuple[int, bytes] | None:
    if len(signature.signature) != TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES:
        return None
    return (
        int.from_bytes(signature.signature[:TIMESTAMP_BYTES], "big"),
        signature.signature[TIMESTAMP_BYTES:],
    )


def verified_cosignatures(note: str, cosigners: list[Cosigner]) -> dict[str, Cosignature]:
    """The cosigners (by name) whose cosignature on ``note`` verifies; others are ignored,
    as the spec asks. A signature that claims a known cosigner but does not verify is
    an error (someone forged or altered the note)."""
    parsed = parse(note)
    found: dict[str, Cosignature] = {}
    for signature in parsed.signatures:
        for cosigner in cosigners:
            if signature.key_name != cosigner.name or signature.key_id != cosigner.key_id:
                continue
            stamped = _timestamped(signature)
            if stamped is None or stamped[0] > MAX_TIMESTAMP:
                raise NoteError(f"the cosignature of {cosigner.name} is malformed")
            timestamp, raw = stamped
            try:
                cosigner.key.verify(raw, signed_message(parsed.text, timestamp))
            except InvalidSignature:
                raise NoteError(
                    f"the cosignature of {cosigner.name} does not verify: the checkpoint "
                    "was altered or the cosignature forged"
                ) from None
            blob = signature.key_id + signature.signature
            line = f"{SIGNATURE_PREFIX}{signature.key_name} {base64.b64encode(blob).decode()}\n"
            found[cosigner.name] = Cosignature(cosigner.name, timestamp, line)
    return found


def add_signature_lines(note: str, lines: list[str]) -> str:
    """``note`` with signature ``lines`` appended (each once; the note's own kept first)."""
    present = set(note.splitlines(keepends=True))
    added: list[str] = []
    for line in lines:
        if line not in present:
            present.add(line)
            added.append(line)
    return note + "".join(added)
