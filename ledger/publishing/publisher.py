"""The publisher (the relay): every ledger event, in ledger order, onto ``consent.events``.

It follows the notification log from the last position the broker acknowledged, sends
each batch with the idempotent producer (``acks=all``), waits until the broker has
acknowledged every record of the batch, and only then records the batch's last
position. A crash anywhere in between republishes the batch: a duplicate on Kafka,
never a gap. Only the instance holding the advisory lock publishes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresDatastore
from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.application.core import LedgerCore
from ledger.publishing.cloudevents import KafkaRecord, encode, encode_stored
from ledger.publishing.kafka import KafkaSettings, ensure_topics, make_producer
from ledger.publishing.outbound_relay import OutboundRelay
from ledger.publishing.positions import PublisherPositions
from ledger.runtime.leadership import Leadership, LeadershipLost
from ledger.runtime.liveness import beat
from ledger.runtime.metrics import PUBLISHER_LAG, PUBLISHER_RETRIES
from ledger.runtime.notification_log import NotificationLog

log = logging.getLogger(__name__)

LINGER_MS = 100


class PublishSettings(BaseSettings):
    """Settings of ``consent-ledger publish`` (besides storage and Kafka)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    batch_size: int = Field(default=500, ge=1, le=10_000, alias="CONSENT_LEDGER_PUBLISH_BATCH")
    poll_seconds: float = Field(default=1.0, gt=0, alias="CONSENT_LEDGER_PUBLISH_POLL_SECONDS")
    lock_retry_seconds: float = Field(
        default=2.0, gt=0, alias="CONSENT_LEDGER_PUBLISH_LOCK_RETRY_SECONDS"
    )
    ack_timeout_seconds: float = Field(
        default=60.0, gt=0, alias="CONSENT_LEDGER_PUBLISH_ACK_TIMEOUT_SECONDS"
    )
    # After a broker failure: wait retry_seconds, doubling with each failure in a row up
    # to retry_max_seconds; one published batch resets it.
    retry_seconds: float = Field(default=2.0, gt=0, alias="CONSENT_LEDGER_PUBLISH_RETRY_SECONDS")
    retry_max_seconds: float = Field(
        default=30.0, gt=0, alias="CONSENT_LEDGER_PUBLISH_RETRY_MAX_SECONDS"
    )
    # How often the acknowledged positions (the events', the outbound relay's) are stored
    # (a durable commit each time); after a crash at most this much is published again
    # (duplicates, never a gap).
    position_seconds: float = Field(
        default=1.0, ge=0, le=60, alias="CONSENT_LEDGER_PUBLISH_POSITION_SECONDS"
    )
    # Also relay the outbox (messages the gateways must send) to the outbound topic.
    outbound: bool = Field(default=True, alias="CONSENT_LEDGER_PUBLISH_OUTBOUND")


def retry_wait(settings: PublishSettings, failures: int) -> float:
    """Seconds to wait after ``failures`` failures in a row (exponential, capped)."""
    wait: float = settings.retry_seconds * 2.0 ** min(failures - 1, 30)
    return min(wait, max(settings.retry_max_seconds, settings.retry_seconds))


class PublishFailed(Exception):
    """The broker did not acknowledge a batch; it is republished from the last position."""


@dataclass
class PublisherStats:
    published: int = 0
    batches: int = 0
    position: int = 0


