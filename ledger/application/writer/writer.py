"""``Writer``: the one writer of a process, a task on one event loop.

Callers queue units of work (``run_async`` on the loop, ``run`` from any other thread)
and wait. The writer takes every unit queued so far (up to ``group_items``) and makes them
one group:

1. **Read** what the group needs in one round trip (``LedgerStore.read_group_async``):
   the receipts of its source ids, each subject's events after the version the writer
   holds already (``states.py``), and data keys.
2. **Decide** each unit against that state outside any lock (``decide.py``): its items'
   deciders say which events to record, ``ledger.crypto.chain`` links them into the
   subjects' chains, the library's mapper encodes them. A unit that breaks a rule (or
   whose decider fails) gets its own error; the others go on.
3. **Commit** in one round trip (``LedgerStore.commit_group_async``) while the next group
   is read and decided *on top of* this one (its states, receipts and keys). Groups
   commit one at a time, in order: the next is committed only once this one is stored;
   if this one fails, the next is decided again from the database.

Everything runs on one thread: the event loop interleaves the requests, the decisions and
the database's answers, with no lock handed between threads (in one process, threads
cost more in hand-offs of the interpreter than the work they did). In ``serve`` the loop
is the web server's; elsewhere (the command line, tests) the writer runs its own loop on
a thread of its own.

Failures, each counted in ``/metrics``: a **conflict** (another process stored a version
or a source id first) decides the group again until the units' budget ends; a
**refusal** of the data by the database commits each unit alone, so only the one it
refuses fails; a **database that is away** fails the group's units with ``Unavailable``
(503), and for a second afterwards each group is tried once, so queued callers are
answered within the bound README promises. After each commit one ``NOTIFY`` wakes the
log's followers (commits that happen while one is being sent share the next).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)

from ledger.application.ports import WriterLedger
from ledger.application.retry import RetryPolicy
from ledger.application.writer.batch import Batch
from ledger.application.writer.decide import (
    Group,
    answer_group,
    decide_unit,
    fold_states,
    subjects_of,
)
from ledger.application.writer.queue import Unit, WriteQueue
from ledger.application.writer.states import SubjectStates
from ledger.application.writer.work import ItemResult, WorkItem
from ledger.domain.consent_status import SubjectState
from ledger.domain.errors import DatabaseAway, Unavailable
from ledger.persistence.store import GroupRead, GroupReads
from ledger.runtime.collector import collection_paused
from ledger.runtime.metrics import (
    ANNOUNCE_FAILURES,
    EVENTS_RECORDED,
    WRITER_CONFLICTS,
    WRITER_GROUP_ITEMS,
    WRITER_GROUPS,
    WRITER_ISOLATED_UNITS,
    WRITER_PHASE,
    WRITER_QUEUE_ITEMS,
    WRITER_UNAVAILABLE,
)
from ledger.runtime.writer_settings import WriterSettings

log = logging.getLogger(__name__)

# After the database was found away, for this long each group is tried once, not retried.
DEGRADED_SECONDS = 1.0
# The writer yields the loop to other work at least this often while it decides.
YIELD_EVERY_SECONDS = 0.002
CLOSE_TIMEOUT_SECONDS = 30.0


class Writer:
    def __init__(
        self, ledger: WriterLedger, retry: RetryPolicy, settings: WriterSettings | None = None
    ) -> None:
        self.ledger = ledger
        self.retry = retry
        self.settings = settings or WriterSettings()
        self.queue = WriteQueue(self.settings.queue_items)
        self.states = SubjectStates(self.settings.state_cache_subjects)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._own_thread: threading.Thread | None = None
        self._bind_lock = threading.Lock()
        self._own_loop_lock = threading.Lock()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._announcing: asyncio.Task[None] | None = None
        self._announce_again = False
        self._degraded_until = 0.0

    # ------------------------------------------------------------------ callers
    def run(self, tenant: str, items: Sequence[WorkItem], *, atomic: bool) -> list[ItemResult]:
        """Queue the items as one unit and wait for their results (from any thread but
        the writer's own loop, which must ``await run_async``)."""
        return self.submit(tenant, items, atomic=atomic).result()

    def submit(
        self, tenant: str, items: Sequence[WorkItem], *, atomic: bool
    ) -> concurrent.futures.Future[list[ItemResult]]:
        """``run`` without waiting: the future answers once the unit is stored or refused."""
        loop = self._loop_for_threads()
        if _running_loop() is loop:
            raise RuntimeError("on the writer's event loop, await run_async instead")
        return asyncio.run_coroutine_threadsafe(self.run_async(tenant, items, atomic=atomic), loop)

    async def run_async(
        self, tenant: str, items: Sequence[WorkItem], *, atomic: bool
    ) -> list[ItemResult]:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self.attach(loop)
        if loop is not self._loop:  # another loop: hand the unit to the writer's
            writer_loop = self._loop
            assert writer_loop is not None  # noqa: S101 - attach() set it
            future = asyncio.run_coroutine_threadsafe(
                self.run_async(tenant, items, atomic=atomic), writer_loop
            )
            return await asyncio.wrap_future(future)
        if not items:
            return []
        unit = Unit(
            tenant,
            list(items),
            atomic,
            deadline=time.monotonic() + self.retry.conflict_budget_seconds,
            waiter=loop.create_future(),
        )
        self.queue.put(unit)
        WRITER_QUEUE_ITEMS.set(self.queue.items)
        self._poke()
        return await unit.waiter

    def on_its_loop(self) -> bool:
        """Whether the caller runs on the writer's event loop (where its connections are)."""
        return self._loop is not None and _running_loop() is self._loop

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run on ``loop`` (the web server's); call from a coroutine on it, once."""
        with self._bind_lock:
            if self._loop is not None:
                if self._loop is not loop:
                    raise RuntimeError("the writer already runs on another event loop")
                return
            self._loop = loop
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._work(), name="ledger-writer")

    async def aclose(self) -> None:
        """Finish every unit queued so far, then stop (on the writer's loop)."""
        self.queue.closed = True
        self._poke()
        if self._task is not None:
            await asyncio.wait_for(asyncio.shield(self._task), CLOSE_TIMEOUT_SECONDS)
        if self._announcing is not None:
            await self._announcing
        await self.ledger.store.close_async()

    def close(self) -> None:
        """``aclose`` from another thread; stops the writer's own loop if it has one."""
        loop = self._loop
        if loop is None or _running_loop() is loop or sys.is_finalizing():
            return
        if self._own_thread is not None and not self._own_thread.is_alive():
            return
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(self.aclose(), loop).result(CLOSE_TIMEOUT_SECONDS + 5)
        if self._own_thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._own_thread.join(timeout=CLOSE_TIMEOUT_SECONDS)

    def _loop_for_threads(self) -> asyncio.AbstractEventLoop:
        """The writer's loop; without one yet, a loop of its own on a thread."""
        loop = self._loop
        if loop is not None:
            return loop
        with self._own_loop_lock:  # one thread starts it; the others wait and use it
            return self._loop or self._start_own_loop()

    def _start_own_loop(self) -> asyncio.AbstractEventLoop:
        ready = threading.Event()
        own = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(own)
            own.call_soon(ready.set)
            own.run_forever()

        thread = threading.Thread(target=serve, name="ledger-writer", daemon=True)
        thread.start()
        ready.wait()

        async def bind() -> None:
            self.attach(own)

        asyncio.run_coroutine_threadsafe(bind(), own).result()
        if self._loop is not own:  # another thread attached first: use that one
            own.call_soon_threadsafe(own.stop)
            thread.join()
            assert self._loop is not None  # noqa: S101
            return self._loop
        self._own_thread = thread
        return own

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------ the task
    async def _work(self) -> None:
        pending: Group | None = None
        commit: asyncio.Task[None] | None = None
        assert self._wake is not None  # noqa: S101 - set by attach()
        while True:
            units = self.queue.take(self.settings.group_items)
            WRITER_QUEUE_ITEMS.set(self.queue.items)
            if not units:
                if pending is not None and commit is not None:
                    self.queue.put_front(await self._settle(pending, commit))
                    pending = commit = None
                    continue
                if self.queue.closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            group = await self._decide_safely(units, on_top_of=pending)
            if pending is not None and commit is not None:
                again = await self._settle(pending, commit)
                stored = pending.failure is None
                pending = commit = None
                if not stored:  # decided on top of a group that failed: decide again
                    self.queue.put_front(again + [u for u in units if not u.answered])
                    continue
            if group is None:
                continue
            if not group.deciding:
                answer_group(group)
                continue
            pending, commit = group, asyncio.get_running_loop().create_task(self._commit(group))

    async def _decide_safely(self, units: list[Unit], on_top_of: Group | None) -> Group | None:
        try:
            return await self._decide(units, on_top_of)
        except Unavailable as error:
            _fail(units, error)
        except Exception as error:  # a bug: the group's callers get it, the writer goes on
            log.exception("writer failed to decide a group")
            _fail(units, error)
        return None

    async def _decide(self, units: list[Unit], on_top_of: Group | None) -> Group:
        now = self.ledger.clock()
        above = on_top_of or Group(units=[])
        channels = subjects_of(units)
        known: dict[UUID, SubjectState] = {}
        for sid in channels:
            state = above.states.get(sid) or self.states.get(sid)
            if state is not None:
                known[sid] = state
        wanted: dict[str, list[tuple[str, str]]] = {}
        for unit in units:
            for item in unit.items:
                key = item.source_key
                if key is not None and (unit.tenant, *key) not in above.receipts:
                    wanted.setdefault(unit.tenant, []).append(key)
        request = GroupRead(
            receipts=wanted,
            subjects={sid: known[sid].version if sid in known else 0 for sid in channels},
        )
        started = time.perf_counter()
        reads = await self._read(request)
        read = time.perf_counter()
        WRITER_PHASE.labels("read").observe(read - started)
        WRITER_GROUP_ITEMS.observe(sum(len(unit.items) for unit in units))
        # Everything a group allocates lives until it is stored: no collection meanwhile.
        with collection_paused():
            return await self._decide_group(units, on_top_of, channels, known, reads, now)

    async def _decide_group(
        self,
        units: list[Unit],
        on_top_of: Group | None,
        channels: dict[UUID, tuple[str, str]],
        known: dict[UUID, SubjectState],
        reads: GroupReads,
        now: datetime,
    ) -> Group:
        above = on_top_of or Group(units=[])
        states = fold_states(channels, known, reads.events, self.ledger.ledger_event)
        keys = dict(reads.data_keys)
        keys.update({sid: k for sid, k in above.new_keys.items() if sid in channels})
        batch = Batch.of(states, keys, receipts_below=above.receipts)
        group = Group(units=units, below=on_top_of)
        deciding = 0.0
        slice_started = time.perf_counter()
        for unit in units:
            decide_unit(unit, batch, reads.receipts.get(unit.tenant, {}), now)
            if time.perf_counter() - slice_started > YIELD_EVERY_SECONDS:
                deciding += time.perf_counter() - slice_started
                await asyncio.sleep(0)  # let requests (and the commit below) go on
                slice_started = time.perf_counter()
        group.take_from(batch, self.ledger.stored_event)
        WRITER_PHASE.labels("decide").observe(deciding + time.perf_counter() - slice_started)
        return group

    async def _read(self, request: GroupRead) -> GroupReads:
        degraded = time.monotonic() < self._degraded_until
        attempts = 1 if degraded else self.retry.transient_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self.ledger.store.read_group_async(request)
            except (OperationalError, InterfaceError) as error:
                if attempt == attempts:
                    self._degraded_until = time.monotonic() + DEGRADED_SECONDS
                    log.error("ledger unavailable", extra={"error": str(error)})
                    raise DatabaseAway(
                        "the ledger database is unavailable; nothing was stored"
                    ) from error
                await asyncio.sleep(self.retry.transient_wait_seconds)
            except PersistenceError as error:
                raise Unavailable("the ledger database refused the read; nothing was stored") from (
                    error
                )
        raise AssertionError("unreachable")  # pragma: no cover

    async def _commit(self, group: Group) -> None:
        started = time.perf_counter()
        degraded = time.monotonic() < self._degraded_until
        attempts = 1 if degraded else self.retry.transient_attempts
        for attempt in range(1, attempts + 1):
            try:
                positions = await self.ledger.store.commit_group_async(group.stored, group.beside)
                break
            except (OperationalError, InterfaceError) as error:
                if attempt == attempts:
                    group.failure = error
                    return
                await asyncio.sleep(self.retry.transient_wait_seconds)
            except BaseException as error:
                group.failure = error
                return
        WRITER_PHASE.labels("commit").observe(time.perf_counter() - started)
        WRITER_GROUPS.inc()
        for event in group.events:
            EVENTS_RECORDED.labels(type=event.type_name).inc()
        group.positions = {e.event_id: p for e, p in zip(group.events, positions, strict=True)}
        self._announce()
        answer_group(group)

    async def _settle(self, group: Group, commit: asyncio.Task[None]) -> list[Unit]:
        """Wait for the group's commit; the units to decide again (none once stored).

        A unit that broke a rule in a group that was not stored is decided again too:
        its error may have come from a unit before it that is not stored now.
        """
        await commit
        failure = group.failure
        if failure is None:
            self.states.keep(group.states)
            return []
        self.states.forget(group.states)
        units = [unit for unit in group.units if not unit.answered]
        if isinstance(failure, IntegrityError):
            WRITER_CONFLICTS.inc()
            now = time.monotonic()
            _fail(
                [u for u in units if now >= u.deadline],
                Unavailable("the subject is under heavy concurrent change; nothing was stored"),
            )
            return [u for u in units if now < u.deadline]
        if isinstance(failure, OperationalError | InterfaceError):
            WRITER_UNAVAILABLE.inc()
            self._degraded_until = time.monotonic() + DEGRADED_SECONDS
            log.error("ledger unavailable", extra={"error": str(failure)})
            _fail(units, DatabaseAway("the ledger database is unavailable; nothing was stored"))
            return []
        if not isinstance(failure, PersistenceError):  # a bug: its callers get it
            _fail(units, failure)
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
        _fail(units, Unavailable("the ledger database refused the write; nothing was stored"))
        return []

    # ---------------------------------------------------------------- announcing
    def _announce(self) -> None:
        """Wake the log's followers: one NOTIFY at a time, later commits share the next."""
        if self._announcing is not None and not self._announcing.done():
            self._announce_again = True
            return
        self._announcing = asyncio.get_running_loop().create_task(self._announce_loop())

    async def _announce_loop(self) -> None:
        while True:
            self._announce_again = False
            try:
                await self.ledger.store.announce_async()
            except Exception as error:  # the followers' polling finds the events meanwhile
                ANNOUNCE_FAILURES.inc()
                log.warning("could not wake the log's followers", extra={"error": str(error)})
            if not self._announce_again:
                return


def _fail(units: Sequence[Unit], error: BaseException) -> None:
    for unit in units:
        unit.answer(error)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
