"""The fast path for numbers already written in E.164 (``+`` and digits).

``phonenumbers.parse`` is the costly part of recording an event for a new person (tens of
microseconds of Python: pattern searches, extension and RFC 3966 handling, national
prefix stripping). A number a gateway or a form already sends as ``+<country><number>``
needs none of that when three things hold, read from the same metadata ``parse`` uses:

- its first 1-3 digits are a country calling code (the shortest that is one, as
  ``parse`` takes it) and the national number does not start with ``0``;
- the country's national prefix for parsing does not match the national number's start
  (so ``parse`` would not strip anything from it);
- its length is a possible length of the country's numbers (``is_possible_number``).

Then ``parse`` followed by ``format_number(E164)`` gives back the input itself, so
``e164_as_written`` returns it unchanged. Anything else returns ``None`` and takes the
library's full path. A property test holds the two paths to the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, region_code_for_country_code

_MAX_COUNTRY_CODE_DIGITS = 3


@dataclass(frozen=True)
class _Country:
    national_prefix: re.Pattern[str] | None
    lengths: frozenset[int]


_COUNTRIES: dict[str, _Country | None] = {}


def e164_as_written(compact: str) -> str | None:
    """``compact`` (``+`` then digits, nothing else) when it is a possible number that
    E.164 formatting gives back unchanged; ``None``: ask the full parser."""
    digits = compact[1:]
    if digits[:1] in ("", "0") or not digits.isascii():  # other scripts' digits: the parser
        return None
    for size in range(1, _MAX_COUNTRY_CODE_DIGITS + 1):
        code = digits[:size]
        country = _COUNTRIES.get(code)
        if country is None and code not in _COUNTRIES:
            country = _COUNTRIES[code] = _country(code)
        if country is None:
            continue
        national = digits[size:]
        if (
            national[:1] in ("", "0")
            or len(national) not in country.lengths
            or (country.national_prefix is not None and country.national_prefix.match(national))
        ):
            return None
        return compact
    return None


def _country(code: str) -> _Country | None:
    """What the fast path needs of a calling code, or ``None`` when it is not one."""
    number = int(code)
    if str(number) != code or number not in COUNTRY_CODE_TO_REGION_CODE:
        return None
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        number, region_code_for_country_code(number)
    )
    general = metadata.general_desc if metadata is not None else None
    if metadata is None or general is None:  # never for a calling code: the parser decides
        return _Country(None, frozenset())
    lengths = frozenset(general.possible_length or ()) | frozenset(
        general.possible_length_local_only or ()
    )
    prefix = metadata.national_prefix_for_parsing
    return _Country(re.compile(prefix) if prefix else None, lengths)
