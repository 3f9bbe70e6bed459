"""Ledger events as CloudEvents 1.0 in structured JSON: the format of ``consent.events``.

A subject's event::

    {"specversion": "1.0", "id": "<event id>", "source": "consent-ledger/<tenant>",
     "type": "consent.opted_out", "subject": "<subject id>", "time": "<occurred_at>",
     "datacontenttype": "application/json", "eventkind": "subject",
     "ledgerposition": 12, "subjectversion": 3,
     "data": {<the hashed event document, as in a history>, "hash": "…",
              "personal_data": "<sealed under the subject's data key>"}}

``data`` holds exactly what the ledger hashed, so a consumer checks the hash before it
trusts a record. Personal data travels only sealed: erasing the subject's key makes the
copies on Kafka unreadable too. Other events of the log (e.g. tenant settings) travel
with ``eventkind`` ``"other"``; consumers only advance their positions past them.

The Kafka key is the subject (aggregate) id, so one subject's events stay in order on
one partition; headers carry the ledger position and the subject version.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import orjson
from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic

# ledger.tenants.events is imported for its event classes: a reader must know every
# ledger event type, whatever else its process imported.
import ledger.tenants.events  # noqa: F401
from ledger.crypto.chain import event_hash
from ledger.domain.times import format_time, parse_time
from ledger.events import (
    RENAMED_FIELDS,
    ConsentEvent,
    LedgerEvent,
    _hashed_fields,
    _json_value,
)

SPEC_VERSION = "1.0"
TYPE_PREFIX = "consent."
CONTENT_TYPE = b"application/cloudevents+json"
POSITION_HEADER = "ledger-position"
VERSION_HEADER = "subject-version"
SUBJECT_KIND = "subject"
OTHER_KIND = "other"
# Ids of events that have no event id of their own (not ledger events) are derived.
OTHER_EVENTS_NAMESPACE = UUID("0b9d7f64-4a7e-5d0c-8f43-6f3b5c2e9a11")
PUBLIC_NAMES = {v: k for k, v in RENAMED_FIELDS.items()}


class UndecodableRecord(ValueError):
    """A record that is not a valid CloudEvent of the consent ledger."""


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class DecodedEvent:
    """A record read back: the ledger event (None for other kinds) and where it is."""

    event: LedgerEvent | None
    event_type: str
    subject_id: UUID
    version: int
    position: int


def encode(event: Any, position: int) -> KafkaRecord:
    """The Kafka record of a stored event at ledger ``position``."""
    subject = UUID(str(event.originator_id))
    version = int(event.originator_version)
    ledger_event = isinstance(event, LedgerEvent)
    envelope = _ledger_envelope(event) if ledger_event else _other_envelope(event)
    envelope.update(
        specversion=SPEC_VERSION,
        subject=str(subject),
        datacontenttype="application/json",
        ledgerposition=position,
        subjectversion=version,
    )
    value = orjson.dumps(envelope)
    headers = [
        (POSITION_HEADER, str(position).encode()),
        (VERSION_HEADER, str(version).encode()),
        ("content-type", CONTENT_TYPE),
    ]
    return KafkaRecord(key=str(subject).encode(), value=value, headers=headers)


def encode_stored(notification: Notification, position: int) -> KafkaRecord | None:
    """``encode`` of a ledger event straight from its stored JSON: one transform, no
    domain event built and taken apart again. The same bytes (a test compares them for
    every kind of event); None where only the mapper knows how to read the row (another
    kind of event, a class version to upcast, a transcoding other than UUIDs and times),
    and the caller encodes the mapper's event instead. The state must be the library's
    plain JSON (no cipher or compressor configured).
    """
    cls = _stored_class(notification.topic)
    if cls is None:
        return None
    state = orjson.loads(notification.state)
    if type(state) is not dict or "class_version" in state:
        return None
    stored_id = notification.originator_id
    subject = str(stored_id if isinstance(stored_id, UUID) else UUID(str(stored_id)))
    version = int(notification.originator_version)
    data: dict[str, Any] = {"type": cls.type_name}
    try:
        for name, public in _hashed_fields(cls):
            if name == "originator_id":
                data[public] = subject
            elif name == "originator_version":
                data[public] = version
            else:
                data[public] = _stored_value(state[name])
        data["hash"] = state["hash"]
        sealed = state.get("personal_data")
        moment = data["occurred_at"] if issubclass(cls, ConsentEvent) else data["recorded_at"]
        event_id = data["event_id"]
    except (KeyError, _NotPlain):
        return None
    if sealed is not None:
        data["personal_data"] = sealed
    envelope = {
        "id": event_id,
        "source": f"consent-ledger/{data['tenant']}",
        "type": TYPE_PREFIX + cls.type_name,
        "time": moment,
        "eventkind": SUBJECT_KIND,
        "data": data,
        "specversion": SPEC_VERSION,
        "subject": subject,
        "datacontenttype": "application/json",
        "ledgerposition": position,
        "subjectversion": version,
    }
    headers = [
        (POSITION_HEADER, str(position).encode()),
        (VERSION_HEADER, str(version).encode()),
        ("content-type", CONTENT_TYPE),
    ]
    return KafkaRecord(key=subject.encode(), value=orjson.dumps(envelope), headers=headers)


class _NotPlain(Exception):
    """A stored value only the mapper can read."""


def _stored_value(value: Any) -> Any:
    """A top-level stored value as the event's document holds it."""
    if type(value) is dict and len(value) == 2 and "_type_" in value and "_data_" in value:
        kind, raw = value["_type_"], value["_data_"]
        if kind == "uuid_hex":
            return str(UUID(raw))
        if kind == "datetime_iso":
            if len(raw) == 32 and raw.endswith("+00:00") and raw[19] == ".":
                return raw[:26] + "Z"  # UTC with microseconds: format_time's spelling
            return format_time(datetime.fromisoformat(raw))
        raise _NotPlain(kind)
    return value


