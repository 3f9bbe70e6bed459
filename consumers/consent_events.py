"""The consumer of ``consent.events``: decode, apply to every projection, keep offsets.

One Kafka consumer group; each member gets some partitions. For each poll (records of
any of its partitions), every projection applies the records past its own stored
offsets and stores the new offsets in the same transaction as its rows (Kafka's
committed offsets are not used). On assignment the consumer seeks each partition to
the lowest offset any projection still needs. A record that cannot be decoded, or that
a projection cannot apply, goes to the dead-letter topic with the reason; the stream
goes on. A database fault is not the record's fault: the batch is retried from the
stored offsets.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from consumers.consume_settings import ConsumeSettings
from consumers.dead_letters import DeadLetters
from ledger.publishing.cloudevents import DecodedEvent, UndecodableRecord, decode
from ledger.publishing.kafka import KafkaSettings
from ledger.runtime.liveness import beat
from ledger.runtime.metrics import CONSUMER_LAG
from projections.batch_transaction import apply_together
from projections.checkpoints import Checkpoint
from projections.database import DATABASE_ERRORS, Cursor
from projections.ledger_source import Positioned
from projections.poll_memo import PollMemo
from projections.subject_projection import SubjectProjection

log = logging.getLogger(__name__)

TopicKey = tuple[str, int]  # (topic, partition)
Offsets = dict[TopicKey, int]
Decoded = list[tuple[Any, DecodedEvent | None]]  # each record, and its event if it decoded


class ConsentEventsConsumer:
    def __init__(
        self,
        kafka: KafkaSettings,
        settings: ConsumeSettings,
        projections: Sequence[SubjectProjection],
        dead_letters: DeadLetters,
    ) -> None:
        self.kafka = kafka
        self.settings = settings
        self.topic = kafka.events_topic
        self.projections = list(projections)
        self.dead_letters = dead_letters
        self.offsets: dict[str, Offsets] = {p.name: {} for p in self.projections}
        self.consumer: KafkaConsumer | None = None

    # ------------------------------------------------------------------ running
    def run(self, stop: threading.Event) -> None:
        consumer = self.consumer = KafkaConsumer(
            bootstrap_servers=self.kafka.servers,
            client_id=self.kafka.client_id,
            group_id=self.settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_ms,
            max_poll_records=self.settings.max_poll_records,
            fetch_max_wait_ms=self.settings.fetch_wait_ms,
        )
        try:
            consumer.subscribe([self.topic], listener=_SeekToStored(self))
            while not stop.is_set():
                beat()
                polled = self.poll(consumer)
                try:
                    self.handle({(tp.topic, tp.partition): rs for tp, rs in polled.items()})
                    for tp, records in polled.items():
                        highwater = consumer.highwater(tp)
                        if highwater is not None and records:
                            lag = max(0, highwater - records[-1].offset - 1)
                            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)
                except DATABASE_ERRORS as exc:
                    log.error(
                        "database unavailable; retrying from the stored offsets",
                        extra={"error": str(exc)},
                    )
                    stop.wait(self.settings.retry_seconds)
                    self.seek_to_stored(consumer, list(consumer.assignment()))
        finally:
            consumer.close(autocommit=False)
            log.info("consumer stopped", extra={"topic": self.topic})

    def poll(self, consumer: KafkaConsumer) -> dict[Any, list[Any]]:
        """One poll of the broker (a seam where tests inject faults between broker and
        projection)."""
        polled: dict[Any, list[Any]] = consumer.poll(timeout_ms=self.settings.poll_ms)
        return polled

    # ------------------------------------------------------------------ applying
    def handle(self, polled: Mapping[TopicKey, Sequence[Any]]) -> None:
        """Apply one poll: one transaction for every projection and partition in it.

        A poll spans up to all partitions of the topic; a transaction (and a durable
        commit) per partition and projection made the consumer's cycle, and so the
        end-to-end lag, grow with the partition count. Its statements are pipelined (a
        round trip only where rows are read back, and at the commit), and the read models
        share one ``PollMemo`` (each subject's fold done once). The commit does not wait
        for its WAL flush: the offsets commit with the rows, so a commit lost in a crash
        is replayed from Kafka. If a record cannot be applied, the poll is applied again one
        projection at a time, and that projection record by record (dead-lettering it).
        """
        batches = {key: self._decode(key, records) for key, records in polled.items() if records}
        if not batches:
            return
        work = [(p, fresh) for p in self.projections if (fresh := self._fresh(p, batches))]
        if not work:
            return
        memo = PollMemo(work[0][0].source)  # the fold, keys and encodings done once

        def together(cursor: Cursor) -> None:
            for projection, fresh in work:
                projection.apply_in(cursor, _items(fresh), Checkpoint(offsets=_last(fresh)), memo)

        def apart() -> None:  # each read model's offsets move as it applies its part
            for projection, fresh in work:
                self._apply(projection, fresh)

        if not apply_together(work[0][0].db, "consumer", together, apart):
            return
        for projection, fresh in work:
            self.offsets[projection.name].update(_last(fresh))

    def _fresh(
        self, projection: SubjectProjection, batches: Mapping[TopicKey, Decoded]
    ) -> dict[TopicKey, Decoded]:
        """The records of each partition that ``projection`` has not applied yet."""
        done = self.offsets[projection.name]
        return {
            key: part
            for key, decoded in batches.items()
            if (part := [(r, d) for r, d in decoded if r.offset > done.get(key, -1)])
        }

    def _decode(self, key: TopicKey, records: Sequence[Any]) -> Decoded:
        decoded: Decoded = []
        for record in records:
            try:
                decoded.append((record, decode(record.value)))
            except UndecodableRecord as exc:
                if self._needed_by_any(key, record.offset):
                    self.dead_letters.send(record, f"undecodable: {exc}", "undecodable")
                decoded.append((record, None))
        return decoded

    def _apply(self, projection: SubjectProjection, fresh: Mapping[TopicKey, Decoded]) -> None:
        """One projection's part of a poll in a transaction of its own (the fallback)."""
        done = self.offsets[projection.name]
        last = _last(fresh)
        try:
            projection.apply(_items(fresh), Checkpoint(offsets=last))
        except DATABASE_ERRORS:
            raise
        except Exception:
            # Some record cannot be applied: find it, dead-letter it, apply the rest.
            for key, part in fresh.items():
                self._apply_one_by_one(projection, key, part)
        done.update(last)

    def _apply_one_by_one(
        self, projection: SubjectProjection, key: TopicKey, fresh: Decoded
    ) -> None:
        for record, event in fresh:
            items = [Positioned(event.event, event.position)] if event and event.event else []
            try:
                projection.apply(items, Checkpoint(offsets={key: record.offset}))
            except DATABASE_ERRORS:
                raise
            except Exception as exc:
                self.dead_letters.send(record, f"{projection.name} cannot apply it: {exc!r}")
                projection.apply([], Checkpoint(offsets={key: record.offset}))

    def _needed_by_any(self, key: TopicKey, offset: int) -> bool:
        return any(o.get(key, -1) < offset for o in self.offsets.values())

    # ------------------------------------------------------------------ assignment
    def seek_to_stored(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> None:
        """Seek each partition to the first offset some projection has not applied."""
        for projection in self.projections:
            stored = projection.checkpoints.offsets(projection.name)
            self.offsets[projection.name] = {k: v for k, v in stored.items() if k[0] == self.topic}
        for tp in partitions:
            done = [o.get((tp.topic, tp.partition)) for o in self.offsets.values()]
            if any(d is None for d in done):
                consumer.seek_to_beginning(tp)
                start: int | str = "beginning"
            else:
                start = min(d for d in done if d is not None) + 1
                consumer.seek(tp, start)
            log.info(
                "partition assigned",
                extra={"partition": f"{tp.topic}[{tp.partition}]", "from": start},
            )


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: ConsentEventsConsumer) -> None:
        self.owner = owner

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass  # offsets are stored with the results, nothing to commit

    def on_partitions_assigned(self, assigned: Any) -> None:
        consumer = self.owner.consumer
        if consumer is not None and assigned:
            self.owner.seek_to_stored(consumer, list(assigned))


def _items(fresh: Mapping[TopicKey, Decoded]) -> list[Positioned]:
    return [
        Positioned(d.event, d.position)
        for part in fresh.values()
        for _, d in part
        if d and d.event is not None
    ]


def _last(fresh: Mapping[TopicKey, Decoded]) -> dict[TopicKey, int]:
    return {key: part[-1][0].offset for key, part in fresh.items()}
