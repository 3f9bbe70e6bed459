"""A rebuild's plain fold (``projections/consent_status/plain_fold.py``) writes what the
ledger's own fold writes, byte for byte, and hands every history it does not know to the
generic fold."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, Mapper, UUIDAsHex
from eventsourcing.utils import get_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto.encryption import new_data_key
from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.times import format_time
from ledger.events import (
    ConsentEvent,
    OptedIn,
    OptedOut,
    OptInAccepted,
    OptInRejected,
    OptInRequested,
)
from ledger.persistence.transcoder import NativeJSONTranscoder
from projections.bulk_load import subject_topics
from projections.consent_status.plain_fold import StoredRow, fold_plain, spelled_as_stored
from projections.consent_status.plain_rows import address_of
from projections.consent_status.rows import rows_of
from projections.subject_snapshot import dump_state
from tests.support.builders import ADDRESS, SUBJECT, chain_all, draft

KEY = new_data_key()
PURPOSES = ("marketing", "utility", "service")
KINDS = {
    "in": (OptedIn, False),
    "accepted": (OptInAccepted, False),
    "rejected": (OptInRejected, False),
    "out": (OptedOut, False),
    "out_all": (OptedOut, True),
}


def mapper() -> Mapper[Any]:
    transcoder = NativeJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


MAPPER = mapper()


def stored(events: list[ConsentEvent]) -> list[StoredRow]:
    rows = []
    for position, event in enumerate(events, start=100):
        row = MAPPER.to_stored_event(event)
        rows.append(
            StoredRow(SUBJECT, row.originator_version, row.topic, bytes(row.state), position)
        )
    return rows


def generic(events: list[ConsentEvent]) -> tuple[str, list[tuple[Any, ...]]]:
    """What the engine writes for the history: its stored state and its status rows."""
    first = events[0]
    state = SubjectState(id=SUBJECT, tenant=first.tenant, channel=first.channel)
    for event in events:
        state = apply(state, event)
    rows = rows_of(state, address=None, position=0)
    return dump_state(state), [
        (r.purpose, r.status, r.since, str(r.event_id), r.method, r.keyword, r.version)
        for r in rows
    ]


HISTORIES = st.lists(
    st.tuples(
        st.sampled_from(sorted(KINDS)),
        st.integers(min_value=0, max_value=30),  # the minute it occurred (late ones too)
        st.lists(st.sampled_from(PURPOSES), max_size=3),
        st.sampled_from([None, "stop", "end"]),  # keyword
        st.sampled_from([None, "sender-1"]),  # sender (not scoped to it)
    ),
    min_size=1,
    max_size=12,
)


def events_of(history: list[tuple[str, int, list[str], str | None, str | None]]) -> list[Any]:
    drafts = []
    for kind, minute, purposes, _, _ in history:
        cls, everything = KINDS[kind]
        drafts.append(draft(cls, minute=minute, purposes=tuple(purposes), all_purposes=everything))
    _, events = chain_all(drafts, key=KEY)
    return [
        dataclasses.replace(event, evidence={**event.evidence, "keyword": kw, "sender": sender})
        for event, (_, _, _, kw, sender) in zip(events, history, strict=True)
    ]


@settings(max_examples=300, deadline=None)
@given(HISTORIES)
def test_the_plain_fold_writes_what_the_ledgers_fold_writes(history: Any) -> None:
    events = events_of(history)
    folded = fold_plain(stored(events))
    assert folded is not None
    state, rows = generic(events)
    assert folded.state == state
    assert [(p, s[0], s[1], s[2], s[4], s[5], s[3]) for p, s in folded.statuses] == rows
    assert folded.version == events[-1].originator_version
    assert folded.position == 99 + len(events)
    assert address_of(folded, KEY) == ADDRESS
    assert address_of(folded, new_data_key()) is None
    assert address_of(folded, None) is None


def test_a_history_with_an_event_it_does_not_know_goes_to_the_generic_fold() -> None:
    _, events = chain_all(
        [draft(OptedIn, purposes=("marketing",)), draft(OptInRequested, minute=1)], key=KEY
    )
    rows = stored(events)
    assert fold_plain(rows[:1]) is not None
    assert fold_plain(rows) is None
    unknown = rows[0]._replace(topic="ledger.events:SomethingAddedLater")
    assert fold_plain([unknown]) is None


def test_an_opt_out_scoped_to_a_sender_goes_to_the_generic_fold() -> None:
    _, events = chain_all([draft(OptedOut, purposes=("marketing",))], key=KEY)
    scoped = dataclasses.replace(
        events[0], evidence={**events[0].evidence, "sender": "s-1", "opt_out_scope": "sender"}
    )
    assert fold_plain(stored([scoped])) is None


def test_an_upcast_class_version_goes_to_the_generic_fold() -> None:
    _, events = chain_all([draft(OptedIn, purposes=("marketing",))], key=KEY)
    row = stored(events)[0]
    assert fold_plain([row._replace(state=row.state[:-1] + b',"class_version":2}')]) is None


@dataclasses.dataclass(frozen=True)
class OptedInByCarrier(ConsentEvent):
    """A subject event type added after the rebuild was written (no public type name:
    lists of the ledger's public types stay as they are for the other tests)."""


def test_a_subject_event_type_added_later_is_replayed_and_folded_generically() -> None:
    topic = get_topic(OptedInByCarrier)
    assert topic in subject_topics()
    _, events = chain_all([draft(OptedIn, purposes=("marketing",))], key=KEY)
    assert fold_plain([stored(events)[0]._replace(topic=topic)]) is None


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1, 1, 1, 0, 0),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    ),
    st.booleans(),
)
def test_a_time_is_spelled_from_its_stored_text_as_format_time_spells_it(
    moment: datetime, whole_seconds: bool
) -> None:
    if whole_seconds:  # isoformat leaves the microseconds out when they are zero
        moment = moment.replace(microsecond=0)
    text = moment.isoformat()  # as the library's DatetimeAsISO stores it
    assert spelled_as_stored(text, datetime.fromisoformat(text)) == format_time(moment)
