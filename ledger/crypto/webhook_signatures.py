"""Standard Webhooks signatures (https://www.standardwebhooks.com), scheme ``v1``.

The signed content is ``<webhook-id>.<webhook-timestamp>.<body>``; the signature is the
base64 of its HMAC-SHA256 under the key a ``whsec_`` secret encodes, sent as
``webhook-signature: v1,<signature>`` (several, space-separated, while a key rotates).
``verify`` is what a receiver does, for the tests and for integrators.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

SCHEME = "v1"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of ``body``."""
    content = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return f"{SCHEME},{base64.b64encode(digest).decode('ascii')}"


def headers(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers, signed under each of ``keys`` (the current secret first, then
    the previous one while a rotation's overlap lasts)."""
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(sign(key, message_id, timestamp, body) for key in keys),
    }


def verify(
    key: bytes,
    received: dict[str, str],
    body: bytes,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when one ``v1`` signature of ``received`` matches and its timestamp is fresh."""
    lowered = {k.lower(): v for k, v in received.items()}
    message_id = lowered.get(ID_HEADER)
    stamp = lowered.get(TIMESTAMP_HEADER, "")
    if not message_id or not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = sign(key, message_id, int(stamp), body)
    return any(
        hmac.compare_digest(candidate, expected)
        for candidate in lowered.get(SIGNATURE_HEADER, "").split(" ")
        if candidate.startswith(SCHEME + ",")
    )
