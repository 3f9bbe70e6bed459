"""Settings the Kafka pipeline's commands share, with a clear refusal when they are missing."""

from __future__ import annotations

import logging
import sys
import time

from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import ValidationError

from ledger.consent_ledger import ConsentLedger
from ledger.publishing.kafka import KafkaSettings
from ledger.settings import StorageSettings

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


def open_ledger(storage: StorageSettings, attempts: int = 10) -> ConsentLedger:
    """The ledger, retrying while the database refuses (not up yet, or a deadlock between
    this process's start-up DDL and the writers already running)."""
    for attempt in range(1, attempts + 1):
        try:
            return ConsentLedger(storage.eventsourcing_env())
        except (OperationalError, InterfaceError) as exc:
            if attempt == attempts:
                raise
            log.warning("cannot open the ledger yet; retrying", extra={"error": str(exc)})
            time.sleep(min(0.2 * attempt, 2.0))
    raise AssertionError("unreachable")  # pragma: no cover


def quiet_kafka_client() -> None:
    """The Kafka client logs every connection at INFO; keep its warnings and errors only."""
    logging.getLogger("kafka").setLevel(logging.WARNING)


def refuse(error: MissingSetting) -> int:
    print(str(error), file=sys.stderr)
    return 2
