"""The ``publisher`` part of a worker's ``/healthz``: is the ledger being published?

Every Kafka worker reports it (ledger head, published position, lag, seconds stalled),
so one probe of any worker shows a dead publisher. Only ``publish`` *fails* its
``/healthz`` on it: restarting a consumer or the expirer cannot make events flow, while a
publisher that leads but does not advance is the one to restart.
"""

from __future__ import annotations

from typing import Any

from api.cli.worker_http import HealthPart
from ledger.application.core import LedgerCore
from ledger.publishing.kafka import KafkaSettings
from ledger.publishing.progress import PublisherWatch, PublisherWatchSettings


def publisher_part(ledger: LedgerCore, kafka: KafkaSettings, *, fails: bool) -> HealthPart:
    watch = PublisherWatch(ledger, kafka.events_topic, PublisherWatchSettings())

    def part() -> tuple[bool, dict[str, Any]]:
        try:
            report = watch.report()
        except Exception as error:  # the database is away: said, and judged below
            return not fails, {"error": f"{type(error).__name__}: {error}"}
        return report.ok or not fails, report.as_dict()

    return part
