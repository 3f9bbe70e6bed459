"""``Writer``: the one writer of a process.

Callers queue units of work (``submit``; ``run`` waits for the answer) and go on. The
writer thread takes every unit queued so far (up to ``max_group_items``) and makes them
one group:

1. **Read** what the group needs in one round trip (``LedgerStore.read_group``): the
   receipts of its source ids, each subject's events after the version the writer
   already holds (``states.py``), and data keys.
2. **Decide** each unit against that state, in Python, outside any lock: its items'
   deciders say which events to record, ``ledger.crypto.chain`` links them into the
   subjects' chains, the library's mapper encodes them. A unit that breaks a rule (or
   whose decider fails) leaves no trace and gets its own error; the others go on.
3. **Commit** on the committer thread, in one round trip (``LedgerStore.commit_group``),
   while the writer thread reads and decides the next group *on top of* this one (its
   states, receipts and keys). Groups commit one at a time and in order: the next is
   handed over only once this one is stored; if this one fails, the next is decided
   again from the database, never committed ahead of it.

Failures, each counted in ``/metrics``:

- a **conflict** (another process stored a subject's next version or a source id first):
  the group's units are decided again against the state it left, until their budget ends;
- a **refusal** of the data by the database: each unit of the group is committed alone,
  so only the one the database refuses fails (``isolated`` units);
- a **database that is away**: reads and commits are tried again by the retry policy,
  then the group's units get ``Unavailable`` (503); for a second afterwards each group is
  tried once, so queued callers are answered within the bound README promises.

After each commit the announcer wakes the log's followers (one ``NOTIFY`` for every
commit that happened while the previous one was being sent).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)

from ledger.application.ports import WriterLedger
from ledger.application.retry import RetryPolicy
from ledger.application.writer.batch import Batch
from ledger.application.writer.queue import Unit, WriteQueue
from ledger.application.writer.states import SubjectStates
from ledger.application.writer.work import ItemResult, WorkItem
from ledger.crypto.chain import link_consent
from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.errors import LedgerError, SourceConflict, Unavailable, join_field
from ledger.domain.receipts import Receipt
from ledger.events import ConsentEvent
from ledger.persistence.store import GroupRead, GroupReads, RowsBeside
from ledger.runtime.metrics import (
    ANNOUNCE_FAILURES,
    EVENTS_RECORDED,
    WRITER_CONFLICTS,
    WRITER_GROUPS,
    WRITER_ISOLATED_UNITS,
    WRITER_QUEUE_ITEMS,
    WRITER_UNAVAILABLE,
)
from ledger.runtime.writer_settings import WriterSettings

log = logging.getLogger(__name__)

# After the database was found away, for this long each group is tried once, not retried.
DEGRADED_SECONDS = 1.0
IDLE_WAIT_SECONDS = 0.5


@dataclass
class Group:
    """A group decided and ready to commit, and what it leaves for the next one."""

    units: list[Unit]
    events: list[ConsentEvent] = field(default_factory=list)
    stored: list[StoredEvent] = field(default_factory=list)
    beside: RowsBeside = field(default_factory=RowsBeside)
    states: dict[UUID, SubjectState] = field(default_factory=dict)
    receipts: dict[tuple[str, str, str], Receipt] = field(default_factory=dict)
    new_keys: dict[UUID, bytes] = field(default_factory=dict)
    # The group this one was decided on top of (committed just before it), until resolved.
    below: Group | None = None
    # Set by the committer: the events' positions, or why the group was not stored.
    positions: dict[UUID, int] = field(default_factory=dict)
    failure: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def deciding(self) -> list[Unit]:
        return [unit for unit in self.units if unit.error is None]


class Writer:
    def __init__(
        self, ledger: WriterLedger, retry: RetryPolicy, settings: WriterSettings | None = None
    ) -> None:
        self.ledger = ledger
        self.retry = retry
        self.settings = settings or WriterSettings()
        self.queue = WriteQueue(self.settings.queue_items)
        self.states = SubjectStates(self.settings.state_cache_subjects)
        self._stop = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()
        self._handoff: Group | None = None
        self._handoff_ready = threading.Condition()
        self._announce = threading.Event()
        self._degraded_until = 0.0
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ callers
    def submit(
        self, tenant: str, items: Sequence[WorkItem], *, atomic: bool
    ) -> Future[list[ItemResult]]:
        """Queue the items as one unit; the future answers with their results."""
        self._start()
        unit = Unit(
            tenant,
            list(items),
            atomic,
            deadline=time.monotonic() + self.retry.conflict_budget_seconds,
        )
        if not unit.items:
            unit.future.set_result([])
            return unit.future
        self.queue.put(unit)
        WRITER_QUEUE_ITEMS.set(self.queue.items)
        return unit.future

    def run(self, tenant: str, items: Sequence[WorkItem], *, atomic: bool) -> list[ItemResult]:
        return self.submit(tenant, items, atomic=atomic).result()

    def close(self) -> None:
        """Finish every unit queued so far, then stop the threads."""
        self.queue.close()
        self._stop.set()
        with self._handoff_ready:
            self._handoff_ready.notify_all()
        self._announce.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _start(self) -> None:
        if self._started:
            return
        with self._start_lock:
            if self._started:
                return
            for target, name in (
                (self._write, "ledger-writer"),
                (self._commit_loop, "ledger-committer"),
                (self._announce_loop, "ledger-announcer"),
            ):
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)
            self._started = True

    # ------------------------------------------------------------- writer thread
    def _write(self) -> None:
        pending: Group | None = None
        while True:
            units = self.queue.take(
                self.settings.group_items, 0 if pending is not None else IDLE_WAIT_SECONDS
            )
            WRITER_QUEUE_ITEMS.set(self.queue.items)
            if not units:
                if pending is not None:
                    self.queue.put_front(self._settle(pending))
                    pending = None
                elif self._stop.is_set():
                    return
                continue
            group = self._decide_safely(units, on_top_of=pending)
            if pending is not None:
                again = self._settle(pending)
                stored = pending.failure is None
                pending = None
                if not stored:  # decided on top of a group that failed: decide again
                    self.queue.put_front(again + [u for u in units if not u.future.done()])
                    continue
            if group is None:
                continue
            if not group.deciding:
                self._resolve(group, {})
                continue
            self._hand_over(group)
            pending = group

    def _decide_safely(self, units: list[Unit], on_top_of: Group | None) -> Group | None:
        try:
            return self._decide(units, on_top_of)
        except Unavailable as error:
            self._fail(units, error)
        except Exception as error:  # a bug: the group's callers get it, the writer goes on
            log.exception("writer failed to decide a group")
            self._fail(units, error)
        return None

    def _decide(self, units: list[Unit], on_top_of: Group | None) -> Group:
        now = self.ledger.clock()
        above = on_top_of or Group(units=[])
        known: dict[UUID, SubjectState] = {}
        channels: dict[UUID, tuple[str, str]] = {}
        wanted: dict[str, list[tuple[str, str]]] = {}
        for unit in units:
            for item in unit.items:
                sid = item.subject.id
                channels[sid] = (item.subject.tenant, item.subject.channel.value)
                if sid not in known:
                    state = above.states.get(sid) or self.states.get(sid)
                    if state is not None:
                        known[sid] = state
                key = item.source_key
                if key is not None and (unit.tenant, *key) not in above.receipts:
                    wanted.setdefault(unit.tenant, []).append(key)
        request = GroupRead(
            receipts=wanted,
            subjects={sid: known[sid].version if sid in known else 0 for sid in channels},
        )
        reads = self._read(request)
        states: dict[UUID, SubjectState] = {}
        for sid, (tenant, channel) in channels.items():
            state = known.get(sid) or SubjectState(id=sid, tenant=tenant, channel=channel)
            for stored in reads.events.get(sid, ()):
                state = apply(state, self.ledger.ledger_event(stored))
            states[sid] = state
        keys = dict(reads.data_keys)
        keys.update({sid: k for sid, k in above.new_keys.items() if sid in channels})
        batch = Batch.of(states, keys, receipts_below=above.receipts)
        group = Group(units=units, below=on_top_of)
        for unit in units:
            self._decide_unit(unit, batch, reads.receipts.get(unit.tenant, {}), now)
        group.events = batch.events
        group.stored = [self.ledger.stored_event(event) for event in batch.events]
        group.states = {sid: batch.states[sid] for sid in batch.states.maps[0]}
        group.receipts = dict(batch.receipts.maps[0])
        group.new_keys = dict(batch.new_keys)
        outbox = [m for unit in group.deciding for r in unit.results for m in r.outbox]
        group.beside = RowsBeside(
            receipts=list(group.receipts.values()), new_keys=group.new_keys, outbox=outbox
        )
        return group

    def _read(self, request: GroupRead) -> GroupReads:
        if time.monotonic() < self._degraded_until:
            policy = RetryPolicy(transient_attempts=1)
        else:
            policy = self.retry
        try:
            return policy.run(lambda: self.ledger.store.read_group(request))
        except Unavailable:
            self._degraded_until = time.monotonic() + DEGRADED_SECONDS
            raise

    def _decide_unit(
        self,
        unit: Unit,
        batch: Batch,
        stored_receipts: dict[tuple[str, str], Receipt],
        now: datetime,
    ) -> None:
        unit.results = []
        unit.error = None
        attempt = batch.child()
        try:
            for item in unit.items:
                unit.results.append(
                    self._decide_item(item, attempt, stored_receipts, unit.tenant, now, unit.atomic)
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
        self,
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

    def _settle(self, group: Group) -> list[Unit]:
        """Wait for the group's commit; the units to decide again (none once stored).

        A unit that broke a rule in a group that was not stored is decided again too:
        its error may have come from a unit before it that is not stored now.
        """
        group.done.wait()
        failure = group.failure
        if failure is None:
            self.states.keep(group.states)
            return []
        self.states.forget(group.states)
        units = [unit for unit in group.units if not unit.future.done()]
        if isinstance(failure, IntegrityError):
            WRITER_CONFLICTS.inc()
            now = time.monotonic()
            self._fail(
                [u for u in units if now >= u.deadline],
                Unavailable("the subject is under heavy concurrent change; nothing was stored"),
            )
            return [u for u in units if now < u.deadline]
        if isinstance(failure, OperationalError | InterfaceError):
            WRITER_UNAVAILABLE.inc()
            self._degraded_until = time.monotonic() + DEGRADED_SECONDS
            self._fail(units, Unavailable("the ledger database is unavailable; nothing was stored"))
            return []
        if not isinstance(failure, PersistenceError):  # a bug: its callers get it
            self._fail(units, failure)
            return []
        if len(units) > 1:
            # The database refused the group's data: commit each unit alone, so only the
            # one it refuses fails.
            WRITER_ISOLATED_UNITS.inc(len(units))
            log.warning(
                "the database refused a group; committing its units one by one",
                extra={"units": len(units), "error": str(failure)},
            )
            for unit in units:
                unit.alone = True
            return units
        log.error(
            "the database refused a unit",
            extra={"tenant": group.units[0].tenant, "error": str(failure)},
        )
        self._fail(units, Unavailable("the ledger database refused the write; nothing was stored"))
        return []

    def _fail(self, units: Sequence[Unit], error: BaseException) -> None:
        for unit in units:
            if not unit.future.done():
                unit.future.set_exception(error)

    # ---------------------------------------------------------- committer thread
    def _hand_over(self, group: Group) -> None:
        with self._handoff_ready:
            self._handoff = group
            self._handoff_ready.notify_all()

    def _commit_loop(self) -> None:
        while True:
            with self._handoff_ready:
                while self._handoff is None:
                    if self._stop.is_set() and not self._threads[0].is_alive():
                        return  # the writer thread is gone: nothing more will come
                    self._handoff_ready.wait(IDLE_WAIT_SECONDS)
                group, self._handoff = self._handoff, None
            self._commit(group)

    def _commit(self, group: Group) -> None:
        try:
            positions = self._commit_rows(group)
        except BaseException as error:
            group.failure = error
            group.done.set()
            return
        self._announce.set()
        WRITER_GROUPS.inc()
        for event in group.events:
            EVENTS_RECORDED.labels(type=event.type_name).inc()
        group.positions = {e.event_id: p for e, p in zip(group.events, positions, strict=True)}
        group.done.set()
        self._resolve(group, group.positions)

    def _commit_rows(self, group: Group) -> list[int]:
        attempts = 1 if time.monotonic() < self._degraded_until else self.retry.transient_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self.ledger.store.commit_group(group.stored, group.beside)
            except (OperationalError, InterfaceError):
                if attempt == attempts:
                    raise
                time.sleep(self.retry.transient_wait_seconds)
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve(self, group: Group, positions: dict[UUID, int]) -> None:
        for unit in group.units:
            if unit.future.done():
                continue
            if unit.error is not None:
                unit.future.set_exception(unit.error)
                continue
            for result in unit.results:
                result.positions = {e.event_id: positions[e.event_id] for e in result.events}
            for result in unit.results:
                receipt = result.duplicate_of
                if receipt is None or result.error is not None:
                    continue
                if receipt.position is not None:
                    result.positions = {receipt.event_id: receipt.position}
                elif receipt.event_id in positions:  # recorded in this same group
                    result.positions = {receipt.event_id: positions[receipt.event_id]}
                elif group.below is not None and receipt.event_id in group.below.positions:
                    result.positions = {receipt.event_id: group.below.positions[receipt.event_id]}
            unit.future.set_result(unit.results)
        group.below = None  # keep no chain of groups alive

    # ---------------------------------------------------------- announcer thread
    def _announce_loop(self) -> None:
        while not (self._stop.is_set() and not self._announce.is_set()):
            if not self._announce.wait(IDLE_WAIT_SECONDS):
                continue
            self._announce.clear()
            try:
                self.ledger.store.announce()
            except Exception as error:  # the followers' polling finds the events meanwhile
                ANNOUNCE_FAILURES.inc()
                log.warning("could not wake the log's followers", extra={"error": str(error)})
