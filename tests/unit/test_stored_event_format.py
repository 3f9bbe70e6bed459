"""Every stored event class is written byte for byte as the eventsourcing library writes
it, and each side reads what the other wrote: rows stored before and after stay readable."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    Transcoder,
    UUIDAsHex,
)

import ledger.access
import ledger.events
import ledger.tenants.events
from ledger.persistence.transcoder import NativeJSONTranscoder

MODULES = (ledger.events, ledger.tenants.events, ledger.access)


def stored_classes() -> Iterator[type[DomainEvent]]:
    pending = list(DomainEvent.__subclasses__())
    seen: set[type[DomainEvent]] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if cls.__module__ in {m.__name__ for m in MODULES}:
            yield cls


def example(hint: Any, name: str) -> Any:
    """A value for a field: text with non-ASCII and escapes, times off UTC, nested JSON."""
    origin = typing.get_origin(hint)
    if hint is UUID or (isinstance(hint, typing.TypeVar)):
        return uuid4()
    if hint is datetime:
        return datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    if hint is bool:
        return True
    if hint is int:
        return 7
    if hint is str:
        return f'{name} «é» "q" \\ \n ☃'
    if origin is list:
        return ["marketing", "utility é"]
    if origin is dict:
        return {"method": "web_form", "nested": {"n": 1, "t": "ü", "l": [1, "x", None]}}
    if origin in (typing.Union, type(int | None)):
        return example(next(a for a in typing.get_args(hint) if a is not type(None)), name)
    raise AssertionError(f"no example for {hint!r}")


def event_of(cls: type[DomainEvent]) -> DomainEvent:
    hints = typing.get_type_hints(cls)
    values = {f.name: example(hints[f.name], f.name) for f in dataclasses.fields(cls) if f.init}
    values["originator_version"] = 3
    return cls(**values)


def mapper(transcoder: Transcoder) -> Mapper[UUID]:
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder)


CLASSES = sorted(stored_classes(), key=lambda c: f"{c.__module__}:{c.__qualname__}")


def test_every_stored_event_class_is_covered() -> None:
    names = {c.__qualname__ for c in CLASSES}
    assert {"OptedIn", "OptedOut", "PersonalDataErased", "KeywordRulesChanged"} <= names
    assert "ApiKey.Issued" in names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_rows_are_the_library_s_bytes_and_read_back_both_ways(cls: type[DomainEvent]) -> None:
    event = event_of(cls)
    native, library = mapper(NativeJSONTranscoder()), mapper(JSONTranscoder())
    ours, theirs = native.to_stored_event(event), library.to_stored_event(event)
    assert ours.state == theirs.state
    assert ours.topic == theirs.topic
    assert native.to_domain_event(theirs) == event  # old rows read by the new code
    assert library.to_domain_event(ours) == event  # new rows read by the library


def test_a_time_keeps_its_offset_when_stored() -> None:
    event = event_of(ledger.events.OptedIn)
    back = mapper(NativeJSONTranscoder()).to_domain_event(
        mapper(JSONTranscoder()).to_stored_event(event)
    )
    assert back.timestamp == event.timestamp
    assert back.timestamp.utcoffset() == timedelta(hours=2)
    assert back.timestamp.astimezone(UTC) == event.timestamp
