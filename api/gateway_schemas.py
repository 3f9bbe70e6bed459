"""Bodies of the outbound queue and of an opt-in request's delivery evidence."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class OutboundOut(BaseModel):
    messages: list[dict[str, Any]] = Field(
        description="messages to send, in order: kind (opt_in_request, confirmation, help), "
        "id (echo it back: biz_opaque_callback_data / outbound_id), to, text or template"
    )
    next_after: int = Field(description="pass as ?after= to get the following messages")


class DeliveryOut(BaseModel):
    status: str = Field(description="sent, delivered, read; failed: it cannot reach the person")
    gateway: str
    gateway_message_id: str
    occurred_at: str
    recorded_at: str
    error_code: str | None = Field(None, description="the gateway's error code of a failure")
    fallback: str | None = Field(
        None, description="the channel to try instead after a failure (e.g. sms)"
    )


class DeliveriesOut(BaseModel):
    request_id: UUID
    deliveries: list[DeliveryOut]
