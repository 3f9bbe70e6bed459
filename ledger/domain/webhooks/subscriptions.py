"""A tenant's webhook subscription: where consent changes go, which ones, signed with what.

The secret follows the Standard Webhooks format: ``whsec_`` and the base64 of 24 to 64
random bytes; the bytes are the HMAC-SHA256 key. It is never returned or logged.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import InvalidInput

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
MAX_EVENT_TYPES = 32
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Subscription:
    tenant: str
    subscription_id: str
    url: str
    # Empty: every consent change of the tenant.
    event_types: tuple[str, ...]
    # Events at ledger positions after this one are delivered (the log's head when the
    # subscription was first registered).
    after_position: int
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: str, position: int) -> bool:
        return position > self.after_position and (
            not self.event_types or event_type in self.event_types
        )


def parse_subscription_id(value: str) -> str:
    if not _ID.match(value):
        raise InvalidInput(
            "a subscription id is 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
            field="subscription_id",
        )
    return value


def parse_event_types(values: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    """The event types asked for, checked against ``known`` (sorted, no duplicates)."""
    allowed = set(known)
    chosen = sorted(set(values))
    if len(chosen) > MAX_EVENT_TYPES:
        raise InvalidInput(f"at most {MAX_EVENT_TYPES} event types", field="event_types")
    for value in chosen:
        if value not in allowed:
            raise InvalidInput(
                f"unknown event type {value!r}; one of: {', '.join(sorted(allowed))}",
                field="event_types",
            )
    return tuple(chosen)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; ``InvalidInput`` naming ``secret`` otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidInput(
            f"the secret must start with {SECRET_PREFIX} (Standard Webhooks)", field="secret"
        )
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"the secret after {SECRET_PREFIX} must be base64", field="secret"
        ) from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidInput(
            f"the secret must decode to {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes",
            field="secret",
        )
    return key
