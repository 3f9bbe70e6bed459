"""Canonical JSON (RFC 8785) and SHA-256 digests.

Everything that is hashed goes through here, so a verifier only needs these rules (and
``ledger.domain.times`` for the one spelling of an instant).
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def canonical_json(value: Any, *, ascii_keys: bool = False) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON-compatible value.

    ``ascii_keys``: the caller built every object in ``value`` with ASCII keys and no
    floats (a consent event's document), so the check for them is skipped.

    Event documents hold only ASCII keys, strings, safe integers, booleans and nulls. For
    those, RFC 8785 is exactly what ``orjson`` writes with sorted keys (same string
    escapes, same key order, no whitespace), in native code; anything else (floats,
    non-ASCII keys, integers beyond 2**53) goes through the general ``rfc8785``. A
    property test holds the two to the same bytes.
    """
    if ascii_keys or _plain(value):
        try:
            return orjson.dumps(value, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            pass  # an integer beyond 2**53: rfc8785 says what to do with it
    return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    """No floats and no non-ASCII keys anywhere (``orjson`` refuses what else is not JSON)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(key) is str and key.isascii() for key in item):
                return False
            children = item.values()
        elif kind is list:
            children = item
        else:
            return kind is not float  # a scalar at the top
        for inner in children:
            inner_kind = type(inner)
            if inner_kind is dict or inner_kind is list:
                pending.append(inner)
            elif inner_kind is float:
                return False
    return True


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
