"""A subject's consent status: a pure fold of its events.

Per purpose: ``none -> pending -> opted_in | rejected | expired | undeliverable``, and
``opted_out`` from anywhere. A plain STOP (``all_purposes``) withdraws every purpose on
the channel, including purposes the subject was never asked about; it is kept as a
channel-wide entry (shown as purpose ``"*"``) that shadows older per-purpose entries.

Gateways deliver late and out of order, so a status is decided by the event that
*occurred* last (``occurred_at``; ties go to the later ledger version): a late, older
event is recorded in the history but never overrides a newer state.

An erasure (``PersonalDataErased``) ends targeting: every purpose, and the channel-wide
``"*"``, becomes ``erased``, decided no earlier than anything the subject had on record,
and a pending request is dropped. Only a consent that occurs after the erasure (the
person opting in again) changes a purpose's status again.

An invalidation (``ConsentInvalidated``: the number was reassigned or disconnected) is
channel-wide too: every purpose decided no later than it becomes ``invalidated`` and a
pending request is dropped; a consent that occurred after it (the new holder opting in)
decides a purpose again, and a new request may be made.

A lapse (``ConsentLapsed``) turns a purpose that is still ``opted_in`` by the grant it
names (not renewed since) into ``lapsed``; a new grant or an accepted re-permission
request makes it ``opted_in`` again.

A held opt-out (``OptOutHeld``: a gateway's opt-out that came in a burst) makes every
purpose ``held`` while the hold lasts, whatever else happens meanwhile; the statuses
underneath keep being decided. A release (``HeldOptOutReleased``) ends the hold with the
opt-out, decided at the time the gateway reported it; a dismissal ends it with nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from ledger.events import (
    GENESIS_HASH,
    ConfirmationSent,
    ConsentEvent,
    ConsentInvalidated,
    ConsentLapsed,
    HeldOptOutDismissed,
    HeldOptOutReleased,
    LedgerEvent,
    OptedIn,
    OptedOut,
    OptInAccepted,
    OptInRejected,
    OptInRequested,
    OptInRequestExpired,
    OptInRequestUndeliverable,
    OptOutHeld,
    PersonalDataErased,
)

ALL_PURPOSES = "*"


class Status(StrEnum):
    NONE = "none"
    PENDING = "pending"
    OPTED_IN = "opted_in"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNDELIVERABLE = "undeliverable"
    OPTED_OUT = "opted_out"
    ERASED = "erased"  # the subject's personal data was erased: never targeted again
    INVALIDATED = "invalidated"  # the number was reassigned or disconnected
    LAPSED = "lapsed"  # a grant older than the tenant's policy allows, not renewed
    HELD = "held"  # a gateway's opt-out is held for review: no messages meanwhile


# Statuses a new request may turn into ``pending``: it never downgrades a given consent
# and never hides a withdrawal.
REQUESTABLE = frozenset(
    {
        Status.NONE,
        Status.PENDING,
        Status.REJECTED,
        Status.EXPIRED,
        Status.UNDELIVERABLE,
        Status.INVALIDATED,
        Status.LAPSED,
    }
)
ONLY_PENDING = frozenset({Status.PENDING})
ONLY_OPTED_IN = frozenset({Status.OPTED_IN})


@dataclass(frozen=True)
class PurposeStatus:
    """The status of one purpose and the event that decided it."""

    status: Status
    since: datetime
    event_id: UUID
    version: int
    method: str | None = None
    keyword: str | None = None
    # The business sender of the event that decided it (evidence ``sender``), if known.
    sender: str | None = None

    def decided_after(self, other: PurposeStatus | None) -> bool:
        return other is None or (self.since, self.version) >= (other.since, other.version)


@dataclass(frozen=True)
class PendingRequest:
    request_id: UUID
    event_id: UUID
    purposes: tuple[str, ...]
    requested_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Hold:
    """A gateway's opt-out held for review: what it would withdraw, and when it said so."""

    event_id: UUID
    version: int
    since: datetime
    purposes: tuple[str, ...]
    all_purposes: bool

    @property
    def status(self) -> PurposeStatus:
        return PurposeStatus(
            Status.HELD, self.since, self.event_id, self.version, "provider_signal"
        )