@functools.cache
def _stored_class(topic: str) -> type[LedgerEvent] | None:
    """The ledger event class stored under ``topic``, if its rows are plain JSON of its
    current version (no upcasting); None otherwise."""
    try:
        cls = resolve_topic(topic)
    except Exception:  # the mapper will say what is wrong with it
        return None
    if not (isinstance(cls, type) and issubclass(cls, LedgerEvent) and cls.type_name):
        return None
    return cls if getattr(cls, "class_version", 1) == 1 else None


def _ledger_envelope(event: LedgerEvent) -> dict[str, Any]:
    data = event.document()
    data["hash"] = event.hash
    sealed = getattr(event, "personal_data", None)
    if sealed is not None:
        data["personal_data"] = sealed
    moment = event.occurred_at if isinstance(event, ConsentEvent) else event.timestamp
    return {
        "id": str(event.event_id),
        "source": f"consent-ledger/{event.tenant}",
        "type": TYPE_PREFIX + event.type_name,
        "time": format_time(moment),
        "eventkind": SUBJECT_KIND,
        "data": data,
    }


def _other_envelope(event: Any) -> dict[str, Any]:
    cls = type(event)
    fields = dataclasses.fields(event) if dataclasses.is_dataclass(event) else ()
    data = {f.name: _json_value(getattr(event, f.name)) for f in fields}
    data = {PUBLIC_NAMES.get(k, k): v for k, v in data.items()}
    tenant = getattr(event, "tenant", None)
    subject = event.originator_id
    return {
        "id": str(uuid5(OTHER_EVENTS_NAMESPACE, f"{subject}:{event.originator_version}")),
        "source": f"consent-ledger/{tenant}" if isinstance(tenant, str) else "consent-ledger",
        "type": TYPE_PREFIX + _snake(cls.__qualname__),
        "time": format_time(event.timestamp),
        "eventkind": OTHER_KIND,
        "data": data,
    }


