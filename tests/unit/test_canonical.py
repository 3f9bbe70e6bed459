"""Canonical JSON is RFC 8785 for every event document the ledger hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.crypto.canonical import canonical_json
from ledger.domain.times import format_time, parse_time

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
KEYS = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
SCALARS = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | TEXT
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=30,
)


@given(DOCUMENTS)
def test_event_documents_serialise_exactly_as_rfc_8785(document: object) -> None:
    assert canonical_json(document) == rfc8785.dumps(document)


def test_values_outside_the_fast_path_still_get_rfc_8785() -> None:
    document = {"ratio": 0.1, "é": 1, "z": [1e21, -0.0]}
    assert canonical_json(document) == rfc8785.dumps(document)
    with pytest.raises(rfc8785.IntegerDomainError):
        canonical_json({"beyond_safe_integers": 2**60})


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        timezones=st.just(timezone(timedelta(hours=5, minutes=30))),
    )
)
def test_one_instant_has_one_spelling(moment: datetime) -> None:
    spelled = format_time(moment)
    assert spelled.endswith("Z")
    assert parse_time(spelled) == moment.astimezone(UTC)
    assert format_time(moment.astimezone(UTC)) == spelled


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(0)), ZoneInfo("Europe/London"), ZoneInfo("Etc/UTC")]
        ),
    )
)
def test_a_time_already_in_utc_is_spelled_as_a_converted_one(moment: datetime) -> None:
    converted = moment.astimezone(UTC).replace(tzinfo=None)
    assert format_time(moment) == converted.isoformat(timespec="microseconds") + "Z"


def test_the_repeated_hour_of_a_zone_keeps_its_two_spellings() -> None:
    first = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("Europe/London"))
    second = first.replace(fold=1)  # equal to ``first`` in Python, an hour later in fact
    assert format_time(first) == "2026-10-25T00:30:00.000000Z"
    assert format_time(second) == "2026-10-25T01:30:00.000000Z"
