"""Reconciliation: compare a projection with the ledger, move its watermark, heal it.

Kafka is trusted for speed, never for completeness. Periodically this reads the ledger's
notification log after the projection's watermark and checks, with the projection's
stored subject versions, which events it has applied:

- every event up to the first one not yet applied is covered, so the watermark (the
  position ``?after=`` waits on) moves there;
- an event that stays unapplied for ``heal_after`` seconds was lost on the way (a
  consumer skipped it, a broker lost it); the events behind in the window are applied
  from the ledger itself and counted in ``healed_events``.
"""

from __future__ import annotations

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
from projections.checkpoints import Checkpoint
from projections.ledger_source import LedgerSource
from projections.subject_projection import SUBJECT_EVENTS, SubjectProjection

log = logging.getLogger(__name__)

WINDOW = 1000


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


class Reconciler:
    def __init__(
        self, projection: SubjectProjection, source: LedgerSource, *, heal_after: float
    ) -> None:
        self.projection = projection
        self.source = source
        self.heal_after = heal_after
        self._first_seen: dict[int, float] = {}

    def run_once(self) -> Reconciled:
        start = watermark = self.projection.applied_position()
        behind: list[Notification] = []
        while True:
            notifications = self.source.log.read(watermark, WINDOW)
            if not notifications:
                break
            behind = self._behind(notifications)
            first = behind[0].id if behind else None
            for notification in notifications:
                if notification.id == first:
                    break
                watermark = notification.id
            if behind or len(notifications) < WINDOW:
                break
        if watermark > start:  # a write transaction only when the watermark moved
            self.projection.checkpoints.advance(self.projection.name, watermark)
        PROJECTION_POSITION.labels(self.projection.name).set(watermark)
        healed = self._heal_if_stale(behind)
        return Reconciled(watermark=watermark, behind=len(behind), healed=healed)

    def _behind(self, notifications: Sequence[Notification]) -> list[Notification]:
        mine = [n for n in notifications if is_subject_topic(n.topic)]
        ids = list(dict.fromkeys(_uuid(n) for n in mine))
        versions = self.projection.versions(ids)
        return [n for n in mine if versions.get(_uuid(n), 0) < n.originator_version]

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
