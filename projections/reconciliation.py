"""Reconciliation: compare a projection with the ledger, move its watermark, heal it.

Kafka is trusted for speed, never for completeness. Periodically this reads the ledger's
notification log after the projection's watermark and checks, with the projection's
stored subject versions, which events it has applied:

- every event up to the first one not yet applied is covered, so the watermark (the
  position ``?after=`` waits on) moves there;
- an event that stays unapplied for ``heal_after`` seconds was lost on the way (a
  consumer skipped it, a broker lost it); the events behind in the window are applied
  from the ledger itself and counted in ``healed_events``.

The projections of one process share a ``LedgerTail``: the notifications past their
watermarks are read from the ledger once and kept until every projection covers them,
and each reconciler remembers which of them it already found applied, so a pass asks
the projection only about events it has not seen applied yet. (Reading the window from
each watermark on every pass read each event about ten times, and asked about it as
often, while the consumer was behind: a quarter of the consumer's CPU.)
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic

from ledger.runtime.metrics import (
    PROJECTION_GAP_REPAIRS,
    PROJECTION_HEALED_EVENTS,
    PROJECTION_POSITION,
)
from ledger.runtime.notification_log import NotificationLog
from projections.checkpoints import Checkpoint
from projections.ledger_source import LedgerSource
from projections.subject_projection import SUBJECT_EVENTS, SubjectProjection

log = logging.getLogger(__name__)

WINDOW = 1000
KEEP = 4 * WINDOW  # notifications a tail holds at most between passes


@cache
def is_subject_topic(topic: str) -> bool:
    try:
        cls = resolve_topic(topic)
    except Exception:  # a topic this code cannot resolve is no subject event it knows
        return False
    return isinstance(cls, type) and issubclass(cls, SUBJECT_EVENTS)


@dataclass(frozen=True)
class Reconciled:
    watermark: int
    behind: int  # events found not yet applied (in the window looked at)
    healed: int  # events applied from the ledger by this pass


class LedgerTail:
    """The ledger's notifications after some position, read once for every reconciler.

    Holds every notification in (``base``, ``read_to``]; a reconciler whose watermark is
    outside that range starts it again from its watermark. Notification ids follow
    commit order, so reading after ``read_to`` never misses one committed later.
    """

    def __init__(self, log: NotificationLog, *, window: int = WINDOW, keep: int = KEEP) -> None:
        self.log = log
        self.window = window
        self.keep = max(keep, window)
        self._held: list[Notification] = []
        self._ids: list[int] = []
        self._base = self._read_to = -1

    def after(self, position: int) -> list[Notification]:
        """Up to ``window`` notifications after ``position``, in id order, the newest
        read now."""
        if not self._base <= position <= self._read_to:
            self._held, self._ids = [], []
            self._base = self._read_to = position
        start = bisect.bisect_right(self._ids, position)
        while len(self._held) - start < self.window:
            batch = self.log.read(self._read_to, self.window)
            if not batch:
                break
            self._held.extend(batch)
            self._ids.extend(n.id for n in batch)
            self._read_to = batch[-1].id
            if len(batch) < self.window:
                break
        return self._held[start : start + self.window]

    def forget(self, position: int) -> None:
        """Drop what every reader has passed (``position``: the lowest watermark), and
        the oldest beyond ``keep``."""
        drop = max(bisect.bisect_right(self._ids, position), len(self._held) - self.keep)
        if drop > 0:
            self._base = self._ids[drop - 1]
            del self._held[:drop], self._ids[:drop]


class Reconciler:
    def __init__(
        self,
        projection: SubjectProjection,
        source: LedgerSource,
        *,
        heal_after: float,
        tail: LedgerTail | None = None,
    ) -> None:
        self.projection = projection
        self.source = source
        self.heal_after = heal_after
        self.tail = tail or LedgerTail(source.log)
        self.watermark = 0
        self._first_seen: dict[int, float] = {}
        self._applied: set[int] = set()  # ids past the watermark found applied already

    def run_once(self) -> Reconciled:
        start = watermark = self.projection.applied_position()
        if start < self.watermark:  # moved back (tables replaced): ask about everything
            self._applied.clear()
        behind: list[Notification] = []
        while True:
            notifications = self.tail.after(watermark)
            if not notifications:
                break
            behind = self._behind(notifications)
            first = behind[0].id if behind else None
            for notification in notifications:
                if notification.id == first:
                    break
                watermark = notification.id
            if behind or len(notifications) < self.tail.window:
                break
        if watermark > start:  # a write transaction only when the watermark moved
            self.projection.checkpoints.advance(self.projection.name, watermark)
        self.watermark = watermark
        self._applied = {i for i in self._applied if i > watermark}
        PROJECTION_POSITION.labels(self.projection.name).set(watermark)
        healed = self._heal_if_stale(behind)
        return Reconciled(watermark=watermark, behind=len(behind), healed=healed)

    def _behind(self, notifications: Sequence[Notification]) -> list[Notification]:
        """The subject events among ``notifications`` the projection has not applied.

        Versions only grow (a rebuild's copy holds every event the live tables had), so
        an event found applied once is not asked about again."""
        applied = self._applied
        mine = [n for n in notifications if n.id not in applied and is_subject_topic(n.topic)]
        if not mine:
            return []
        ids = list(dict.fromkeys(_uuid(n) for n in mine))
        versions = self.projection.versions(ids)
        behind = []
        for n in mine:
            if versions.get(_uuid(n), 0) < n.originator_version:
                behind.append(n)
            else:
                applied.add(n.id)
        return behind

    def _heal_if_stale(self, behind: list[Notification]) -> int:
        if not behind:
            self._first_seen.clear()
            return 0
        now = time.monotonic()
        first = behind[0].id
        self._first_seen = {first: self._first_seen.get(first, now)}
        if now - self._first_seen[first] < self.heal_after:
            return 0
        items = self.source.decode(behind)
        applied = self.projection.apply(items, Checkpoint())
        self.projection.metrics.add(healed_events=applied)
        PROJECTION_GAP_REPAIRS.labels(self.projection.name).inc(applied)
        PROJECTION_HEALED_EVENTS.labels(self.projection.name).inc(applied)
        log.warning(
            "reconciliation applied events the feed had not delivered",
            extra={
                "projection": self.projection.name,
                "events": applied,
                "from_position": first,
            },
        )
        self._first_seen.clear()
        return applied


def _uuid(notification: Notification) -> UUID:
    sid = notification.originator_id
    return sid if isinstance(sid, UUID) else UUID(sid)
