"""The units waiting for the writer, bounded by the items they hold.

A caller who would push the queue past ``max_items`` is refused at once (``Overloaded``,
HTTP 503 with ``Retry-After``): the process never holds more work than it can finish in
a few groups, and a caller learns of the overload immediately instead of by a timeout.

The queue lives on the writer's event loop: only coroutines on that loop touch it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
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
    waiter: asyncio.Future[list[ItemResult]]
    results: list[ItemResult] = field(default_factory=list)
    error: BaseException | None = None
    # Commit this unit in a group of its own (after the database refused its group).
    alone: bool = False

    @property
    def answered(self) -> bool:
        return self.waiter.done()

    def answer(self, outcome: list[ItemResult] | BaseException) -> None:
        if self.waiter.done():  # answered already, or the caller went away (cancelled)
            return
        if isinstance(outcome, BaseException):
            self.waiter.set_exception(outcome)
        else:
            self.waiter.set_result(outcome)


class WriteQueue:
    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._units: deque[Unit] = deque()
        self._items = 0
        self.closed = False

    @property
    def items(self) -> int:
        return self._items

    def __bool__(self) -> bool:
        return bool(self._units)

    def put(self, unit: Unit) -> None:
        if self.closed:
            raise Overloaded("the ledger is shutting down; nothing was stored")
        if self._items + len(unit.items) > self.max_items:
            raise Overloaded(
                f"the ledger's write queue is full ({self._items} items waiting); "
                "nothing was stored, retry shortly"
            )
        self._units.append(unit)
        self._items += len(unit.items)

    def put_front(self, units: Sequence[Unit]) -> None:
        """Units taken but not stored (their group is decided again): first in line."""
        for unit in reversed(units):
            self._units.appendleft(unit)
            self._items += len(unit.items)

    def take(self, max_items: int) -> list[Unit]:
        """The oldest units up to ``max_items`` items (at least one unit, if any).

        A unit marked ``alone`` is always taken by itself.
        """
        if not self._units:
            return []
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
