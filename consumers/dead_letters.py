"""The dead-letter topic: records that cannot be decoded or applied, with why and whence.

Each dead letter keeps the original key, value and headers, and adds ``dlq-reason`` and
``dlq-origin`` (``topic[partition]@offset``). It is acknowledged by the broker before
the consumer moves past the record, so a poison message is never silently dropped.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kafka import KafkaProducer

from ledger.runtime.metrics import DLQ_MESSAGES

log = logging.getLogger(__name__)


def origin_of(record: Any) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


class DeadLetters:
    def __init__(self, producer: KafkaProducer, topic: str, *, timeout: float = 30.0) -> None:
        self.producer = producer
        self.topic = topic
        self.timeout = timeout
        self.count = 0
        self._lock = threading.Lock()

    def send(self, record: Any, reason: str, kind: str = "unapplicable") -> None:
        origin = origin_of(record)
        headers = [
            *(record.headers or []),
            ("dlq-reason", reason.encode("utf-8")),
            ("dlq-origin", origin.encode()),
        ]
        future = self.producer.send(self.topic, key=record.key, value=record.value, headers=headers)
        future.get(timeout=self.timeout)
        with self._lock:
            self.count += 1
        DLQ_MESSAGES.labels(kind).inc()
        log.error("record dead-lettered", extra={"origin": origin, "reason": reason})
