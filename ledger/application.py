"""The consent ledger: an eventsourcing application over subjects' hash-chained events."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

from ledger.canonical import utc_now
from ledger.consent_status import SubjectState, apply
from ledger.errors import LedgerError, SourceConflict, Unavailable
from ledger.events import ConsentEvent, LedgerEvent
from ledger.group_commit import GroupCommitter, Unit
from ledger.metrics import EVENTS_RECORDED
from ledger.persistence.store import LedgerStore, Receipt
from ledger.personal_data import new_data_key
from ledger.records import Recorded
from ledger.sealing import seal_event
from ledger.tenant_policy import TenantPolicy
from ledger.tenants.reading import read_policy
from ledger.work import ItemResult, WorkItem

log = logging.getLogger(__name__)

# How long a unit keeps retrying version conflicts with other processes.
CONFLICT_BUDGET_SECONDS = 20.0
TRANSIENT_ATTEMPTS = 3
# How long a tenant's settings are reused before they are read again.
POLICY_TTL_SECONDS = 1.0
TRANSIENT_WAIT_SECONDS = 0.3


class LedgerCore(Application[UUID]):
    """Storage and the unit of work; ``ConsentLedger`` adds the commands and queries."""

    name = "ConsentLedger"

    def __init__(
        self, env: dict[str, str] | None = None, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        super().__init__(env)
        if not isinstance(self.recorder, LedgerStore):
            raise TypeError("the ledger needs a LedgerStore recorder (APPLICATION_RECORDER_TOPIC)")
        self.store: LedgerStore = self.recorder
        self.clock = clock
        self._committer = GroupCommitter(self._commit_group)
        self._policies: dict[str, tuple[float, TenantPolicy]] = {}
        self._policies_lock = threading.Lock()
        self._policy_generation = 0  # bumped by forget_policy: a read begun before is not kept

    def policy_for(self, tenant: str) -> TenantPolicy:
        """The tenant's settings (ledger/tenants/), read at most every ``POLICY_TTL_SECONDS``.

        Every command needs them; reading them each time cost a round trip per inbound
        message. A change made through this process applies at once (``forget_policy``);
        one made by another process within ``POLICY_TTL_SECONDS``. Either way the events
        name the settings version that classified them (``evidence.rules_version``).
        """
        now = time.monotonic()
        with self._policies_lock:
            cached = self._policies.get(tenant)
            generation = self._policy_generation
        if cached is not None and now - cached[0] < POLICY_TTL_SECONDS:
            return cached[1]
        policy = read_policy(self, tenant)
        with self._policies_lock:
            # A change recorded while this read ran may not be in it: use it once, keep it not.
            if generation == self._policy_generation:
                self._policies[tenant] = (now, policy)
        return policy

    def forget_policy(self, tenant: str) -> None:
        with self._policies_lock:
            self._policy_generation += 1
            self._policies.pop(tenant, None)

    def load_states(self, subjects: dict[UUID, tuple[str, str]]) -> dict[UUID, SubjectState]:
        """Fold each subject's stored events; ``subjects`` maps id to (tenant, channel)."""
        stored = self.store.select_subjects(list(subjects))
        states: dict[UUID, SubjectState] = {}
        for sid, (tenant, channel) in subjects.items():
            state = SubjectState(id=sid, tenant=tenant, channel=channel)
            for item in stored[sid]:
                state = apply(state, self.ledger_event(item))
            states[sid] = state
        return states

    def ledger_event(self, stored: StoredEvent) -> LedgerEvent:
        event = self.mapper.to_domain_event(stored)
        if not isinstance(event, LedgerEvent):
            raise TypeError(f"not a ledger event: {stored.topic}")
        return event

    def run(
        self, tenant: str, items: Sequence[WorkItem], *, atomic: bool = True
    ) -> list[ItemResult]:
        """Decide every item and store all resulting events in one transaction.

        Concurrent calls are group-committed (see ``ledger.group_commit``). A version
        conflict (another process wrote the subject first) or a receipt conflict (the
        same source id arrived concurrently) re-runs the group against fresh state. With
        ``atomic``, the first item that breaks a rule fails the call and nothing of it is
        stored; otherwise that item gets its error and the others are stored.
        """
        return self._committer.submit(Unit(tenant, list(items), atomic))

    def _commit_group(self, units: list[Unit]) -> None:
        deadline = time.monotonic() + CONFLICT_BUDGET_SECONDS
        transient_failures = 0
        attempt = 0
        while True:
            attempt += 1
            try:
                self._decide_and_save(units)
                return
            except IntegrityError:
                # Another process stored a subject's next version or a source id first:
                # decide again against the state it left.
                if time.monotonic() > deadline:
                    raise Unavailable(
                        "the subject is under heavy concurrent change; nothing was stored"
                    ) from None
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))  # noqa: S311
            except (OperationalError, InterfaceError) as exc:
                # A dropped connection (database restarted, network blip): the pool
                # replaces it; give up only when the database stays away.
                transient_failures += 1
                if transient_failures >= TRANSIENT_ATTEMPTS:
                    log.error("ledger unavailable", extra={"error": str(exc)})
                    raise Unavailable(
                        "the ledger database is unavailable; nothing was stored"
                    ) from exc
                time.sleep(TRANSIENT_WAIT_SECONDS)
            except PersistenceError as exc:
                log.error("ledger write failed", extra={"error": str(exc)})
                raise Unavailable(
                    "the ledger database refused the write; nothing was stored"
                ) from exc

    def _decide_and_save(self, units: list[Unit]) -> None:
        batch = self._decide(units)
        results = [result for unit in units if unit.error is None for result in unit.results]
        if batch.events:
            outbox = [message for result in results for message in result.outbox]
            recordings = self.save(
                *batch.events,
                receipts=list(batch.receipts.values()),
                new_keys=batch.new_keys,
                outbox=outbox,
            )
            positions = {
                r.domain_event.event_id: r.notification.id  # type: ignore[attr-defined]
                for r in recordings
            }
            for result in results:
                result.positions = {e.event_id: positions[e.event_id] for e in result.events}
            for event in batch.events:
                EVENTS_RECORDED.labels(type=event.type_name).inc()
        self._fill_duplicate_positions(results)

    def _decide(self, units: list[Unit]) -> _Batch:
        """Decide every unit against fresh state; a failing unit leaves no trace."""
        now = self.clock()
        stored_receipts: dict[str, dict[tuple[str, str], Receipt]] = {}
        for tenant in {unit.tenant for unit in units}:
            keys = [
                item.source_key
                for unit in units
                if unit.tenant == tenant
                for item in unit.items
                if item.source_key is not None
            ]
            stored_receipts[tenant] = self.store.receipts(tenant, keys)
        subjects = {
            item.subject.id: (item.subject.tenant, item.subject.channel.value)
            for unit in units
            for item in unit.items
        }
        batch = _Batch(
            states=self.load_states(subjects), data_keys=self.store.data_keys(list(subjects))
        )
        for unit in units:
            unit.error = None
            unit.results = []
            draft = batch.child()
            try:
                for item in unit.items:
                    unit.results.append(
                        self._decide_item(
                            item, draft, stored_receipts[unit.tenant], unit.tenant, now, unit.atomic
                        )
                    )
            except LedgerError as error:
                unit.error = error
                continue
            batch.absorb(draft)
        return batch

    def _decide_item(
        self,
        item: WorkItem,
        batch: _Batch,
        stored_receipts: dict[tuple[str, str], Receipt],
        tenant: str,
        now: datetime,
        atomic: bool,
    ) -> ItemResult:
        sid = item.subject.id
        result = ItemResult(subject_id=sid)
        if item.source_key is not None:
            earlier = stored_receipts.get(item.source_key) or batch.receipt(
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
        state = batch.state(sid)
        try:
            drafts, result.note = item.decide(state, now)
        except LedgerError as error:
            if atomic:
                raise (error.at(item.field_prefix) if item.field_prefix else error) from None
            result.error = error
            return result
        for draft in drafts:
            event = seal_event(
                state,
                draft,
                address=item.subject.address,
                data_key=batch.data_key(sid),
                recorded_at=now,
            )
            state = apply(state, event)
            result.events.append(event)
        batch.states[sid] = state
        batch.events.extend(result.events)
        if item.messages is not None and result.events:
            result.outbox = item.messages(result)
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

    def _fill_duplicate_positions(self, results: list[ItemResult]) -> None:
        wanted = [
            (r.duplicate_of.subject_id, r.duplicate_of.version)
            for r in results
            if r.duplicate_of is not None and r.error is None
        ]
        known = self.store.positions(wanted) if wanted else {}
        for result in results:
            receipt = result.duplicate_of
            if receipt is None or result.error is not None:
                continue
            key = (receipt.subject_id, receipt.version)
            if key in known:
                result.positions = {receipt.event_id: known[key]}
            else:  # recorded in this same unit
                for other in results:
                    if receipt.event_id in other.positions:
                        result.positions = {receipt.event_id: other.positions[receipt.event_id]}


@dataclass
class _Batch:
    """What a group decided so far; ``child()`` lets one unit try and be discarded."""

    states: dict[UUID, SubjectState]
    data_keys: dict[UUID, bytes]
    events: list[ConsentEvent] = field(default_factory=list)
    receipts: dict[tuple[str, str, str], Receipt] = field(default_factory=dict)
    new_keys: dict[UUID, bytes] = field(default_factory=dict)
    parent: _Batch | None = None

    def child(self) -> _Batch:
        return _Batch(states={}, data_keys={}, parent=self)

    def state(self, sid: UUID) -> SubjectState:
        if sid in self.states:
            return self.states[sid]
        if self.parent is None:
            raise KeyError(sid)
        return self.parent.state(sid)

    def receipt(self, key: tuple[str, str, str]) -> Receipt | None:
        found = self.receipts.get(key)
        if found is None and self.parent is not None:
            return self.parent.receipt(key)
        return found

    def data_key(self, sid: UUID) -> bytes:
        """The subject's data key, creating one for a new (or erased) subject."""
        here = self.data_keys.get(sid)
        if here is not None:
            return here
        if self.parent is not None and (inherited := self.parent.find_key(sid)) is not None:
            return inherited
        self.data_keys[sid] = self.new_keys[sid] = new_data_key()
        return self.data_keys[sid]

    def find_key(self, sid: UUID) -> bytes | None:
        here = self.data_keys.get(sid)
        if here is None and self.parent is not None:
            return self.parent.find_key(sid)
        return here

    def absorb(self, child: _Batch) -> None:
        self.states.update(child.states)
        self.data_keys.update(child.data_keys)
        self.events.extend(child.events)
        self.receipts.update(child.receipts)
        self.new_keys.update(child.new_keys)


def recorded(result: ItemResult) -> Recorded | None:
    """The public answer for one item: its primary event, or the original of a duplicate."""
    receipt = result.duplicate_of
    if receipt is not None:
        return Recorded(
            subject_id=receipt.subject_id,
            event_id=receipt.event_id,
            type=receipt.type,
            version=receipt.version,
            position=result.positions.get(receipt.event_id, 0),
            duplicate=True,
        )
    primary = result.primary
    if primary is None:
        return None
    return Recorded(
        subject_id=result.subject_id,
        event_id=primary.event_id,
        type=primary.type_name,
        version=primary.originator_version,
        position=result.positions[primary.event_id],
    )


def join_field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
