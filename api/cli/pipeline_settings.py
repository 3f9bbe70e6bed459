"""Settings the Kafka pipeline's commands share, with a clear refusal when they are missing."""

from __future__ import annotations

import logging
import sys

from pydantic import ValidationError

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.retry import RetryPolicy
from ledger.publishing.kafka import KafkaSettings
from ledger.runtime.storage_settings import StorageSettings

log = logging.getLogger(__name__)


class MissingSetting(Exception):
    pass


def postgres_storage(command: str) -> StorageSettings:
    storage = StorageSettings()
    if not storage.uses_postgres:
        raise MissingSetting(
            f"consent-ledger {command}: DATABASE_URL is not set. The Kafka pipeline needs the "
            "ledger on PostgreSQL (its single-publisher lock, positions and read models live "
            "there). Without Kafka, `consent-ledger serve` runs the projections in-process."
        )
    return storage


def kafka_settings(command: str) -> KafkaSettings:
    try:
        return KafkaSettings()
    except ValidationError:
        raise MissingSetting(
            f"consent-ledger {command}: KAFKA_BOOTSTRAP_SERVERS is not set "
            "(e.g. KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092)"
        ) from None


# Start-up waits for a database that is not up yet, or for a deadlock between this
# process's start-up DDL and the writers already running: ten tries, each waiting longer.
STARTUP_RETRY = RetryPolicy(
    transient_attempts=10, transient_wait_seconds=0.0, transient_wait_growth_seconds=0.2
)


def open_ledger(storage: StorageSettings) -> ConsentLedger:
    """The ledger, retrying while the database refuses (``STARTUP_RETRY``)."""
    return STARTUP_RETRY.run(
        lambda: ConsentLedger(storage.eventsourcing_env()), outcome="the ledger did not open"
    )


def quiet_kafka_client() -> None:
    """The Kafka client logs every connection at INFO; keep its warnings and errors only."""
    logging.getLogger("kafka").setLevel(logging.WARNING)


def refuse(error: MissingSetting) -> int:
    print(str(error), file=sys.stderr)
    return 2
