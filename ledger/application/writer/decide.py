"""Deciding a group: every unit against the state read for it, outside any lock.

``Group`` is what a group decided and leaves for the next one (states, receipts, data
keys); ``fold_states`` catches the subjects' states up with what the read found; and
``decide_unit`` runs one unit's deciders in a child of the group's batch, so a unit that
breaks a rule, or whose decider fails, leaves no trace and gets its own error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.application.writer.batch import Batch
from ledger.application.writer.queue import Unit
from ledger.application.writer.work import ItemResult, WorkItem
from ledger.crypto.chain import link_consent
from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.contacts import ContactLink
from ledger.domain.errors import LedgerError, SourceConflict, join_field
from ledger.domain.receipts import Receipt
from ledger.events import ConsentEvent, LedgerEvent
from ledger.persistence.store import RowsBeside

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Group:
    """A group decided and ready to commit, and what it leaves for the next one."""

    units: list[Unit]
    events: list[ConsentEvent] = field(default_factory=list)
    stored: list[StoredEvent] = field(default_factory=list)
    beside: RowsBeside = field(default_factory=RowsBeside)
    states: dict[UUID, SubjectState] = field(default_factory=dict)
    receipts: dict[tuple[str, str, str], Receipt] = field(default_factory=dict)
    new_keys: dict[UUID, bytes] = field(default_factory=dict)
    # The group this one was decided on top of (committed just before it), until answered.
    below: Group | None = None
    # Set by the commit: the events' positions, or why the group was not stored.
    positions: dict[UUID, int] = field(default_factory=dict)
    failure: BaseException | None = None

    @property
    def deciding(self) -> list[Unit]:
        return [unit for unit in self.units if unit.error is None]

    def take_from(self, batch: Batch, encode: Callable[[ConsentEvent], StoredEvent]) -> None:
        """Take what the units decided into the batch: events, rows, states."""
        self.events = batch.events
        self.stored = [encode(event) for event in batch.events]
        self.states = dict(batch.states.maps[0])
        self.receipts = dict(batch.receipts.maps[0])
        self.new_keys = dict(batch.new_keys)
        results = [r for unit in self.deciding for r in unit.results]
        self.beside = RowsBeside(
            receipts=list(self.receipts.values()),
            new_keys=self.new_keys,
            outbox=[m for r in results for m in r.outbox],
            contact_links=[link for r in results for link in r.contact_links],
        )


def fold_states(
    channels: dict[UUID, tuple[str, str]],
    known: dict[UUID, SubjectState],
    newer: dict[UUID, list[StoredEvent]],
    decode: Callable[[StoredEvent], LedgerEvent],
) -> dict[UUID, SubjectState]:
    """Each subject's state: the one known, caught up with the newer stored events."""
    states: dict[UUID, SubjectState] = {}
    for sid, (tenant, channel) in channels.items():
        state = known.get(sid) or SubjectState(id=sid, tenant=tenant, channel=channel)
        for stored in newer.get(sid, ()):
            state = apply(state, decode(stored))
        states[sid] = state
    return states


def decide_unit(
    unit: Unit, batch: Batch, stored_receipts: dict[tuple[str, str], Receipt], now: datetime
) -> None:
    unit.results = []
    unit.error = None
    attempt = batch.child()
    try:
        for item in unit.items:
            unit.results.append(
                _decide_item(item, attempt, stored_receipts, unit.tenant, now, unit.atomic)
            )
    except LedgerError as error:
        unit.error = error
        return
    except Exception as error:  # a decider's bug fails its own unit only
        log.exception("a unit failed to decide", extra={"tenant": unit.tenant})
        unit.error = error
        return
    batch.absorb(attempt)


def _decide_item(
    item: WorkItem,
    batch: Batch,
    stored_receipts: dict[tuple[str, str], Receipt],
    tenant: str,
    now: datetime,
    atomic: bool,
) -> ItemResult:
    sid = item.subject.id
    result = ItemResult(subject_id=sid)
    if item.source_key is not None:
        earlier = stored_receipts.get(item.source_key) or batch.receipts.get(
            (tenant, *item.source_key)
        )
        if earlier is not None:
            if earlier.subject_id != sid:
                result.error = SourceConflict(
                    f"source id {item.source_key[1]!r} was already used for another subject",
                    field=join_field(item.field_prefix, "source.id"),
                )
                if atomic:
                    raise result.error
            result.duplicate_of = earlier
            return result
    state = batch.states[sid]
    try:
        decision = item.decide(state, now)
    except LedgerError as error:
        if atomic:
            raise (error.at(item.field_prefix) if item.field_prefix else error) from None
        result.error = error
        return result
    result.match, result.reason = decision.match, decision.reason
    for draft in decision.drafts:
        event = link_consent(
            state,
            draft,
            address=item.subject.address,
            data_key=batch.data_key(sid),
            recorded_at=now,
        )
        state = apply(state, event)
        result.events.append(event)
    batch.states[sid] = result.state_after = state
    batch.events.extend(result.events)
    if item.messages is not None and result.events:
        result.outbox = item.messages(result)
    if item.contact_key is not None and result.events:
        subject = item.subject
        result.contact_links = [ContactLink(tenant, item.contact_key, sid, subject.channel.value)]
    primary = result.primary
    if primary is not None and item.source_key is not None:
        batch.receipts[(tenant, *item.source_key)] = Receipt(
            tenant=tenant,
            source_kind=item.source_key[0],
            source_id=item.source_key[1],
            subject_id=sid,
            event_id=primary.event_id,
            version=primary.originator_version,
            type=primary.type_name,
        )
    return result


def answer_group(group: Group) -> None:
    """Answer every unit of a stored group (or of one with nothing to store)."""
    positions = group.positions
    below = group.below.positions if group.below is not None else {}
    for unit in group.units:
        if unit.error is not None:
            unit.answer(unit.error)
            continue
        for result in unit.results:
            result.positions = {e.event_id: positions[e.event_id] for e in result.events}
            receipt = result.duplicate_of
            if receipt is None or result.error is not None:
                continue
            if receipt.position is not None:
                result.positions = {receipt.event_id: receipt.position}
            elif receipt.event_id in positions:  # recorded in this same group
                result.positions = {receipt.event_id: positions[receipt.event_id]}
            elif receipt.event_id in below:  # in the group this one was decided on top of
                result.positions = {receipt.event_id: below[receipt.event_id]}
        unit.answer(unit.results)
    group.below = None  # keep no chain of groups alive


def subjects_of(units: Iterable[Unit]) -> dict[UUID, tuple[str, str]]:
    return {
        item.subject.id: (item.subject.tenant, item.subject.channel.value)
        for unit in units
        for item in unit.items
    }
