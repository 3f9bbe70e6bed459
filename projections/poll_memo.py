"""The work every read model of one consumer poll would otherwise repeat, done once.

Each read model keeps its own copy of every subject's folded state, but in a poll they
almost always hold the same state (the same stored text) and apply the same events to
it: folding, decrypting the address, reading the data keys and encoding the state three
times was most of the consumer's CPU. A ``PollMemo`` lives for one poll, so nothing in
it outlives the transaction (an erased key is never remembered across polls).

It shares only what is equal by construction: a state loaded from identical stored
text, a fresh state of the same subject, and the fold of the *same* state object with
the same event (the fold is pure and states are immutable). A read model whose stored
state differs (rebuilt by other code, or at another version) simply gets its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ledger.crypto.encryption import readable_disclosures
from ledger.domain.consent_status import SubjectState, apply
from ledger.events import LedgerEvent
from projections.database import Cursor
from projections.ledger_source import LedgerSource
from projections.subject_snapshot import dump_state, load_state


class PollMemo:
    def __init__(self, source: LedgerSource) -> None:
        self.source = source
        self._loaded: dict[tuple[UUID, str], SubjectState] = {}
        self._fresh: dict[tuple[UUID, str, str], SubjectState] = {}
        # Keyed by the state object's id; the value keeps that object alive.
        self._folds: dict[tuple[int, UUID], tuple[SubjectState, SubjectState]] = {}
        self._dumps: dict[int, tuple[SubjectState, str]] = {}
        self._keys: dict[UUID, bytes | None] = {}
        self._addresses: dict[UUID, str | None] = {}

    def loaded(self, subject_id: UUID, text: str) -> SubjectState:
        key = (subject_id, text)
        state = self._loaded.get(key)
        if state is None:
            state = self._loaded[key] = load_state(subject_id, text)
        return state

    def fresh(self, subject_id: UUID, tenant: str, channel: str) -> SubjectState:
        key = (subject_id, tenant, channel)
        state = self._fresh.get(key)
        if state is None:
            state = self._fresh[key] = SubjectState(id=subject_id, tenant=tenant, channel=channel)
        return state

    def fold(self, state: SubjectState, event: LedgerEvent) -> SubjectState:
        key = (id(state), event.event_id)
        found = self._folds.get(key)
        if found is not None and found[0] is state:
            return found[1]
        after = apply(state, event)
        self._folds[key] = (state, after)
        return after

    def dump(self, state: SubjectState) -> str:
        found = self._dumps.get(id(state))
        if found is not None and found[0] is state:
            return found[1]
        text = dump_state(state)
        self._dumps[id(state)] = (state, text)
        return text

    def data_keys(
        self, subject_ids: Sequence[UUID], cursor: Cursor | None = None
    ) -> dict[UUID, bytes]:
        """``cursor``: the transaction the keys may be read in (``LedgerSource.data_keys_in``)."""
        missing = [sid for sid in subject_ids if sid not in self._keys]
        if missing:
            if cursor is None:
                found = self.source.data_keys(missing)
            else:
                found = self.source.data_keys_in(cursor, missing)
            self._keys.update({sid: found.get(sid) for sid in missing})
        return {sid: key for sid in subject_ids if (key := self._keys[sid]) is not None}

    def address(self, event: Any, key: bytes | None) -> str | None:
        """The event's disclosed address, opened with ``key`` (once per event)."""
        if key is None:
            return None
        if event.event_id not in self._addresses:
            values = readable_disclosures(event, key) or []
            self._addresses[event.event_id] = next(
                (d.value for d in values if d.field == "address"), None
            )
        return self._addresses[event.event_id]
