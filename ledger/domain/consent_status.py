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
    LedgerEvent,
    OptedIn,
    OptedOut,
    OptInAccepted,
    OptInRejected,
    OptInRequested,
    OptInRequestExpired,
    OptInRequestUndeliverable,
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


# Statuses a new request may turn into ``pending``: it never downgrades a given consent
# and never hides a withdrawal.
REQUESTABLE = frozenset(
    {Status.NONE, Status.PENDING, Status.REJECTED, Status.EXPIRED, Status.UNDELIVERABLE}
)
ONLY_PENDING = frozenset({Status.PENDING})


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

    def status_of(self, purpose: str) -> PurposeStatus | None:
        """The effective status of ``purpose``: its own entry, the channel-wide one, or
        the erasure, whichever was decided last."""
        effective = self.entries.get(purpose)
        if self.everything is not None and self.everything.decided_after(effective):
            effective = self.everything
        if self.erasure is not None and self.erasure.decided_after(effective):
            effective = self.erasure
        return effective

    def channel_wide(self) -> PurposeStatus | None:
        """The status of purposes never named: after a plain STOP, or an erasure."""
        if self.erasure is not None and self.erasure.decided_after(self.everything):
            return self.erasure
        return self.everything

    def statuses(self) -> dict[str, PurposeStatus]:
        """Effective status of every purpose on record, plus ``"*"`` after a plain STOP
        or an erasure."""
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


def _with_scoped(
    base: PurposeStatus | None, scoped: list[tuple[str, PurposeStatus]]
) -> PurposeStatus | None:
    effective = base
    for owner, withdrawal in scoped:
        lifted = (
            base is not None
            and base.decided_after(withdrawal)
            and (base.sender in (None, owner) or base.status in (Status.OPTED_OUT, Status.ERASED))
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
    )


def _erasure(state: SubjectState, event: PersonalDataErased) -> PurposeStatus:
    """``erased``, decided when the ledger recorded it, and never before anything the
    subject had on record (a source clock ahead of ours must not outrank an erasure)."""
    decided = [s.since for s in (*state.entries.values(), state.everything, state.erasure) if s]
    since = max([event.timestamp, *decided])
    return PurposeStatus(Status.ERASED, since, event.event_id, event.originator_version)


def _apply_consent(state: SubjectState, event: ConsentEvent) -> SubjectState:
    entries = dict(state.entries)
    everything = state.everything
    pending = state.pending
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
        current = state.status_of(purpose)
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
    elif isinstance(event, OptedOut):
        if event.all_purposes:
            withdrawal = decided(Status.OPTED_OUT)
            if withdrawal.decided_after(everything):
                everything = withdrawal
        for purpose in event.purposes:
            set_status(purpose, Status.OPTED_OUT)

    if pending is not None and not isinstance(event, OptInRequested | ConfirmationSent):
        answered = event.request_id == pending.request_id
        overlaps = event.all_purposes or bool(set(event.purposes) & set(pending.purposes))
        if answered or (isinstance(event, OptedOut | OptedIn) and overlaps):
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
