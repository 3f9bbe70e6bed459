"""Addresses are normalised to E.164 so every gateway's spelling is one subject."""

from __future__ import annotations

import pytest

from ledger.domain.addresses import Channel, normalise_address, parse_channel
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