class Publisher:
    def __init__(
        self,
        ledger: LedgerCore,
        kafka: KafkaSettings,
        settings: PublishSettings,
        *,
        lock_conninfo: str,
    ) -> None:
        datastore = getattr(ledger.recorder, "datastore", None)
        if not isinstance(datastore, PostgresDatastore):
            raise TypeError("the publisher needs the ledger on PostgreSQL (DATABASE_URL)")
        self.ledger = ledger
        self.kafka = kafka
        self.settings = settings
        self.topic = kafka.events_topic
        self.positions = PublisherPositions(datastore)
        self.leadership = Leadership(lock_conninfo, self.topic)
        self.log = NotificationLog(
            ledger.recorder, batch_size=settings.batch_size, poll_interval=settings.poll_seconds
        )
        self.stats = PublisherStats()
        mapper = ledger.mapper
        # Rows are the library's plain JSON unless a cipher or compressor is configured.
        self._plain_rows = mapper.cipher is None and mapper.compressor is None

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set; wait for (or regain) leadership as needed."""
        topics = [self.topic, self.kafka.dlq_topic]
        if self.settings.outbound:
            topics.append(self.kafka.outbound_topic)
        ensure_topics(self.kafka, topics)
        failures, published = 0, self.stats.published
        try:
            while not stop.is_set():
                beat()  # waiting for the lock is healthy too
                if not self.leadership.acquire(stop, self.settings.lock_retry_seconds):
                    return
                self.positions.create_table()
                try:
                    self._publish(stop)
                except LeadershipLost:
                    log.warning("publisher lost its lock; waiting to lead again")
                except (PublishFailed, KafkaError) as exc:
                    failures = 1 if self.stats.published > published else failures + 1
                    published = self.stats.published
                    wait = retry_wait(self.settings, failures)
                    PUBLISHER_RETRIES.inc()
                    log.error(
                        "publishing failed; resuming from the last acknowledged position",
                        extra={
                            "error": str(exc),
                            "position": self.stats.position,
                            "failures_in_a_row": failures,
                            "retry_in_seconds": wait,
                        },
                    )
                    stop.wait(wait)
        finally:
            self.leadership.release()

    def _publish(self, stop: threading.Event) -> None:
        position = self.positions.load(self.topic)
        self.stats.position = position
        log.info("publishing", extra={"topic": self.topic, "after_position": position})
        # Every batch is flushed as soon as it is sent, so the linger never delays an event;
        # it only keeps the sender thread from shipping (and being woken for) a few
        # records at a time while the batch is still being encoded.
        producer = make_producer(self.kafka, linger_ms=LINGER_MS)
        relay = (
            OutboundRelay(
                self.ledger,
                producer,
                self.kafka.outbound_topic,
                self.positions,
                ack_timeout=self.settings.ack_timeout_seconds,
                position_seconds=self.settings.position_seconds,
            )
            if self.settings.outbound
            else None
        )
        checked = time.monotonic()
        stored_at, stored = time.monotonic(), position
        relaying = _RelayThread(relay, stop) if relay is not None else None
        try:
            for batch in self.log.follow(position, stop):
                beat()
                if time.monotonic() - checked > self.settings.lock_retry_seconds:
                    self.leadership.check()
                    checked = time.monotonic()
                if relaying is not None:
                    relaying.check()
                if batch:
                    self._send(producer, batch)
                    self.stats.position = batch[-1].id
                    self.stats.published += len(batch)
                    self.stats.batches += 1
                    if relaying is not None:
                        relaying.wake()  # outbox rows commit with their events
                if self.stats.position != stored and (
                    not batch or time.monotonic() - stored_at >= self.settings.position_seconds
                ):
                    self.positions.store(self.topic, self.stats.position)
                    stored_at, stored = time.monotonic(), self.stats.position
                PUBLISHER_LAG.set(max(0, self.log.last_position() - self.stats.position))
        finally:
            if relaying is not None:
                relaying.close()
            if self.stats.position != stored:  # acknowledged by the broker: keep it
                with contextlib.suppress(Exception):
                    self.positions.store(self.topic, self.stats.position)
            # Whatever was sent is flushed; its position is stored on the next run.
            producer.close(timeout=5)
        log.info("publisher stopped", extra={"position": self.stats.position})

    def _send(self, producer: KafkaProducer, batch: Sequence[Notification]) -> None:
        futures = []
        for notification in batch:
            record = self._record(notification)
            futures.append(
                producer.send(
                    self.topic, key=record.key, value=record.value, headers=record.headers
                )
            )
        producer.flush(timeout=self.settings.ack_timeout_seconds)
        for future in futures:
            if not future.is_done:
                raise PublishFailed("the broker did not acknowledge the batch in time")
            if future.failed():
                raise PublishFailed(str(future.exception))

    def _record(self, notification: Notification) -> KafkaRecord:
        if self._plain_rows:
            record = encode_stored(notification, notification.id)
            if record is not None:
                return record
        event = self.ledger.mapper.to_domain_event(notification)
        return encode(event, notification.id)


class _RelayThread:
    """The outbound relay on a thread of its own, so relaying never delays the events.

    Woken after every published batch (outbox rows commit with their events) and every
    poll interval; a relay failure stops the thread and is raised in the publisher's loop
    by ``check``, which then starts over from the stored positions.
    """

    POLL_SECONDS = 1.0

    def __init__(self, relay: OutboundRelay, stop: threading.Event) -> None:
        self.relay = relay
        self.stop = stop
        self.done = threading.Event()
        self.wakeup = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="outbound-relay", daemon=True)
        self.thread.start()

    def wake(self) -> None:
        self.wakeup.set()

    def check(self) -> None:
        if self.error is not None:
            raise PublishFailed(f"the outbound relay failed: {self.error}")

    def close(self) -> None:
        self.done.set()
        self.wakeup.set()
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            with contextlib.suppress(Exception):  # acknowledged by the broker: keep it
                self.relay.save()

    def _run(self) -> None:
        while not (self.done.is_set() or self.stop.is_set()):
            try:
                while self.relay.run_once() >= self.relay.batch_size:
                    pass
            except Exception as error:  # handed to the publisher's loop
                self.error = error
                return
            self.wakeup.wait(self.POLL_SECONDS)
            self.wakeup.clear()
