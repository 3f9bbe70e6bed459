"""Managing a tenant's webhook subscriptions and their deliveries (the admin routes).

A subscription receives the tenant's consent changes recorded after it was first
registered. Its URL is checked when it is registered (scheme, and the addresses its
host resolves to; a host that does not resolve yet is accepted and checked again at
every delivery). Its secret is stored encrypted and never returned.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ledger.application.core import LedgerCore
from ledger.application.webhooks.resolution import Unresolvable, resolve
from ledger.crypto.secret_box import SecretBox
from ledger.domain.errors import InvalidInput, LedgerError
from ledger.domain.times import utc_now
from ledger.domain.webhooks.endpoints import EndpointPolicy, parse_endpoint
from ledger.domain.webhooks.subscriptions import (
    Subscription,
    parse_event_types,
    parse_subscription_id,
    secret_key,
)
from ledger.events import ConsentEvent, LedgerEvent, PersonalDataErased
from ledger.persistence.webhook_outbox import STATUSES, Delivery, WebhookOutbox
from ledger.persistence.webhook_subscriptions import StoredSubscription, SubscriptionTable

log = logging.getLogger(__name__)

MAX_LIST = 1000


class SubscriptionNotFound(LedgerError):
    code = "subscription_not_found"


class DeliveryNotFound(LedgerError):
    code = "delivery_not_found"


def deliverable_types() -> list[str]:
    """The event types a subscription may ask for: every change of a subject's consent."""
    found: list[str] = []
    pending: list[type[LedgerEvent]] = [ConsentEvent, PersonalDataErased]
    while pending:
        cls = pending.pop()
        if cls.type_name:
            found.append(cls.type_name)
        pending.extend(cls.__subclasses__())
    return sorted(set(found))


def is_deliverable(event: object) -> bool:
    return isinstance(event, ConsentEvent | PersonalDataErased)


def secret_context(tenant: str, subscription_id: str) -> bytes:
    return f"webhook-subscription:{tenant}:{subscription_id}".encode()


@dataclass(frozen=True)
class SubscriptionRequest:
    url: str
    secret: str
    event_types: tuple[str, ...] = ()


class WebhookSubscriptions:
    def __init__(
        self,
        ledger: LedgerCore,
        secrets: SecretBox,
        policy: EndpointPolicy,
        *,
        secret_overlap: timedelta = timedelta(days=1),
    ) -> None:
        self.ledger = ledger
        self.secrets = secrets
        self.policy = policy
        self.secret_overlap = secret_overlap
        self.table = SubscriptionTable(ledger.recorder)
        self.outbox = WebhookOutbox(ledger.recorder)

    def put(self, tenant: str, subscription_id: str, request: SubscriptionRequest) -> Subscription:
        parse_subscription_id(subscription_id)
        endpoint = parse_endpoint(request.url, self.policy)
        try:
            resolve(endpoint, self.policy)
        except Unresolvable:
            log.info("webhook host does not resolve yet", extra={"host": endpoint.host})
        event_types = parse_event_types(request.event_types, deliverable_types())
        secret_key(request.secret)
        context = secret_context(tenant, subscription_id)
        scheme, sealed = self.secrets.encrypt({"secret": request.secret}, context)
        now = utc_now()
        rotated = self._rotation(self.table.get(tenant, subscription_id), request.secret, now)
        stored = self.table.put(
            StoredSubscription(
                Subscription(
                    tenant=tenant,
                    subscription_id=subscription_id,
                    url=request.url,
                    event_types=event_types,
                    after_position=self.ledger.recorder.max_notification_id() or 0,
                    created_at=now,
                    updated_at=now,
                ),
                scheme=scheme,
                sealed_secret=sealed,
                **rotated,
            )
        )
        return stored.subscription

    def _rotation(
        self, before: StoredSubscription | None, secret: str, now: datetime
    ) -> dict[str, Any]:
        """The previous-secret fields after a PUT: a replaced secret signs too for the
        overlap; the same secret again keeps whatever overlap was running."""
        if before is None:
            return {}
        s = before.subscription
        opened = self.secrets.decrypt(
            before.scheme, before.sealed_secret, secret_context(s.tenant, s.subscription_id)
        )
        if hmac.compare_digest(opened["secret"].encode(), secret.encode()):
            return {
                "previous_scheme": before.previous_scheme,
                "previous_sealed": before.previous_sealed,
                "previous_until": before.previous_until,
            }
        return {
            "previous_scheme": before.scheme,
            "previous_sealed": before.sealed_secret,
            "previous_until": now + self.secret_overlap,
        }

    def previous_secret_until(self, tenant: str, subscription_id: str) -> datetime | None:
        """Until when the replaced secret signs too (None: no overlap running)."""
        stored = self.table.get(tenant, subscription_id)
        if stored is None or stored.previous_until is None:
            return None
        return stored.previous_until if stored.previous_until > utc_now() else None

    def get(self, tenant: str, subscription_id: str) -> Subscription:
        stored = self.table.get(tenant, subscription_id)
        if stored is None:
            raise SubscriptionNotFound(
                f"no subscription {subscription_id!r}", field="subscription_id"
            )
        return stored.subscription

    def of_tenant(self, tenant: str) -> list[Subscription]:
        return [s.subscription for s in self.table.of_tenant(tenant)]

    def delete(self, tenant: str, subscription_id: str) -> None:
        if not self.table.delete(tenant, subscription_id):
            raise SubscriptionNotFound(
                f"no subscription {subscription_id!r}", field="subscription_id"
            )
        self.outbox.drop(tenant, subscription_id)

    def deliveries(
        self, tenant: str, subscription_id: str, status: str | None, limit: int
    ) -> list[Delivery]:
        self.get(tenant, subscription_id)
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status is one of {', '.join(STATUSES)}", field="status")
        return self.outbox.of_subscription(
            tenant, subscription_id, status, max(1, min(limit, MAX_LIST))
        )

    def replay(self, tenant: str, subscription_id: str, delivery_id: str | None) -> int:
        """Send a dead (or skipped) delivery again, or every dead one when ``delivery_id``
        is None; returns how many were queued again."""
        self.get(tenant, subscription_id)
        count = self.outbox.replay(tenant, subscription_id, delivery_id, time.time())
        if delivery_id is not None and count == 0:
            raise DeliveryNotFound(
                f"no dead or skipped delivery {delivery_id!r}", field="delivery_id"
            )
        return count

    def skip(self, tenant: str, subscription_id: str, delivery_id: str) -> None:
        self.get(tenant, subscription_id)
        if self.outbox.skip(tenant, subscription_id, delivery_id) == 0:
            raise DeliveryNotFound(
                f"no pending or dead delivery {delivery_id!r}", field="delivery_id"
            )
