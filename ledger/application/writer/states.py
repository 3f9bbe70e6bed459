"""``SubjectStates``: the folded state of recently written subjects, as last committed.

A write needs each subject's state (version, chain head, statuses). Folding the whole
history again for every write made each write cost as much as the subject's past. The
writer keeps the states it committed (at most ``max_subjects``, least recently used
first out) and asks the database only for events *after* the version it holds, so a
state written meanwhile by another process (or by an erasure) is caught up, never
trusted stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from uuid import UUID

from ledger.domain.consent_status import SubjectState


class SubjectStates:
    def __init__(self, max_subjects: int) -> None:
        self.max_subjects = max_subjects
        self._states: OrderedDict[UUID, SubjectState] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._states)

    def get(self, sid: UUID) -> SubjectState | None:
        with self._lock:
            state = self._states.get(sid)
            if state is not None:
                self._states.move_to_end(sid)
            return state

    def keep(self, states: Mapping[UUID, SubjectState]) -> None:
        with self._lock:
            for sid, state in states.items():
                self._states[sid] = state
                self._states.move_to_end(sid)
            while len(self._states) > self.max_subjects:
                self._states.popitem(last=False)

    def forget(self, sids: Iterable[UUID]) -> None:
        with self._lock:
            for sid in sids:
                self._states.pop(sid, None)
