"""``Batch``: what one group commit decided so far; a unit tries in a child and may be dropped."""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass, field
from uuid import UUID

from ledger.crypto.encryption import new_data_key
from ledger.domain.consent_status import SubjectState
from ledger.domain.receipts import Receipt
from ledger.events import ConsentEvent


@dataclass
class Batch:
    """States, data keys and receipts of a group; ``child()`` is one unit's attempt.

    A child reads through to its parent (``ChainMap``) and writes only to itself, so a
    unit that breaks a rule is dropped without a trace; ``absorb`` keeps a good one.
    """

    states: ChainMap[UUID, SubjectState]
    data_keys: ChainMap[UUID, bytes]
    receipts: ChainMap[tuple[str, str, str], Receipt] = field(default_factory=ChainMap)
    events: list[ConsentEvent] = field(default_factory=list)
    new_keys: dict[UUID, bytes] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        states: dict[UUID, SubjectState],
        data_keys: dict[UUID, bytes],
        *,
        receipts_below: dict[tuple[str, str, str], Receipt] | None = None,
    ) -> Batch:
        """A group's batch; ``receipts_below``: those of the group it is decided on top of
        (seen, never stored again)."""
        return cls(
            states=ChainMap(states),
            data_keys=ChainMap(data_keys),
            receipts=ChainMap({}, receipts_below or {}),
        )

    def child(self) -> Batch:
        return Batch(
            states=self.states.new_child(),
            data_keys=self.data_keys.new_child(),
            receipts=self.receipts.new_child(),
        )

    def data_key(self, sid: UUID) -> bytes:
        """The subject's data key, creating one for a new (or erased) subject."""
        key = self.data_keys.get(sid)
        if key is None:
            key = self.data_keys[sid] = self.new_keys[sid] = new_data_key()
        return key

    def absorb(self, child: Batch) -> None:
        self.states.update(child.states.maps[0])
        self.data_keys.update(child.data_keys.maps[0])
        self.receipts.update(child.receipts.maps[0])
        self.events.extend(child.events)
        self.new_keys.update(child.new_keys)
