"""``LedgerCore``: the eventsourcing application that holds the ledger's storage.

It opens the recorder (``ledger/persistence/``), decodes stored events, folds subjects'
states, keeps tenants' policies for a second, appends events with the rows beside them,
and hands units of work to the one writer of this process (``writer/``).
``ConsentLedger`` (``consent_ledger.py``) adds the commands and queries.

Why subjects are not ``eventsourcing`` aggregates: the library saves one aggregate (or a
list of them) per call and reads each one's events on its own. A ledger that takes
thousands of messages a second for different people needs many subjects decided against
state read in one query and stored in one transaction (the group commit), with receipts,
data keys and outbox rows beside them. So a subject is a pure fold of its events
(``ledger.domain.consent_status``), the events are the library's ``DomainEvent``s (its
mapper, recorders and notification log do the storing), and the writer links them into
the subject's hash chain itself.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent, Transcoder
from eventsourcing.postgres import PostgresDatastore

from ledger.application.retry import DEFAULT_RETRY
from ledger.application.tenants.reading import read_policy, read_settings_async
from ledger.application.writer.work import ItemResult, WorkItem
from ledger.application.writer.writer import Writer
from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.times import utc_now
from ledger.events import LedgerEvent
from ledger.persistence.store import LedgerStore, RowsBeside
from ledger.persistence.transcoder import NativeJSONTranscoder
from ledger.runtime.writer_settings import WriterSettings

# How long a tenant's settings are reused before they are read again.
POLICY_TTL_SECONDS = 1.0


class LedgerCore(Application[UUID]):
    """Storage and the unit of work; ``ConsentLedger`` adds the commands and queries."""

    name = "ConsentLedger"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        writer: WriterSettings | None = None,
    ) -> None:
        super().__init__(env)
        if not isinstance(self.recorder, LedgerStore):
            raise TypeError("the ledger needs a LedgerStore recorder (APPLICATION_RECORDER_TOPIC)")
        self.store: LedgerStore = self.recorder
        self.clock: Callable[[], datetime] = clock
        self.retry = replace(DEFAULT_RETRY, recover=self._recover_connections)
        self.writer = Writer(self, self.retry, writer)
        self._policies: dict[str, tuple[float, TenantPolicy]] = {}
        self._policies_lock = threading.Lock()
        self._policy_generation = 0  # bumped by forget_policy: a read begun before is not kept
        # The reads of settings in flight on an event loop, per (loop, tenant): the requests
        # that find the cache stale together share one read instead of one each.
        self._policy_reads: dict[
            tuple[asyncio.AbstractEventLoop, str], asyncio.Future[TenantPolicy]
        ] = {}

    def _recover_connections(self) -> None:
        """After a dropped connection: replace every idle pooled connection that died too."""
        datastore = getattr(self.recorder, "datastore", None)
        if isinstance(datastore, PostgresDatastore):
            datastore.pool.check()

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON format, in native code (``persistence/transcoder.py``)."""
        transcoder = NativeJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def policy_for(self, tenant: str) -> TenantPolicy:
        """The tenant's settings (``ledger/domain/tenants/``), read at most every second.

        Every command needs them; reading them each time cost a round trip per inbound
        message. A change made through this process applies at once (``forget_policy``);
        one made by another process within ``POLICY_TTL_SECONDS``. Either way the events
        name the settings version that classified them (``evidence.rules_version``).
        """
        policy = self.cached_policy(tenant)
        if policy is not None:
            return policy
        began = self._policy_read_begins()
        return self._keep_policy(tenant, began, read_policy(self, tenant, self.retry))

    async def policy_async(self, tenant: str) -> TenantPolicy:
        """``policy_for`` on the event loop: the read goes through the writer's quick-failing
        connections (``read_settings_async``), and the callers that need it while it runs
        wait for that one read."""
        policy = self.cached_policy(tenant)
        if policy is not None:
            return policy
        loop = asyncio.get_running_loop()
        key = (loop, tenant)
        reading = self._policy_reads.get(key)
        if reading is None:
            reading = asyncio.ensure_future(
                self._read_policy_async(tenant)
                if self.writer.on_its_loop()  # serve: the writer's quick-failing connections
                else asyncio.to_thread(self.policy_for, tenant)
            )
            self._policy_reads[key] = reading
            reading.add_done_callback(lambda _: self._policy_reads.pop(key, None))
        # shield: a caller that goes away (its client hung up) leaves the read to the others
        return await asyncio.shield(reading)

    async def _read_policy_async(self, tenant: str) -> TenantPolicy:
        began = self._policy_read_begins()
        policy = (await read_settings_async(self, tenant)).policy()
        return self._keep_policy(tenant, began, policy)

    def _policy_read_begins(self) -> tuple[int, float]:
        """The cache's generation and the time, taken before a read of settings."""
        with self._policies_lock:
            return self._policy_generation, time.monotonic()

    def _keep_policy(
        self, tenant: str, began: tuple[int, float], policy: TenantPolicy
    ) -> TenantPolicy:
        generation, at = began
        with self._policies_lock:
            # A change recorded while this read ran may not be in it: use it once, keep it not.
            if generation == self._policy_generation:
                self._policies[tenant] = (at, policy)
        return policy

    def cached_policy(self, tenant: str) -> TenantPolicy | None:
        """The tenant's policy if this process read it within the last second, else None."""
        with self._policies_lock:
            cached = self._policies.get(tenant)
        if cached is not None and time.monotonic() - cached[0] < POLICY_TTL_SECONDS:
            return cached[1]
        return None

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

    def stored_event(self, event: LedgerEvent) -> StoredEvent:
        """The row the library stores for ``event`` (its mapper: topic, JSON state)."""
        return self.mapper.to_stored_event(event)

    def close(self) -> None:
        self.writer.close()  # the units queued so far are finished first
        super().close()

    def append(self, *events: LedgerEvent, beside: RowsBeside | None = None) -> list[int]:
        """Store the events and the rows beside them in one transaction; their positions."""
        recordings = self.save(*events, beside=beside or RowsBeside())
        return [recording.notification.id for recording in recordings]

    def run(
        self, tenant: str, items: Sequence[WorkItem], *, atomic: bool = True
    ) -> list[ItemResult]:
        """Decide every item and store all resulting events in one transaction.

        Concurrent calls are group-committed (``writer/``). A version conflict (another
        process wrote the subject first) or a receipt conflict (the same source id arrived
        concurrently) re-runs the group against fresh state. With ``atomic``, the first
        item that breaks a rule fails the call and nothing of it is stored; otherwise that
        item gets its error and the others are stored.
        """
        return self.writer.run(tenant, items, atomic=atomic)

    async def run_async(
        self, tenant: str, items: Sequence[WorkItem], *, atomic: bool = True
    ) -> list[ItemResult]:
        """``run`` for a coroutine: the event loop goes on while the writer works (the
        writer runs on the loop of its first caller, or on the one given to ``attach``)."""
        return await self.writer.run_async(tenant, items, atomic=atomic)
