"""Readiness: the database answers, the read model keeps up, the broker answers, and (with
Kafka) the publisher keeps up with the ledger (``ledger/publishing/progress.py``)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient

from api.services import Services
from ledger.publishing.kafka import KafkaSettings
from ledger.publishing.progress import PublisherWatch, PublisherWatchSettings
from ledger.runtime.metrics import PROJECTION_POSITION

CACHE_SECONDS = 2.0


@dataclass
class Check:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.detail}


def database(services: Services) -> tuple[Check, int]:
    try:
        head = services.ledger.recorder.max_notification_id() or 0
    except Exception as error:  # any failure: not ready, said in the body
        return Check(False, {"error": f"{type(error).__name__}: {error}"}), 0
    return Check(True, {"ledger_position": head}), head


def projections(services: Services, head: int) -> Check:
    try:
        applied = services.consent_status.applied_position()
    except Exception as error:
        return Check(False, {"error": f"{type(error).__name__}: {error}"})
    PROJECTION_POSITION.labels(projection="consent_status").set(applied)
    lag = max(0, head - applied)
    bound = services.settings.ready_max_lag
    detail: dict[str, Any] = {
        "consent_status": {"applied_position": applied, "lag": lag, "max_lag": bound}
    }
    if lag > bound:
        detail["error"] = f"consent_status is {lag} positions behind the ledger (bound {bound})"
    return Check(lag <= bound, detail)


def broker(bootstrap_servers: str) -> Check:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers.split(","),
            request_timeout_ms=2000,
            bootstrap_timeout_ms=2000,
        )
        try:
            topics = admin.list_topics()
        finally:
            admin.close()
    except Exception as error:
        return Check(False, {"error": f"{type(error).__name__}: {error}"})
    return Check(True, {"topics": len(topics)})


def publisher(watch: PublisherWatch) -> Check:
    try:
        report = watch.report()
    except Exception as error:
        return Check(False, {"error": f"{type(error).__name__}: {error}"})
    return Check(report.ok, report.as_dict())


class Readiness:
    """Runs the checks at most every ``CACHE_SECONDS``, so probes cannot load the database."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._cached: tuple[float, bool, dict[str, Any]] | None = None
        servers = services.settings.kafka_bootstrap_servers
        # With Kafka the read models heal from the ledger even when nothing is published:
        # watch the publisher itself, or its death goes unnoticed.
        self.publisher = (
            PublisherWatch(
                services.ledger,
                KafkaSettings(bootstrap_servers=servers).events_topic,
                PublisherWatchSettings(),
            )
            if servers
            else None
        )

    def report(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < CACHE_SECONDS:
                return self._cached[1], self._cached[2]
            checks: dict[str, Check] = {}
            checks["database"], head = database(self.services)
            checks["projections"] = projections(self.services, head)
            servers = self.services.settings.kafka_bootstrap_servers
            if servers:
                checks["broker"] = broker(servers)
            if self.publisher is not None:
                checks["publisher"] = publisher(self.publisher)
            ready = all(c.ok for c in checks.values())
            body = {
                "status": "ready" if ready else "not_ready",
                "checks": {name: c.as_dict() for name, c in checks.items()},
            }
            self._cached = (now, ready, body)
            return ready, body
