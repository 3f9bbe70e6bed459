"""A subject's folded state as nested tuples of plain values, for the writer's state cache.

A ``SubjectState`` is ~10 objects Python's garbage collector tracks (the state, its UUIDs,
its purpose statuses, their mappings), and a writer keeps up to 50,000 states
(``CONSENT_LEDGER_STATE_CACHE_SUBJECTS``): a full collection walks every one of them while
the worker answers nothing (measured: ~177 ms for 50,000 states of two statuses each).
A tuple that holds only integers, strings, datetimes, ``None`` and such tuples is not
tracked (CPython stops tracking it at its first collection), so the same cache as compact
tuples costs a full collection ~1.6 ms. Compacting a state costs ~1.3 µs, expanding one
~7 µs (the UUIDs are made again).

``expand(sid, compact(state)) == state`` for every state: every field of ``SubjectState``
is kept (``tests/unit/test_compact_states.py`` fails if one is added and not kept here).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from uuid import UUID

from ledger.domain.consent_status import Hold, PendingRequest, PurposeStatus, Status, SubjectState

Compact = tuple[Any, ...]

_STATUSES = {status.value: status for status in Status}
_NO_ENTRIES: Mapping[str, PurposeStatus] = MappingProxyType({})
_NO_SENDERS: Mapping[str, Mapping[str, PurposeStatus]] = MappingProxyType({})


def compact(state: SubjectState) -> Compact:
    """``state`` as tuples of plain values (its ``id`` is the cache's key, not kept)."""
    return (
        state.version,
        state.tenant,
        state.channel,
        state.last_hash,
        _compact_entries(state.entries),
        _compact_status(state.everything),
        _compact_pending(state.pending),
        _compact_status(state.erasure),
        tuple((sender, _compact_entries(own)) for sender, own in state.senders.items()),
        _compact_status(state.invalidation),
        _compact_hold(state.hold),
    )


def expand(sid: UUID, kept: Compact) -> SubjectState:
    """The ``SubjectState`` of subject ``sid`` that ``kept`` holds."""
    (
        version,
        tenant,
        channel,
        last_hash,
        entries,
        everything,
        pending,
        erasure,
        senders,
        invalidation,
        hold,
    ) = kept
    return SubjectState(
        id=sid,
        version=version,
        tenant=tenant,
        channel=channel,
        last_hash=last_hash,
        entries=_expand_entries(entries),
        everything=_expand_status(everything),
        pending=_expand_pending(pending),
        erasure=_expand_status(erasure),
        senders=(
            MappingProxyType({sender: _expand_entries(own) for sender, own in senders})
            if senders
            else _NO_SENDERS
        ),
        invalidation=_expand_status(invalidation),
        hold=_expand_hold(hold),
    )


def _compact_entries(entries: Mapping[str, PurposeStatus]) -> Compact:
    return tuple((purpose, _compact_status(status)) for purpose, status in entries.items())


def _expand_entries(entries: Compact) -> Mapping[str, PurposeStatus]:
    if not entries:
        return _NO_ENTRIES
    return MappingProxyType({purpose: _status(status) for purpose, status in entries})


def _compact_status(status: PurposeStatus | None) -> Compact | None:
    if status is None:
        return None
    return (
        status.status.value,
        status.since,
        status.event_id.int,
        status.version,
        status.method,
        status.keyword,
        status.sender,
    )


def _expand_status(kept: Compact | None) -> PurposeStatus | None:
    return None if kept is None else _status(kept)


def _status(kept: Compact) -> PurposeStatus:
    value, since, event_id, version, method, keyword, sender = kept
    return PurposeStatus(
        _STATUSES[value], since, UUID(int=event_id), version, method, keyword, sender
    )


def _compact_pending(pending: PendingRequest | None) -> Compact | None:
    if pending is None:
        return None
    return (
        pending.request_id.int,
        pending.event_id.int,
        pending.purposes,
        pending.requested_at,
        pending.expires_at,
    )


def _expand_pending(kept: Compact | None) -> PendingRequest | None:
    if kept is None:
        return None
    request_id, event_id, purposes, requested_at, expires_at = kept
    return PendingRequest(
        UUID(int=request_id), UUID(int=event_id), purposes, requested_at, expires_at
    )


def _compact_hold(hold: Hold | None) -> Compact | None:
    if hold is None:
        return None
    return (hold.event_id.int, hold.version, hold.since, hold.purposes, hold.all_purposes)


def _expand_hold(kept: Compact | None) -> Hold | None:
    if kept is None:
        return None
    event_id, version, since, purposes, all_purposes = kept
    return Hold(UUID(int=event_id), version, since, purposes, all_purposes)
