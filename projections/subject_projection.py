"""The engine every read model runs on, whatever feeds it (ledger log or Kafka).

For each batch, in one transaction: lock the batch's subjects, load their folded states,
apply each event with the ledger's own fold, let the read model write its rows, store
the states and the feed's checkpoint. Rules that make any feed safe:

- an event at or below the subject's applied version is a duplicate and changes nothing;
- an event ahead of the next version means the feed lost something: the missing events
  are read from the ledger (the source of truth) and applied first (``gap_repairs``);
- events that are not subjects' (e.g. tenant settings) only move the checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.crypto.encryption import readable_disclosures
from ledger.domain.consent_status import SubjectState, apply
from ledger.events import ConsentEvent, LedgerEvent, PersonalDataErased
from ledger.runtime.metrics import PROJECTION_GAP_REPAIRS, PROJECTION_GAPS_FILLED
from projections.checkpoints import Checkpoint, Checkpoints
from projections.database import Cursor
from projections.ledger_source import LedgerSource, Positioned
from projections.metrics import ProjectionMetrics
from projections.poll_memo import PollMemo
from projections.read_model import AppliedEvent, BatchChanges, ReadModel, SubjectNow
from projections.subject_snapshot import dump_state, load_state

# The events of subjects' histories; other events in the log only advance positions.
SUBJECT_EVENTS = (ConsentEvent, PersonalDataErased)
CHUNK = 500

log = logging.getLogger(__name__)


class MissingInLedger(Exception):
    """A gap could not be filled: the ledger lacks versions the feed skipped."""


@dataclass
class _Subject:
    state: SubjectState
    address: str | None
    position: int
    changed: bool = False


@dataclass(frozen=True)
class StoredSubject:
    state: SubjectState
    address: str | None
    position: int


class SubjectProjection:
    def __init__(
        self, model: ReadModel, source: LedgerSource, metrics: ProjectionMetrics | None = None
    ) -> None:
        self.model = model
        self.db = model.db
        self.source = source
        self.name = model.name + model.suffix
        self.subjects_table = self.db.table(f"{model.name}_subjects{model.suffix}")
        self.checkpoints = Checkpoints(self.db)
        self.metrics = metrics or ProjectionMetrics()

    # ------------------------------------------------------------------ schema
    def subjects_statement(self) -> str:
        db, base = self.db, f"{self.model.name}_subjects{self.model.suffix}"
        return (
            f"CREATE TABLE IF NOT EXISTS {self.subjects_table} ("
            f"subject_id {db.uuid_type} NOT NULL, tenant TEXT NOT NULL, "
            "channel TEXT NOT NULL, address TEXT, "
            f"version {db.int_type} NOT NULL, position {db.int_type} NOT NULL, "
            f"state TEXT NOT NULL, CONSTRAINT {base}_pkey PRIMARY KEY (subject_id))"
        )

    def create_tables(self, *, with_indexes: bool = True) -> None:
        statements = [
            *self.checkpoints.create_statements(),
            self.subjects_statement(),
            *self.model.create_statements(),
        ]
        if with_indexes:
            statements += [
                f"CREATE INDEX IF NOT EXISTS {i.name} ON {self.model.t(i.table)} ({i.columns})"
                for i in self.model.indexes()
            ]
        with self.db.write() as cursor:
            if self.db.postgres:  # concurrent processes must not race on CREATE
                cursor.execute("SELECT pg_advisory_xact_lock(?)", (0x636C_7072,))
            for statement in statements:
                cursor.execute(statement)

    # ------------------------------------------------------------------ applying
    def apply(self, items: Sequence[Positioned], checkpoint: Checkpoint) -> int:
        """Apply a batch and store ``checkpoint`` with it; returns the events applied."""
        with self.db.write() as cursor:
            return self.apply_in(cursor, items, checkpoint)

    def apply_in(
        self,
        cursor: Cursor,
        items: Sequence[Positioned],
        checkpoint: Checkpoint,
        memo: PollMemo | None = None,
    ) -> int:
        """``apply`` inside the caller's transaction; ``memo``: shared with the other read
        models applying the same poll (``poll_memo.py``)."""
        memo = memo or PollMemo(self.source)
        subject_items = [i for i in items if isinstance(i.event, SUBJECT_EVENTS)]
        ids = list(dict.fromkeys(i.event.originator_id for i in subject_items))
        if self.db.postgres:
            # Taken first, so a rebuild's swap (EXCLUSIVE on this table) orders cleanly
            # against writers: before them, or after them, never a deadlock.
            cursor.execute(f"LOCK TABLE {self.subjects_table} IN ROW EXCLUSIVE MODE")
        self.db.lock_subjects(cursor, self.subjects_table, ids)
        subjects = self._load(cursor, ids, memo)
        unnamed = [sid for sid in ids if sid not in subjects or subjects[sid].address is None]
        keys = memo.data_keys(unnamed, cursor if self.db.postgres else None) if unnamed else {}
        changes = BatchChanges()
        duplicates = 0
        for item in subject_items:
            if not self._apply(item, subjects, changes, keys, memo):
                duplicates += 1
        for sid, subject in subjects.items():
            if subject.changed:
                changes.subjects[sid] = SubjectNow(subject.state, subject.address, subject.position)
        self._store(cursor, changes, memo=memo)
        self.model.write(cursor, changes)
        self.checkpoints.save(cursor, self.name, checkpoint)
        self.metrics.add(applied=len(subject_items) - duplicates, duplicates=duplicates)
        return len(changes.events)

    def load_histories(self, histories: Sequence[Sequence[Positioned]]) -> int:
        """Fold whole histories of subjects this projection has never seen (a rebuild's
        empty copy, ``bulk_load.py``) and write them in one transaction: no locks, no
        states read back. Each history is one subject's events in version order."""
        ids = [history[0].event.originator_id for history in histories if history]
        keys = self.source.data_keys(ids) if ids else {}
        changes = BatchChanges()
        for history in histories:
            first: LedgerEvent = history[0].event
            fresh = SubjectState(id=first.originator_id, tenant=first.tenant, channel=first.channel)
            subject = _Subject(fresh, None, 0)
            for item in history:
                self._fold(subject, item, changes, keys)
            changes.subjects[fresh.id] = SubjectNow(
                subject.state, subject.address, subject.position
            )
        with self.db.write() as cursor:
            self._store(cursor, changes, fresh=True)
            self.model.write(cursor, changes)
        self.metrics.add(applied=len(changes.events))
        return len(changes.events)

    def _apply(
        self,
        item: Positioned,
        subjects: dict[UUID, _Subject],
        changes: BatchChanges,
        keys: dict[UUID, bytes],
        memo: PollMemo,
    ) -> bool:
        event: LedgerEvent = item.event
        sid = event.originator_id
        subject = subjects.get(sid)
        if subject is None:
            fresh = memo.fresh(sid, event.tenant, event.channel)
            subject = subjects[sid] = _Subject(fresh, None, 0)
        have, got = subject.state.version, event.originator_version
        if got <= have:
            return False
        if got > have + 1:
            missing = self.source.events_between(sid, have, got)
            if [m.event.originator_version for m in missing] != list(range(have + 1, got)):
                raise MissingInLedger(f"subject {sid}: versions {have + 1}..{got - 1}")
            self.metrics.add(gap_repairs=1, repaired_events=len(missing))
            PROJECTION_GAP_REPAIRS.labels(self.name).inc(len(missing))
            PROJECTION_GAPS_FILLED.labels(self.name).inc()
            log.warning(
                "filled a gap in a subject's versions from the ledger",
                extra={
                    "projection": self.name,
                    "subject_id": str(sid),
                    "from_version": have + 1,
                    "to_version": got - 1,
                    "position": item.position,
                },
            )
            for earlier in missing:
                self._fold(subject, earlier, changes, keys, memo)
        self._fold(subject, item, changes, keys, memo)
        return True

    def _fold(
        self,
        subject: _Subject,
        item: Positioned,
        changes: BatchChanges,
        keys: dict[UUID, bytes],
        memo: PollMemo | None = None,
    ) -> None:
        event: LedgerEvent = item.event
        before = subject.state
        subject.state = memo.fold(before, event) if memo else apply(before, event)
        if isinstance(event, PersonalDataErased):
            subject.address = None  # the read model drops its clear copy with the key
        elif subject.address is None:
            key = keys.get(event.originator_id)
            subject.address = memo.address(event, key) if memo else _disclosed_address(event, key)
        subject.position = item.position
        subject.changed = True
        changes.events.append(AppliedEvent(event, item.position, before, subject.state))

    def _load(self, cursor: Cursor, ids: list[UUID], memo: PollMemo) -> dict[UUID, _Subject]:
        found: dict[UUID, _Subject] = {}
        for stored in self._select(cursor, ids, memo).values():
            found[stored.state.id] = _Subject(stored.state, stored.address, stored.position)
        return found

    def _select(
        self, cursor: Cursor, ids: Sequence[UUID], memo: PollMemo | None = None
    ) -> dict[UUID, StoredSubject]:
        db = self.db
        found: dict[UUID, StoredSubject] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = [db.uuid(sid) for sid in ids[start : start + CHUNK]]
            where, params = db.in_list("subject_id", "uuid", chunk)
            rows = cursor.execute(
                f"SELECT subject_id, address, position, state FROM {self.subjects_table} "
                f"WHERE {where}",
                params,
            ).fetchall()
            for row in rows:
                sid = db.uuid_of(row["subject_id"])
                text = row["state"]
                state = memo.loaded(sid, text) if memo else load_state(sid, text)
                found[sid] = StoredSubject(state, row["address"], int(row["position"]))
        return found

    def _store(
        self,
        cursor: Cursor,
        changes: BatchChanges,
        *,
        fresh: bool = False,
        memo: PollMemo | None = None,
    ) -> None:
        """Write the changed subjects' states (``fresh``: none of them is stored yet)."""
        db = self.db
        dump = memo.dump if memo else dump_state
        cursor.insert_rows(
            f"INSERT INTO {self.subjects_table} "
            "(subject_id, tenant, channel, address, version, position, state)",
            ("uuid", "text", "text", "text", "bigint", "bigint", "text"),
            [
                (
                    db.uuid(s.state.id),
                    s.state.tenant,
                    s.state.channel,
                    s.address,
                    s.state.version,
                    s.position,
                    dump(s.state),
                )
                for s in changes.subjects.values()
            ],
            ""
            if fresh
            else "ON CONFLICT (subject_id) DO UPDATE SET address = excluded.address, "
            "version = excluded.version, position = excluded.position, state = excluded.state",
        )

    # ------------------------------------------------------------------ reading
    def versions(self, subject_ids: Sequence[UUID]) -> dict[UUID, int]:
        """Applied version of each subject (absent: nothing applied yet)."""
        db = self.db
        found: dict[UUID, int] = {}
        with db.read() as cursor:
            for start in range(0, len(subject_ids), CHUNK):
                chunk = [db.uuid(sid) for sid in subject_ids[start : start + CHUNK]]
                where, params = db.in_list("subject_id", "uuid", chunk)
                rows = cursor.execute(
                    f"SELECT subject_id, version FROM {self.subjects_table} WHERE {where}",
                    params,
                ).fetchall()
                found.update({db.uuid_of(r["subject_id"]): int(r["version"]) for r in rows})
        return found

    def applied_position(self) -> int:
        """The ledger position up to which every event has been applied."""
        return self.checkpoints.position(self.name)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until ``applied_position() >= position``; False on timeout."""
        deadline = time.monotonic() + timeout
        pause = 0.002
        while self.applied_position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return True


def _disclosed_address(event: Any, key: bytes | None) -> str | None:
    values = readable_disclosures(event, key) or []
    return next((d.value for d in values if d.field == "address"), None)