def decode(value: bytes | None) -> DecodedEvent:
    """Read a record back; raises ``UndecodableRecord`` with the reason."""
    if not value:
        raise UndecodableRecord("empty record")
    try:
        envelope = orjson.loads(value)
    except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
        raise UndecodableRecord(f"not JSON: {exc}") from None
    if not isinstance(envelope, dict) or envelope.get("specversion") != SPEC_VERSION:
        raise UndecodableRecord("not a CloudEvents 1.0 structured record")
    event_type = _required(envelope, "type", str)
    position = _required(envelope, "ledgerposition", int)
    version = _required(envelope, "subjectversion", int)
    try:
        subject = UUID(_required(envelope, "subject", str))
    except ValueError:
        raise UndecodableRecord("subject is not a UUID") from None
    if position < 1 or version < 1:
        raise UndecodableRecord("ledgerposition and subjectversion must be positive")
    kind = envelope.get("eventkind")
    if kind == OTHER_KIND:
        return DecodedEvent(None, event_type, subject, version, position)
    if kind != SUBJECT_KIND:
        raise UndecodableRecord(f"unknown eventkind {kind!r}")
    cls = _event_class(event_type.removeprefix(TYPE_PREFIX))
    if cls is None or not event_type.startswith(TYPE_PREFIX):
        raise UndecodableRecord(f"unknown event type {event_type!r}")
    data = _required(envelope, "data", dict)
    event = _rebuild(cls, data)
    if event.originator_id != subject or event.originator_version != version:
        raise UndecodableRecord("subject or subjectversion disagree with the event")
    if str(event.event_id) != envelope.get("id"):
        raise UndecodableRecord("id disagrees with the event")
    if event_hash(event) != event.hash:
        raise UndecodableRecord("the event's hash does not match its content")
    return DecodedEvent(event, event_type, subject, version, position)


def ledger_event_types() -> dict[str, type[LedgerEvent]]:
    """Every concrete ledger event class by its public type name."""
    found: dict[str, type[LedgerEvent]] = {}
    pending: list[type[LedgerEvent]] = [LedgerEvent]
    while pending:
        cls = pending.pop()
        if cls.type_name:
            found[cls.type_name] = cls
        pending.extend(cls.__subclasses__())
    return found


_EVENT_CLASSES: dict[str, type[LedgerEvent]] = {}


def _event_class(type_name: str) -> type[LedgerEvent] | None:
    """``ledger_event_types()``, looked up again only for a name not seen before (a class
    imported since): walking the subclasses for every record cost 3% of the consumer."""
    cls = _EVENT_CLASSES.get(type_name)
    if cls is None:
        _EVENT_CLASSES.update(ledger_event_types())
        cls = _EVENT_CLASSES.get(type_name)
    return cls


Converter = Callable[[Any], Any] | None
_UnionType = type(int | None)


@functools.cache
def _fields_of(cls: type[LedgerEvent]) -> tuple[tuple[str, str, Converter], ...]:
    """(field name, public name, converter) of each field, resolved once per class (the
    annotations take ~0.2 ms to resolve)."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (field.name, RENAMED_FIELDS.get(field.name, field.name), _converter(hints[field.name]))
        for field in dataclasses.fields(cls)
    )


def _converter(hint: Any) -> Converter:
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else ()
    target = next((o for o in options if o is not type(None)), hint)
    if target is UUID:
        return UUID
    if target is datetime:
        return parse_time
    if target is int:
        return _integer
    return None


def _integer(value: Any) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _rebuild(cls: type[LedgerEvent], data: dict[str, Any]) -> LedgerEvent:
    values: dict[str, Any] = {}
    for name, public, convert in _fields_of(cls):
        try:
            value = data[public]
        except KeyError:
            raise UndecodableRecord(f"data.{public} is missing") from None
        if convert is not None and value is not None:
            try:
                value = convert(value)
            except (TypeError, ValueError) as exc:
                raise UndecodableRecord(f"data.{public} is malformed: {exc}") from None
        values[name] = value
    return cls(**values)


def _required(envelope: dict[str, Any], name: str, kind: type) -> Any:
    value = envelope.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UndecodableRecord(f"{name} is missing or not a {kind.__name__}")
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
