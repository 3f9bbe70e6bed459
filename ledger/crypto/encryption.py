"""Encryption of an event's personal data under its subject's data key.

Each subject has one random 256-bit data key. An event's disclosures (personal values
with their salts) are encrypted with AES-256-GCM under that key, bound to the event id as
associated data, and stored beside the event outside the hashed part. Erasure destroys
the key (crypto-shredding): the ciphertext stays in the append-only table and can no
longer be opened, while the commitments and hashes are untouched.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.crypto.commitments import Disclosure

KEY_BYTES = 32
NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """The encrypted data does not open with this key (wrong key or altered ciphertext)."""


def new_data_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encrypt(
    key: bytes, event_id: UUID, disclosures: Sequence[Disclosure], nonce: bytes | None = None
) -> str:
    """The disclosures encrypted under ``key``, bound to the event; ``nonce``: 12 random bytes."""
    plain = orjson.dumps(
        [{"field": d.field, "salt": d.salt, "value": d.value} for d in disclosures]
    )
    return encrypt_json(key, event_id, plain, nonce)


def encrypt_json(key: bytes, event_id: UUID, plain: bytes, nonce: bytes | None = None) -> str:
    """``encrypt`` of disclosures already written as its JSON (``field``, ``salt``, ``value``)."""
    nonce = nonce or secrets.token_bytes(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"the nonce must be {NONCE_BYTES} bytes")
    ciphertext = AESGCM(key).encrypt(nonce, plain, event_id.bytes)
    return base64.b64encode(nonce + ciphertext).decode("ascii")


def decrypt(key: bytes, event_id: UUID, blob: str) -> list[Disclosure]:
    raw = base64.b64decode(blob)
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], event_id.bytes)
    except InvalidTag:
        raise DecryptionFailed(f"personal data of event {event_id} does not open") from None
    return [
        Disclosure(field=d["field"], salt=d["salt"], value=d["value"]) for d in orjson.loads(plain)
    ]


def readable_disclosures(event: object, key: bytes | None) -> list[Disclosure] | None:
    """The personal values an event carries, or None when there are none to read.

    None when the event holds no personal data, when the subject has no data key (it was
    erased) or when the data does not open under this key (encrypted under an erased
    key, or altered).
    """
    encrypted = getattr(event, "personal_data", "")
    event_id = getattr(event, "event_id", None)
    if key is None or not encrypted or not isinstance(event_id, UUID):
        return None
    try:
        return decrypt(key, event_id, encrypted)
    except DecryptionFailed:
        return None
