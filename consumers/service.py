"""``consent-ledger consume`` as a whole: the consumer, the reconciliation, the metrics.

The consumer runs on the calling thread; the reconciliation of every projection with
the ledger runs on a second one and also moves the positions ``?after=`` waits on.
"""

from __future__ import annotations

import logging
import threading

from consumers.consent_events import ConsentEventsConsumer
from consumers.consume_settings import ConsumeSettings
from consumers.dead_letters import DeadLetters
from ledger.application.core import LedgerCore
from ledger.publishing.kafka import KafkaSettings, ensure_topics, make_producer
from projections.ledger_source import LedgerSource
from projections.reconciliation import LedgerTail, Reconciler
from projections.subject_projection import SubjectProjection
from projections.views import PROJECTION_NAMES, open_projection

log = logging.getLogger(__name__)


class UnknownProjection(ValueError):
    pass


class ProjectionConsumers:
    def __init__(self, ledger: LedgerCore, kafka: KafkaSettings, settings: ConsumeSettings) -> None:
        unknown = [n for n in settings.projection_names if n not in PROJECTION_NAMES]
        if unknown or not settings.projection_names:
            raise UnknownProjection(
                f"unknown projection(s) {', '.join(unknown) or '(none given)'}; "
                f"known: {', '.join(PROJECTION_NAMES)}"
            )
        self.kafka = kafka
        self.settings = settings
        self.projections: list[SubjectProjection] = [
            open_projection(name, ledger) for name in settings.projection_names
        ]
        source = LedgerSource(ledger)
        self.tail = LedgerTail(source.log)  # the ledger read once for every projection
        self.reconcilers = [
            Reconciler(p, source, heal_after=settings.heal_after_seconds, tail=self.tail)
            for p in self.projections
        ]
        self.producer = make_producer(kafka)
        self.dead_letters = DeadLetters(self.producer, kafka.dlq_topic)
        self.consumer = ConsentEventsConsumer(kafka, settings, self.projections, self.dead_letters)

    def run(self, stop: threading.Event) -> None:
        ensure_topics(self.kafka, [self.kafka.events_topic, self.kafka.dlq_topic])
        background = threading.Thread(
            target=self._reconcile, args=(stop,), name="reconciliation", daemon=True
        )
        background.start()
        try:
            self.consumer.run(stop)
        finally:
            stop.set()
            background.join(timeout=30)
            self.producer.close(timeout=5)
            self.log_stats()

    def reconcile_once(self) -> None:
        for reconciler in self.reconcilers:
            reconciler.run_once()
        self.tail.forget(min(r.watermark for r in self.reconcilers))

    def _reconcile(self, stop: threading.Event) -> None:
        stats_every = self.settings.stats_seconds
        waited = 0.0
        while not stop.wait(self.settings.reconcile_seconds):
            try:
                self.reconcile_once()
            except Exception as exc:
                log.error("reconciliation failed; retrying", extra={"error": str(exc)})
            waited += self.settings.reconcile_seconds
            if waited >= stats_every:
                waited = 0.0
                self.log_stats()

    def log_stats(self) -> None:
        for projection in self.projections:
            log.info(
                "projection stats",
                extra={
                    "projection": projection.name,
                    "position": projection.applied_position(),
                    **projection.metrics.snapshot(),
                },
            )
        log.info("dead letters", extra={"dead_lettered": self.dead_letters.count})
