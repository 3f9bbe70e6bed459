"""The keyed index of contact ids: HMAC-SHA256 under a secret of the tenant's.

A plain hash of a contact id (a customer number, an e-mail address) is reversed by
hashing every candidate; an HMAC under a 256-bit secret kept out of the ledger's
documents is not. The secret is per tenant, so one tenant's index says nothing about
another's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32


def new_contact_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def contact_key(secret: bytes, contact_id: str) -> str:
    """The index key of ``contact_id`` (already checked and normalised)."""
    return hmac.new(secret, contact_id.encode("utf-8"), hashlib.sha256).hexdigest()
