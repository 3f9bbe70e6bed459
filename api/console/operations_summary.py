"""What the operator dashboard shows, and ``GET /v1/operations/summary`` answers: a
tenant's opt-ins and opt-outs per day by capture method and keyword (``consent_daily``),
read-model lag, the publisher's position, healed and dead-lettered records, and the age of
the latest signed checkpoint.

Healed, gap-repaired and dead-lettered counts are this process's own counters (the same
as its ``/metrics``): with Kafka, the consumers' counts are on the consumers' ``/metrics``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from prometheus_client import Counter
from pydantic import BaseModel

from api.readiness import Readiness
from api.services import Services
from ledger.domain.times import format_time
from ledger.publishing.positions import PublisherPositions
from ledger.runtime.metrics import DLQ_MESSAGES, PROJECTION_GAP_REPAIRS
from projections.consent_daily import ConsentDailyProjection, DailyCount
from projections.views import open_typed

DAYS = 30


class DailyRow(BaseModel):
    day: str
    channel: str
    kind: str  # opt_in | opt_out
    method: str
    keyword: str
    count: int


class OperationsSummary(BaseModel):
    tenant: str
    days: int
    daily: list[DailyRow]
    ledger_position: int
    read_model_position: int
    read_model_lag: int
    publisher: str  # "embedded" (no Kafka) or the topic it publishes to
    publisher_position: int | None
    publisher_lag: int | None
    healed_events: int
    gap_repairs: int
    dead_lettered: int
    checkpoint_tree_size: int | None
    checkpoint_time: str | None
    checkpoint_age_seconds: float | None


def _total(counter: Counter) -> int:
    return int(
        sum(
            sample.value
            for metric in counter.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )
    )


def daily_projection(services: Services, opened: dict[str, Any]) -> ConsentDailyProjection:
    if services.embedded is not None:
        return services.embedded.projections.consent_daily
    if "consent_daily" not in opened:
        opened["consent_daily"] = open_typed(
            "consent_daily", services.ledger, ConsentDailyProjection, create=False
        )
    projection: ConsentDailyProjection = opened["consent_daily"]
    return projection


def _publisher(services: Services, topic: str) -> tuple[str, int | None]:
    if not services.settings.kafka_bootstrap_servers:
        return "embedded", None
    datastore = getattr(services.ledger.recorder, "datastore", None)
    if not isinstance(datastore, PostgresDatastore):
        return topic, None
    return topic, PublisherPositions(datastore).load(topic)


def summarize(
    services: Services,
    readiness: Readiness,
    tenant: str,
    topic: str,
    opened: dict[str, Any],
    now: datetime | None = None,
) -> OperationsSummary:
    now = now or datetime.now(UTC)
    since = (now - timedelta(days=DAYS - 1)).date().isoformat()
    counts: list[DailyCount] = daily_projection(services, opened).counts(tenant)
    _, report = readiness.report()
    checks = report["checks"]
    head = int(checks["database"].get("ledger_position", 0))
    status = checks["projections"].get("consent_status", {})
    applied = int(status.get("applied_position", 0))
    publisher, published = _publisher(services, topic)
    checkpoint = services.merkle.latest_checkpoint()
    return OperationsSummary(
        tenant=tenant,
        days=DAYS,
        daily=[
            DailyRow(
                day=c.day,
                channel=c.channel,
                kind=c.kind,
                method=c.method,
                keyword=c.keyword,
                count=c.count,
            )
            for c in counts
            if c.day >= since
        ],
        ledger_position=head,
        read_model_position=applied,
        read_model_lag=max(0, head - applied),
        publisher=publisher,
        publisher_position=published,
        publisher_lag=None if published is None else max(0, head - published),
        healed_events=int(
            sum(p.metrics.snapshot()["healed_events"] for p in _projections(services))
        ),
        gap_repairs=_total(PROJECTION_GAP_REPAIRS),
        dead_lettered=_total(DLQ_MESSAGES),
        checkpoint_tree_size=checkpoint.tree_size if checkpoint else None,
        checkpoint_time=format_time(checkpoint.time) if checkpoint else None,
        checkpoint_age_seconds=(now - checkpoint.time).total_seconds() if checkpoint else None,
    )


def _projections(services: Services) -> list[Any]:
    return services.embedded.projections.all() if services.embedded is not None else []
