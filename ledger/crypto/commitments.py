"""Salted commitments to personal data.

An event never holds a personal value in clear. It holds ``SHA-256(salt || value)``
for a fresh random 16-byte salt; the value and its salt are kept apart, encrypted under
the subject's data key. Showing (salt, value) proves what the event committed to;
without them the commitment reveals nothing, so destroying the key erases the data
while every hash that covers the commitment stays the same.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SALT_BYTES = 16


@dataclass(frozen=True)
class Disclosure:
    """One personal value with the salt that opens its commitment."""

    field: str
    salt: str  # hex
    value: str

    @property
    def commitment(self) -> str:
        return commit(bytes.fromhex(self.salt), self.value)


def commit(salt: bytes, value: str) -> str:
    return hashlib.sha256(salt + value.encode("utf-8")).hexdigest()


def disclose(field: str, value: str, salt: bytes | None = None) -> Disclosure:
    """``value`` with a fresh salt (``salt``: 16 random bytes the caller already drew)."""
    salt = salt or secrets.token_bytes(SALT_BYTES)
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes")
    return Disclosure(field=field, salt=salt.hex(), value=value)


def opens(commitment: str, disclosure: Disclosure) -> bool:
    """Whether ``disclosure`` is the value ``commitment`` was made to."""
    return hmac.compare_digest(commitment, disclosure.commitment)
