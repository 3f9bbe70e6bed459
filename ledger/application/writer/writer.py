"""``Writer``: decides queued units of work and commits them, one group at a time.

``run`` queues a unit (``group_commit.py``); the leading caller takes every unit queued so
far and commits them as one group: read what they need (receipts, subject states, data
keys), decide each unit's items against that state (``item.decide``), link the resulting
events into their subjects' chains (``ledger.crypto.chain``) and store events, receipts,
new data keys and outbox messages in one transaction. A unit that breaks a rule leaves
no trace and gets its error; the others are stored. Conflicts with other processes and
dropped connections are retried by the one retry policy (``ledger.application.retry``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ledger.application.ports import SubjectsLedger
from ledger.application.retry import DEFAULT_RETRY, RetryPolicy
from ledger.application.writer.batch import Batch
from ledger.application.writer.group_commit import GroupCommitter, Unit
from ledger.application.writer.work import ItemResult, WorkItem
from ledger.crypto.chain import link_consent
from ledger.domain.consent_status import apply
from ledger.domain.errors import LedgerError, SourceConflict, join_field
from ledger.domain.receipts import Receipt
from ledger.persistence.store import RowsBeside
from ledger.runtime.metrics import EVENTS_RECORDED


class Writer:
    def __init__(self, ledger: SubjectsLedger, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        self.ledger = ledger
        self.retry = retry
        self._committer = GroupCommitter(self._commit_group)

    def run(self, tenant: str, items: Sequence[WorkItem], *, atomic: bool) -> list[ItemResult]:
        return self._committer.submit(Unit(tenant, list(items), atomic))

    def _commit_group(self, units: list[Unit]) -> None:
        self.retry.run(lambda: self._decide_and_save(units))

    def _decide_and_save(self, units: list[Unit]) -> None:
        batch = self._decide(units)
        results = [result for unit in units if unit.error is None for result in unit.results]
        if batch.events:
            outbox = [message for result in results for message in result.outbox]
            positions = self.ledger.append(
                *batch.events,
                beside=RowsBeside(
                    receipts=list(batch.receipts.values()),
                    new_keys=batch.new_keys,
                    outbox=outbox,
                ),
            )
            by_event = {e.event_id: p for e, p in zip(batch.events, positions, strict=True)}
            for result in results:
                result.positions = {e.event_id: by_event[e.event_id] for e in result.events}
            for event in batch.events:
                EVENTS_RECORDED.labels(type=event.type_name).inc()
        self._fill_duplicate_positions(results)

    def _decide(self, units: list[Unit]) -> Batch:
        """Decide every unit against fresh state; a failing unit leaves no trace."""
        store = self.ledger.store
        now = self.ledger.clock()
        stored_receipts: dict[str, dict[tuple[str, str], Receipt]] = {}
        for tenant in {unit.tenant for unit in units}:
            keys = [
                item.source_key
                for unit in units
                if unit.tenant == tenant
                for item in unit.items
                if item.source_key is not None
            ]
            stored_receipts[tenant] = store.receipts(tenant, keys)
        subjects = {
            item.subject.id: (item.subject.tenant, item.subject.channel.value)
            for unit in units
            for item in unit.items
        }
        batch = Batch.of(self.ledger.load_states(subjects), store.data_keys(list(subjects)))
        for unit in units:
            unit.error = None
            unit.results = []
            attempt = batch.child()
            try:
                for item in unit.items:
                    unit.results.append(
                        self._decide_item(
                            item,
                            attempt,
                            stored_receipts[unit.tenant],
                            unit.tenant,
                            now,
                            unit.atomic,
                        )
                    )
            except LedgerError as error:
                unit.error = error
                continue
            batch.absorb(attempt)
        return batch

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

    def _fill_duplicate_positions(self, results: list[ItemResult]) -> None:
        wanted = [
            (r.duplicate_of.subject_id, r.duplicate_of.version)
            for r in results
            if r.duplicate_of is not None and r.error is None
        ]
        known = self.ledger.store.positions(wanted) if wanted else {}
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
