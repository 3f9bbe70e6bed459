"""Bodies of the webhook subscription endpoints. The secret is accepted, never returned."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.text_fields import Text
from ledger.domain.times import format_time
from ledger.domain.webhooks.subscriptions import Subscription
from ledger.persistence.webhook_outbox import Delivery


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Text = Field(
        min_length=1,
        max_length=2048,
        description="https endpoint with a public address (Standard Webhooks receiver)",
    )
    secret: Text = Field(
        min_length=1,
        max_length=200,
        description="whsec_ and the base64 of 24-64 random bytes; signs every delivery",
    )
    event_types: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=32,
        description='e.g. ["opted_out", "opted_in"]; empty: every consent change',
    )


class SubscriptionOut(BaseModel):
    tenant: str
    subscription_id: str
    url: str
    event_types: list[str]
    after_position: int = Field(description="events after this ledger position are delivered")
    created_at: str
    updated_at: str
    previous_secret_until: str | None = Field(
        default=None,
        description="after the secret was replaced: deliveries are signed with the old "
        "secret too until then",
    )


class SubscriptionsOut(BaseModel):
    subscriptions: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    delivery_id: str = Field(description="also the webhook-id header of every attempt")
    subject_id: str
    position: int
    event_id: str
    type: str
    status: str = Field(description="pending, delivered, dead or skipped")
    attempts: int
    created_at: str
    next_attempt_at: str | None
    last_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut]


class CountOut(BaseModel):
    count: int


def _time(seconds: float | None) -> str | None:
    return None if seconds is None else format_time(datetime.fromtimestamp(seconds, UTC))


def subscription_out(
    subscription: Subscription, previous_until: datetime | None = None
) -> SubscriptionOut:
    return SubscriptionOut(
        previous_secret_until=format_time(previous_until) if previous_until else None,
        tenant=subscription.tenant,
        subscription_id=subscription.subscription_id,
        url=subscription.url,
        event_types=list(subscription.event_types),
        after_position=subscription.after_position,
        created_at=format_time(subscription.created_at),
        updated_at=format_time(subscription.updated_at),
    )


def delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        delivery_id=delivery.delivery_id,
        subject_id=delivery.subject_id,
        position=delivery.position,
        event_id=delivery.event_id,
        type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        created_at=_time(delivery.created_at) or "",
        next_attempt_at=_time(delivery.next_attempt_at) if delivery.status == "pending" else None,
        last_attempt_at=_time(delivery.last_attempt_at),
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
    )