@dataclass(frozen=True)
class SubjectState:
    id: UUID
    version: int = 0
    tenant: str = ""
    channel: str = ""
    last_hash: str = GENESIS_HASH
    entries: Mapping[str, PurposeStatus] = field(default_factory=lambda: MappingProxyType({}))
    everything: PurposeStatus | None = None
    pending: PendingRequest | None = None
    # The latest erasure (status ``erased``); it outranks what was decided before it.
    erasure: PurposeStatus | None = None
    # Opt-outs scoped to one sender (``ledger/domain/sender_scope.py``): sender ->
    # purpose (or ``"*"``) -> the withdrawal. They never change the channel's statuses.
    senders: Mapping[str, Mapping[str, PurposeStatus]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # The latest invalidation (status ``invalidated``): it outranks what was decided
    # before it, and only what occurred after it outranks it.
    invalidation: PurposeStatus | None = None
    # A gateway's opt-out held for review: every purpose is ``held`` until it is decided.
    hold: Hold | None = None

    def status_of(self, purpose: str) -> PurposeStatus | None:
        """The effective status of ``purpose``: ``held`` while a hold lasts (unless
        erased), else ``decided_status``."""
        decided = self.decided_status(purpose)
        return self._held(decided)

    def _held(self, decided: PurposeStatus | None) -> PurposeStatus | None:
        if self.hold is None or (decided is not None and decided.status is Status.ERASED):
            return decided
        return self.hold.status

    def decided_status(self, purpose: str) -> PurposeStatus | None:
        """The status of ``purpose`` beneath any hold: its own entry, the channel-wide
        one, the invalidation or the erasure, whichever was decided last."""
        effective = self.entries.get(purpose)
        if self.everything is not None and self.everything.decided_after(effective):
            effective = self.everything
        if self.invalidation is not None and self.invalidation.decided_after(effective):
            effective = self.invalidation
        if self.erasure is not None and self.erasure.decided_after(effective):
            effective = self.erasure
        return effective

    def channel_wide(self) -> PurposeStatus | None:
        """The status of purposes never named: after a plain STOP, an invalidation, an
        erasure, or while a hold lasts."""
        wide = self.everything
        if self.invalidation is not None and self.invalidation.decided_after(wide):
            wide = self.invalidation
        if self.erasure is not None and self.erasure.decided_after(wide):
            wide = self.erasure
        return self._held(wide)

    def statuses(self) -> dict[str, PurposeStatus]:
        """Effective status of every purpose on record, plus ``"*"`` after a plain STOP,
        an invalidation or an erasure."""
        result: dict[str, PurposeStatus] = {}
        for purpose in sorted(self.entries):
            effective = self.status_of(purpose)
            if effective is not None:
                result[purpose] = effective
        wide = self.channel_wide()
        if wide is not None:
            result[ALL_PURPOSES] = wide
        return result

    def is_opted_out(self, purpose: str) -> bool:
        effective = self.status_of(purpose)
        return effective is not None and effective.status is Status.OPTED_OUT

    def is_erased(self, purpose: str) -> bool:
        effective = self.status_of(purpose)
        return effective is not None and effective.status is Status.ERASED

    @property
    def known_purposes(self) -> tuple[str, ...]:
        return tuple(sorted(self.entries))

    def status_for(self, purpose: str, sender: str | None) -> PurposeStatus | None:
        """The effective status of ``purpose`` for messages from ``sender``: the channel's,
        unless an opt-out scoped to that sender still stands. With no sender named, an
        opt-out scoped to any sender stands (the safer answer).

        A scoped opt-out stands until a later decision for the same sender or for no
        sender in particular, or a later withdrawal or erasure: an opt-in sent to
        another sender does not lift it."""
        return _with_scoped(self.status_of(purpose), self._scoped(purpose, sender))

    def statuses_for(self, sender: str | None) -> dict[str, PurposeStatus]:
        """``statuses()`` as ``status_for`` sees them for ``sender``."""
        result: dict[str, PurposeStatus] = {}
        owners = [sender] if sender is not None else list(self.senders)
        scoped = {p for owner in owners for p in self.senders.get(owner, {})}
        for purpose in sorted((set(self.entries) | scoped) - {ALL_PURPOSES}):
            effective = self.status_for(purpose, sender)
            if effective is not None:
                result[purpose] = effective
        wide = _with_scoped(self.channel_wide(), self._scoped(ALL_PURPOSES, sender))
        if wide is not None:
            result[ALL_PURPOSES] = wide
        return result

    def _scoped(self, purpose: str, sender: str | None) -> list[tuple[str, PurposeStatus]]:
        owners = [sender] if sender is not None else sorted(self.senders)
        return [
            (owner, own[key])
            for owner in owners
            for own in (self.senders.get(owner, {}),)
            for key in dict.fromkeys((purpose, ALL_PURPOSES))
            if key in own
        ]


# Channel decisions that end a scoped opt-out whatever sender they came through.
_LIFTING = frozenset({Status.OPTED_OUT, Status.ERASED, Status.INVALIDATED})


def _with_scoped(
    base: PurposeStatus | None, scoped: list[tuple[str, PurposeStatus]]
) -> PurposeStatus | None:
    effective = base
    for owner, withdrawal in scoped:
        lifted = (
            base is not None
            and base.decided_after(withdrawal)
            and (base.sender in (None, owner) or base.status in _LIFTING)
        )
        if not lifted and (effective is base or withdrawal.decided_after(effective)):
            effective = withdrawal
    return effective


def fold(subject_id: UUID, events: Iterable[LedgerEvent]) -> SubjectState:
    state = SubjectState(id=subject_id)
    for event in events:
        state = apply(state, event)
    return state


def apply(state: SubjectState, event: LedgerEvent) -> SubjectState:
    """The state after ``event``. Events of other kinds only advance the chain."""
    if isinstance(event, ConsentEvent):
        return _apply_consent(state, event)
    erasure, pending = state.erasure, state.pending
    if isinstance(event, PersonalDataErased):
        erasure, pending = _erasure(state, event), None
    return SubjectState(
        id=state.id,
        version=event.originator_version,
        tenant=event.tenant,
        channel=event.channel,
        last_hash=event.hash,
        entries=state.entries,
        everything=state.everything,
        pending=pending,
        erasure=erasure,
        senders=state.senders,
        invalidation=state.invalidation,
        hold=state.hold,
    )


def _erasure(state: SubjectState, event: PersonalDataErased) -> PurposeStatus:
    """``erased``, decided when the ledger recorded it, and never before anything the
    subject had on record (a source clock ahead of ours must not outrank an erasure)."""
    on_record = (*state.entries.values(), state.everything, state.erasure, state.invalidation)
    decided = [s.since for s in on_record if s]
    since = max([event.timestamp, *decided])
    return PurposeStatus(Status.ERASED, since, event.event_id, event.originator_version)


def _apply_consent(state: SubjectState, event: ConsentEvent) -> SubjectState:
    entries = dict(state.entries)
    everything = state.everything
    pending = state.pending
    invalidation = state.invalidation
    hold = state.hold
    since, version = event.occurred_at, event.originator_version
    method, keyword = event.evidence.get("method"), event.evidence.get("keyword")
    sender = event.evidence.get("sender")
    senders = state.senders

    def decided(status: Status) -> PurposeStatus:
        return PurposeStatus(status, since, event.event_id, version, method, keyword, sender)

    # An answer to the pending request resolves what that request set, whatever the
    # clocks say (an answer cannot precede its question); it never overrides a status
    # that a different, later event decided.
    answered_request = (
        pending.event_id if pending is not None and event.request_id == pending.request_id else None
    )

    def set_status(
        purpose: str, status: Status, only_from: frozenset[Status] | None = None
    ) -> None:
        current = state.decided_status(purpose)
        resolves = current is not None and current.event_id == answered_request
        newer = current is None or (since, version) >= (current.since, current.version)
        if not (resolves or newer):
            return
        if only_from is not None and (current.status if current else Status.NONE) not in only_from:
            return
        entries[purpose] = decided(status)

    if isinstance(event, OptInRequested):
        for purpose in event.purposes:
            set_status(purpose, Status.PENDING, only_from=REQUESTABLE)
        pending = PendingRequest(
            request_id=event.request_id or event.event_id,
            event_id=event.event_id,
            purposes=tuple(event.purposes),
            requested_at=event.timestamp,
            expires_at=event.expires_at,
        )
    elif isinstance(event, OptInAccepted | OptedIn):
        for purpose in event.purposes:
            set_status(purpose, Status.OPTED_IN)
    elif isinstance(event, OptInRejected):
        for purpose in event.purposes:
            set_status(purpose, Status.REJECTED)
    elif isinstance(event, OptInRequestExpired):
        for purpose in event.purposes:
            set_status(purpose, Status.EXPIRED, only_from=ONLY_PENDING)
    elif isinstance(event, OptInRequestUndeliverable):
        for purpose in event.purposes:
            set_status(purpose, Status.UNDELIVERABLE, only_from=ONLY_PENDING)
    elif isinstance(event, OptedOut) and sender and event.evidence.get("opt_out_scope") == "sender":
        senders = _scoped_withdrawal(senders, sender, event, decided(Status.OPTED_OUT))
    elif isinstance(event, OptOutHeld):
        if hold is None:
            hold = Hold(event.event_id, version, since, tuple(event.purposes), event.all_purposes)
    elif isinstance(event, HeldOptOutDismissed):
        if hold is not None and hold.event_id == event.hold_id:
            hold = None
    elif isinstance(event, OptedOut | HeldOptOutReleased):
        if isinstance(event, HeldOptOutReleased) and hold is not None:
            hold = None if hold.event_id == event.hold_id else hold
        if event.all_purposes:
            withdrawal = decided(Status.OPTED_OUT)
            if withdrawal.decided_after(everything):
                everything = withdrawal
        for purpose in event.purposes:
            set_status(purpose, Status.OPTED_OUT)
    elif isinstance(event, ConsentLapsed):
        for purpose in event.purposes:
            current = state.decided_status(purpose)
            if current is not None and current.since <= event.granted_at:  # not renewed
                set_status(purpose, Status.LAPSED, only_from=ONLY_OPTED_IN)
    elif isinstance(event, ConsentInvalidated):
        ended = decided(Status.INVALIDATED)
        if ended.decided_after(invalidation):
            invalidation = ended
        pending = None  # the request went to the number's previous holder

    if pending is not None and not isinstance(event, OptInRequested | ConfirmationSent):
        answered = event.request_id == pending.request_id
        overlaps = event.all_purposes or bool(set(event.purposes) & set(pending.purposes))
        withdraws = isinstance(event, OptedOut | OptedIn | HeldOptOutReleased)
        if answered or (withdraws and overlaps):
            pending = None
    return SubjectState(
        id=state.id,
        version=version,
        tenant=event.tenant,
        channel=event.channel,
        last_hash=event.hash,
        entries=MappingProxyType(entries),
        everything=everything,
        pending=pending,
        erasure=state.erasure,
        senders=senders,
        invalidation=invalidation,
        hold=hold,
    )


def _scoped_withdrawal(
    senders: Mapping[str, Mapping[str, PurposeStatus]],
    sender: str,
    event: OptedOut,
    withdrawal: PurposeStatus,
) -> Mapping[str, Mapping[str, PurposeStatus]]:
    """``senders`` with an opt-out scoped to ``sender`` (a plain STOP: ``"*"`` too)."""
    own = dict(senders.get(sender, {}))
    keys = ([ALL_PURPOSES] if event.all_purposes else []) + list(event.purposes)
    for key in keys:
        if withdrawal.decided_after(own.get(key)):
            own[key] = withdrawal
    updated = dict(senders)
    updated[sender] = MappingProxyType(own)
    return MappingProxyType(updated)
