"""Is the publisher keeping up? The ledger's head against the position it published.

Healing in the consumers keeps the read models right even when nothing reaches Kafka, so
a dead publisher is invisible from the read models: this watch makes it loud. It compares
the ledger head (the newest position) with the position the publisher stored after the
broker acknowledged (``consent_ledger_publisher_positions``) and fails when

- the publisher is more than ``max_lag`` positions behind, or
- it is behind and its position has not moved for ``stall_seconds`` (not advancing while
  the ledger is).

An idle ledger with a caught-up publisher is healthy however long nothing happens.
Used by ``serve``'s ``/readyz`` and the workers' ``/healthz``; it sets the gauges the
alert rules watch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.application.core import LedgerCore
from ledger.domain.times import utc_now
from ledger.publishing.positions import PublisherPositions
from ledger.runtime.metrics import PUBLISHER_STALLED_SECONDS, PUBLISHER_UNPUBLISHED


class PublisherWatchSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    max_lag: int = Field(default=10_000, ge=0, alias="CONSENT_LEDGER_READY_MAX_PUBLISHER_LAG")
    stall_seconds: float = Field(
        default=30.0, gt=0, alias="CONSENT_LEDGER_READY_PUBLISHER_STALL_SECONDS"
    )


@dataclass(frozen=True)
class PublisherReport:
    head: int
    published: int
    stalled_seconds: float
    max_lag: int
    stall_seconds: float

    @property
    def lag(self) -> int:
        return max(0, self.head - self.published)

    @property
    def error(self) -> str | None:
        if self.lag > self.max_lag:
            return f"the publisher is {self.lag} positions behind the ledger (bound {self.max_lag})"
        if self.stalled_seconds >= self.stall_seconds:
            return (
                f"the publisher has not advanced for {self.stalled_seconds:.0f} s while the "
                f"ledger has ({self.lag} positions unpublished; bound {self.stall_seconds:g} s)"
            )
        return None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "ledger_position": self.head,
            "published_position": self.published,
            "lag": self.lag,
            "max_lag": self.max_lag,
            "stalled_seconds": round(self.stalled_seconds, 1),
            "stall_seconds": self.stall_seconds,
        }
        if self.error:
            detail["error"] = self.error
        return detail


class PublisherProgress:
    """Remembers since when the publisher has been behind without moving."""

    def __init__(
        self,
        settings: PublisherWatchSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._published: int | None = None
        self._behind_since: float | None = None

    def observe(self, head: int, published: int, waited: float = 0.0) -> PublisherReport:
        """``waited``: how long the ledger says the oldest unpublished event has waited with
        the publisher's position standing still (the same in every process that asks)."""
        with self._lock:
            now = self.clock()
            if head <= published:
                self._behind_since = None
            elif published != self._published or self._behind_since is None:
                self._behind_since = now  # moved (or fell behind): the clock starts again
            self._published = published
            stalled = 0.0 if self._behind_since is None else now - self._behind_since
            if head > published:
                # Each serve worker asks on its own: one that began watching late must not
                # answer ready while another answers stalled (a balancer would see both).
                stalled = max(stalled, waited)
        report = PublisherReport(
            head, published, stalled, self.settings.max_lag, self.settings.stall_seconds
        )
        PUBLISHER_UNPUBLISHED.set(report.lag)
        PUBLISHER_STALLED_SECONDS.set(report.stalled_seconds)
        return report


class PublisherWatch:
    """Reads the ledger head and the publisher's stored position, and judges them."""

    def __init__(self, ledger: LedgerCore, topic: str, settings: PublisherWatchSettings) -> None:
        datastore = getattr(ledger.recorder, "datastore", None)
        if not isinstance(datastore, PostgresDatastore):
            raise TypeError("the publisher runs only with the ledger on PostgreSQL")
        self.ledger = ledger
        self.topic = topic
        self.positions = PublisherPositions(datastore)
        self.progress = PublisherProgress(settings)

    def report(self) -> PublisherReport:
        head = self.ledger.recorder.max_notification_id() or 0
        published, stored_at = self.positions.published_at(self.topic)
        return self.progress.observe(head, published, self._waited(head, published, stored_at))

    def _waited(self, head: int, published: int, stored_at: datetime | None) -> float:
        """Seconds since the later of: the publisher last stored its position, and the
        first unpublished event was recorded (0 when nothing waits)."""
        if head <= published:
            return 0.0
        first = self.ledger.recorder.select_notifications(start=published + 1, limit=1)
        if not first:
            return 0.0
        since: datetime = self.ledger.ledger_event(first[0]).timestamp
        if stored_at is not None and stored_at > since:
            since = stored_at
        return max(0.0, (utc_now() - since).total_seconds())
