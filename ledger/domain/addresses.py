"""Channels and the normalisation of the addresses people are reached at.

Both channels address people by phone number, stored in E.164 (``+14155550100``).
Gateways write numbers in their own ways (``16315551181`` from WhatsApp Cloud API,
``whatsapp:+14155550100`` from Twilio); all of them normalise to the same E.164 string,
so one person is one subject whichever gateway reported them.

A number is accepted when it is *possible* for its country (right length and shape),
not only when the library's range tables call it *valid*: a STOP from a number in a range
allocated after the tables were published must still be recorded, because a missed STOP
breaks the law.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from ledger.domain.bounded_cache import BoundedCache
from ledger.domain.e164 import e164_as_written
from ledger.domain.errors import InvalidAddress, UnknownChannel


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"


CHANNEL_NAMES = ", ".join(c.value for c in Channel)

_GATEWAY_PREFIXES = ("whatsapp:", "sms:", "tel:")
# The longest address text taken to the parser (and its cache): E.164 has at most 15
# digits; a gateway prefix, spaces and dashes fit well within this. Longer is refused
# at once, so refused values cannot grow the cache beyond its entries times this.
MAX_ADDRESS_INPUT = 64


def parse_channel(value: str, *, field: str = "channel") -> Channel:
    try:
        return Channel(value.strip().lower())
    except ValueError:
        shown = value if len(value) <= 32 else value[:32] + "…"
        raise UnknownChannel(
            f"unknown channel {shown!r}; known channels: {CHANNEL_NAMES}", field=field
        ) from None


def normalise_address(channel: Channel, value: str, *, field: str = "address") -> str:
    """Return the E.164 form of ``value`` or raise ``InvalidAddress`` naming ``field``.

    The refusal never repeats the value: an address is personal data, and errors are
    logged and shown (issue 13)."""
    if len(value) > MAX_ADDRESS_INPUT:
        raise InvalidAddress(
            f"an address is at most {MAX_ADDRESS_INPUT} characters (got {len(value)})",
            field=field,
        )
    # Parsing is the costly part of an inbound message, and one person writes again and
    # again: accepted numbers are cached; refusals are not (a caller's junk holds no memory).
    cached = _ACCEPTED.get_or_compute(value, _e164, keep=False)
    if isinstance(cached, str):
        _ACCEPTED.put(value, cached)
        return cached
    raise InvalidAddress(cached.message, field=field)


@dataclass(frozen=True)
class _Refusal:
    message: str


ADDRESS_CACHE_ENTRIES = 65_536
_ACCEPTED: BoundedCache[str, str | _Refusal] = BoundedCache("addresses", ADDRESS_CACHE_ENTRIES)


def bound_address_cache(entries: int) -> None:
    """Hold at most ``entries`` parsed addresses (``CONSENT_LEDGER_ADDRESS_CACHE_ENTRIES``)."""
    _ACCEPTED.max_entries = entries


def _e164(value: str) -> str | _Refusal:
    raw = value.strip()
    lowered = raw.lower()
    for prefix in _GATEWAY_PREFIXES:
        if lowered.startswith(prefix):
            raw = raw[len(prefix) :].strip()
            break
    compact = raw.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.isdigit():
        compact = "+" + compact
    if not compact.startswith("+") or not compact[1:].isdigit():
        return _Refusal("not a phone number in international form (+<country><number>)")
    as_written = e164_as_written(compact)
    if as_written is not None:
        return as_written
    try:
        number = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as exc:
        return _Refusal(f"not a phone number: {exc}")
    if not phonenumbers.is_possible_number(number):
        return _Refusal("not a possible phone number for its country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
