"""Canonical JSON (RFC 8785) and SHA-256 digests.

Everything that is hashed goes through here, so a verifier only needs these rules (and
``ledger.domain.times`` for the one spelling of an instant).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

_SAFE_INTEGER = 2**53


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON-compatible value.

    Event documents hold only ASCII keys, strings, safe integers, booleans and nulls. For
    those, RFC 8785 is exactly ``json.dumps`` with sorted keys, no whitespace and no ASCII
    escaping (same string escapes, same key order), which is many times faster than the
    general implementation; anything else (floats, non-ASCII keys) goes through
    ``rfc8785``. A property test holds the two to the same bytes.
    """
    if _plain(value):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    """Only ASCII keys, strings, safe integers, booleans, nulls, lists and objects."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -_SAFE_INTEGER < item < _SAFE_INTEGER:
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        else:
            return False
    return True


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
