"""``WriteQueue``: the units waiting for the writer, bounded by the items they hold.

A caller who would push the queue past ``max_items`` is refused at once (``Overloaded``,
HTTP 503 with ``Retry-After``): the process never holds more work than it can finish in
a few groups, and a caller learns of the overload immediately instead of by a timeout.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from ledger.application.writer.work import ItemResult, WorkItem
from ledger.domain.errors import Overloaded


@dataclass(eq=False)
class Unit:
    """One caller's items: decided together and stored in one transaction."""

    tenant: str
    items: Sequence[WorkItem]
    atomic: bool
    # How long conflicts with other processes may be decided again (monotonic time).
    deadline: float
    future: Future[list[ItemResult]] = field(default_factory=Future)
    results: list[ItemResult] = field(default_factory=list)
    error: BaseException | None = None
    # Commit this unit in a group of its own (after the database refused its group).
    alone: bool = False


class WriteQueue:
    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._units: deque[Unit] = deque()
        self._items = 0
        self._closed = False
        self._ready = threading.Condition()

    @property
    def items(self) -> int:
        return self._items

    def put(self, unit: Unit) -> None:
        with self._ready:
            if self._closed:
                raise Overloaded("the ledger is shutting down; nothing was stored")
            if self._items + len(unit.items) > self.max_items:
                raise Overloaded(
                    f"the ledger's write queue is full ({self._items} items waiting); "
                    "nothing was stored, retry shortly"
                )
            self._units.append(unit)
            self._items += len(unit.items)
            self._ready.notify()

    def put_front(self, units: Sequence[Unit]) -> None:
        """Units taken but not stored (their group is decided again): first in line."""
        with self._ready:
            for unit in reversed(units):
                self._units.appendleft(unit)
                self._items += len(unit.items)
            self._ready.notify()

    def take(self, max_items: int, timeout: float) -> list[Unit]:
        """The oldest units up to ``max_items`` items (at least one unit); [] on timeout.

        A unit marked ``alone`` is always taken by itself.
        """
        deadline = time.monotonic() + timeout
        with self._ready:
            while not self._units:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return []
                self._ready.wait(remaining)
            taken = [self._units.popleft()]
            count = len(taken[0].items)
            while (
                not taken[0].alone
                and self._units
                and not self._units[0].alone
                and count + len(self._units[0].items) <= max_items
            ):
                unit = self._units.popleft()
                taken.append(unit)
                count += len(unit.items)
            self._items -= count
            return taken

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
