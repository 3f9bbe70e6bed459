"""Contacts: one person of a business (its own customer id) with several numbers.

A contact id is the business's identifier of a person, so it is personal data: an event
holds only a salted commitment to it (the value is sealed with the subject's other
personal data), and the ledger finds a contact's subjects through a keyed index
(``ContactLink.contact_key``: HMAC-SHA256 under a secret of the tenant's), never through
a plain hash that a guess of the id space could reverse. Each number keeps its own chain
and its own consent: a STOP on one number withdraws that number only.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from uuid import UUID

from ledger.domain.errors import InvalidInput
from ledger.domain.validation import check_text

MAX_CONTACT_ID = 128


@dataclass(frozen=True)
class ContactLink:
    """A subject (one number on one channel) that belongs to a contact of a tenant."""

    tenant: str
    contact_key: str  # hex HMAC-SHA256 of the contact id under the tenant's contact secret
    subject_id: UUID
    channel: str


def check_contact_id(value: str | None, *, field: str = "contact_id") -> str | None:
    """The contact id as stored (NFC, surrounding spaces removed), or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("a contact id is a string", field=field, code="invalid_contact_id")
    check_text(value, field=field)  # NUL and lone surrogates: invalid_text, like any text
    normal = unicodedata.normalize("NFC", value.strip())
    if not 0 < len(normal) <= MAX_CONTACT_ID:
        raise InvalidInput(
            f"a contact id is 1-{MAX_CONTACT_ID} characters",
            field=field,
            code="invalid_contact_id",
        )
    if any(unicodedata.category(c).startswith("C") for c in normal):
        raise InvalidInput(
            "a contact id holds no control characters",
            field=field,
            code="invalid_contact_id",
        )
    return normal
