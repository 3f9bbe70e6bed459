"""The ``consent_status`` fold of a rebuild, on the stored JSON of the events.

A rebuild folds millions of histories once each. Decoding every row into an event object
(``ledger.ledger_event``), folding it with ``ledger.domain.consent_status.apply`` and
dumping the state again cost ~60 µs an event; most histories are a few grants and
withdrawals. This module folds those on plain values, straight from the stored state
(``orjson``), into exactly what the generic path writes: the same rows and the same
stored state, byte for byte (``tests/unit/test_plain_fold.py`` checks it against the
ledger's own fold for random histories).

It knows only the event classes in ``PLAIN_TOPICS``, and only in the shapes it can be sure
of: a history with any other topic (an event type added later, an erasure, a request,
a hold, a scoped opt-out, an upcast class version, a value in an unexpected form) is not
folded here (``fold_plain`` returns None) and the caller folds it through the generic
path. Nothing here assumes today's set of statuses or event types is final.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.utils import get_topic

from ledger.domain.consent_status import ALL_PURPOSES, Status
from ledger.domain.times import format_time
from ledger.events import OptedIn, OptedOut, OptInAccepted, OptInRejected

# Topic -> the status it sets for the purposes it names (None: a withdrawal, below).
_SETS: dict[type, Status] = {
    OptedIn: Status.OPTED_IN,
    OptInAccepted: Status.OPTED_IN,
    OptInRejected: Status.REJECTED,
}
# Only classes still at their first version: a stored state of an older shape is upcast
# by the library's mapper, which the generic fold uses.
PLAIN_TOPICS: dict[str, tuple[type, Status]] = {
    get_topic(cls): (cls, status)
    for cls, status in {**_SETS, OptedOut: Status.OPTED_OUT}.items()
    if getattr(cls, "class_version", 1) == 1
}
_HEX = frozenset("0123456789abcdef")


class _NotPlain(Exception):
    """This history is for the generic fold."""


# A decided status: (status, since, event id as text, version, method, keyword, sender,
# since as ``format_time`` writes it).
_Decided = tuple[str, datetime, str, int, Any, Any, Any, str]


class StoredRow(NamedTuple):
    """One stored event of a subject's history, as the rebuild streams it."""

    subject_id: UUID
    version: int
    topic: str
    state: bytes  # the library's JSON
    position: int


class PlainSubject(NamedTuple):
    """A folded subject, as the tables hold it."""

    tenant: str
    channel: str
    version: int
    position: int
    events: int  # how many were folded
    state: str  # the stored state, as ``subject_snapshot.dump_state`` writes it
    statuses: list[tuple[str, _Decided]]  # (purpose, status) rows, "*" last
    personal: list[tuple[bytes, str]]  # (event id, encrypted personal data), in order


def fold_plain(history: Sequence[StoredRow]) -> PlainSubject | None:
    """The subject folded from its events in version order; None if the history holds
    anything this fold does not know (the generic fold takes it)."""
    try:
        return _fold(history)
    except _NotPlain:
        return None


def _fold(history: Sequence[StoredRow]) -> PlainSubject:
    entries: dict[str, _Decided] = {}
    everything: _Decided | None = None
    personal: list[tuple[bytes, str]] = []
    tenant = channel = last_hash = ""
    version = position = 0
    for item in history:
        known = PLAIN_TOPICS.get(item.topic)
        if known is None:
            raise _NotPlain
        cls, status = known
        data = orjson.loads(item.state)
        if type(data) is not dict or "class_version" in data:
            raise _NotPlain
        event_hex = _uuid_hex(data["event_id"])
        occurred = data["occurred_at"]
        since = _datetime(occurred)
        version, position = item.version, item.position
        evidence = data["evidence"]
        if type(evidence) is not dict:
            raise _NotPlain
        sender = evidence.get("sender")
        if cls is OptedOut and sender and evidence.get("opt_out_scope") == "sender":
            raise _NotPlain  # scoped to one sender: the generic fold keeps those
        decided: _Decided = (
            status.value,
            since,
            _dashed(event_hex),
            version,
            evidence.get("method"),
            evidence.get("keyword"),
            sender,
            spelled_as_stored(occurred["_data_"], since),
        )
        before = everything
        if cls is OptedOut and data["all_purposes"] and _after(decided, everything):
            everything = decided
        for purpose in data["purposes"]:
            current = _decided_status(entries.get(purpose), before)
            if current is None or (since, version) >= (current[1], current[3]):
                entries[purpose] = decided
        tenant, channel, last_hash = data["tenant"], data["channel"], data["hash"]
        if data.get("personal_data"):
            personal.append((bytes.fromhex(event_hex), data["personal_data"]))
    statuses = [
        (purpose, _decided_status(entries[purpose], everything)) for purpose in sorted(entries)
    ]
    if everything is not None:
        statuses.append((ALL_PURPOSES, everything))
    state = {
        "version": version,
        "tenant": tenant,
        "channel": channel,
        "last_hash": last_hash,
        "entries": {p: _dump(s) for p, s in entries.items()},
        "everything": _dump(everything) if everything else None,
        "pending": None,
        "erasure": None,
        "senders": {},
        "invalidation": None,
        "hold": None,
    }
    return PlainSubject(
        tenant=tenant,
        channel=channel,
        version=version,
        position=position,
        events=len(history),
        state=orjson.dumps(state).decode("utf-8"),
        statuses=statuses,  # type: ignore[arg-type]  # never None: entries hold a status
        personal=personal,
    )


def _after(one: _Decided, other: _Decided | None) -> bool:
    return other is None or (one[1], one[3]) >= (other[1], other[3])


def _decided_status(entry: _Decided | None, everything: _Decided | None) -> _Decided | None:
    if everything is not None and _after(everything, entry):
        return everything
    return entry


def _dump(status: _Decided) -> dict[str, Any]:
    return {
        "status": status[0],
        "since": status[7],
        "event_id": status[2],
        "version": status[3],
        "method": status[4],
        "keyword": status[5],
        "sender": status[6],
    }


def _uuid_hex(value: Any) -> str:
    """The hex of a transcoded UUID as the library stores it (32 lowercase digits)."""
    if type(value) is not dict or value.get("_type_") != "uuid_hex" or len(value) != 2:
        raise _NotPlain
    text = value.get("_data_")
    if type(text) is not str or len(text) != 32 or not _HEX.issuperset(text):
        raise _NotPlain
    return text


def _dashed(hex_text: str) -> str:
    h = hex_text
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def spelled_as_stored(text: str, moment: datetime) -> str:
    """``format_time(moment)`` for ``moment`` read from ``text``: cut from the text when
    it is a time in UTC as ``isoformat`` writes it (what the ledger stores), without
    formatting the time again (~9% of a rebuild's Python, most times being distinct)."""
    n = len(text)
    if (n == 25 or (n == 32 and text[19] == ".")) and text[10] == "T" and text.endswith("+00:00"):
        return text[:19] + (text[19:26] if n == 32 else ".000000") + "Z"
    return format_time(moment)


def _datetime(value: Any) -> datetime:
    if type(value) is not dict or value.get("_type_") != "datetime_iso" or len(value) != 2:
        raise _NotPlain
    moment = datetime.fromisoformat(value["_data_"])
    if moment.tzinfo is None:
        raise _NotPlain
    return moment
