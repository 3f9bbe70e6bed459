"""Addresses are normalised to E.164 so every gateway's spelling is one subject."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.addresses import Channel, normalise_address, parse_channel
from ledger.domain.e164 import e164_as_written
from ledger.domain.errors import InvalidAddress, UnknownChannel
from ledger.domain.subjects import resolve_subject


@pytest.mark.parametrize(
    "raw",
    ["+14155550100", "14155550100", "whatsapp:+14155550100", "+1 (415) 555-0100", "0014155550100"],
)
def test_gateway_spellings_normalise_to_one_e164_number(raw: str) -> None:
    assert normalise_address(Channel.WHATSAPP, raw) == "+14155550100"


def test_one_person_on_one_channel_is_one_subject_whatever_the_spelling() -> None:
    a = resolve_subject("acme", "whatsapp", "16315551181")
    b = resolve_subject("acme", "WhatsApp", "+1 631 555 1181")
    assert a.id == b.id
    assert resolve_subject("acme", "sms", "+16315551181").id != a.id
    assert resolve_subject("other", "whatsapp", "+16315551181").id != a.id


@pytest.mark.parametrize("raw", ["+1415", "hello", "", "+99912345678901234", "+44 abc"])
def test_impossible_numbers_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidAddress) as error:
        normalise_address(Channel.SMS, raw, field="events[2].address")
    assert error.value.field == "events[2].address"


def test_an_unknown_channel_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownChannel, match="whatsapp, sms"):
        parse_channel("telegram")


def _full_parser(compact: str) -> str | None:
    """What the library's parser makes of ``compact``: its E.164 form, or None if refused."""
    try:
        number = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@given(
    code=st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
    national=st.text(alphabet="0123456789", min_size=0, max_size=17),
)
@settings(max_examples=1000)
def test_the_e164_fast_path_answers_as_the_full_parser_for_every_country(
    code: int, national: str
) -> None:
    compact = f"+{code}{national}"
    fast = e164_as_written(compact)
    if fast is not None:  # when the fast path answers, the parser agrees
        assert fast == _full_parser(compact)
    # and normalising gives the parser's answer either way
    expected = _full_parser(compact)
    if expected is None:
        with pytest.raises(InvalidAddress):
            normalise_address(Channel.SMS, compact)
    else:
        assert normalise_address(Channel.SMS, compact) == expected


@given(st.text(alphabet="0123456789", min_size=1, max_size=18))
@settings(max_examples=800)
def test_the_e164_fast_path_never_answers_otherwise_than_the_parser(digits: str) -> None:
    compact = "+" + digits
    fast = e164_as_written(compact)
    if fast is not None:
        assert fast == _full_parser(compact)


def test_common_numbers_take_the_fast_path_and_other_scripts_digits_do_not() -> None:
    for number in ("+14155550100", "+447911123456", "+4915112345678", "+919876543210"):
        assert e164_as_written(number) == number
    assert e164_as_written("+١٤١٥٥٥٥٠١٠٠") is None  # Arabic-Indic digits: the parser's job
    assert normalise_address(Channel.SMS, "+١٤١٥٥٥٥٠١٠٠") == "+14155550100"
