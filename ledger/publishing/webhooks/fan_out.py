"""A batch of the ledger's log, fanned out into outbox rows: one per subscription that
wants the event. The body is the event's CloudEvent, byte for byte what ``consent.events``
carries (``publishing/cloudevents.py``)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence

from eventsourcing.persistence import Notification

from ledger.application.core import LedgerCore
from ledger.application.webhooks.subscriptions import is_deliverable
from ledger.domain.webhooks.subscriptions import Subscription
from ledger.events import LedgerEvent
from ledger.persistence.webhook_outbox import PENDING, Delivery, delivery_id
from ledger.publishing.cloudevents import encode


def fan_out(
    ledger: LedgerCore, batch: Sequence[Notification], subscriptions: list[Subscription]
) -> list[Delivery]:
    by_tenant: dict[str, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_tenant[subscription.tenant].append(subscription)
    if not by_tenant:
        return []
    now = time.time()
    rows: list[Delivery] = []
    for notification in batch:
        event = ledger.mapper.to_domain_event(notification)
        if not is_deliverable(event) or not isinstance(event, LedgerEvent):
            continue
        wanting = [
            s for s in by_tenant.get(event.tenant, ()) if s.wants(event.type_name, notification.id)
        ]
        if not wanting:
            continue
        body = encode(event, notification.id).value
        for subscription in wanting:
            rows.append(
                Delivery(
                    delivery_id=delivery_id(
                        event.tenant, subscription.subscription_id, str(event.event_id)
                    ),
                    tenant=event.tenant,
                    subscription_id=subscription.subscription_id,
                    subject_id=str(event.originator_id),
                    position=notification.id,
                    event_id=str(event.event_id),
                    event_type=event.type_name,
                    body=body,
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    last_attempt_at=None,
                    last_error=None,
                    last_status_code=None,
                )
            )
    return rows
