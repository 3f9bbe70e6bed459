"""Operator settings of downstream webhooks (the API that registers endpoints and the
sender that calls them read the same ones)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.domain.webhooks.endpoints import EndpointPolicy


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Plain http endpoints (meant for tests and local development only).
    allow_http: bool = Field(default=False, alias="CONSENT_LEDGER_WEBHOOK_ALLOW_HTTP")
    # Private, loopback and link-local addresses (an endpoint inside the operator's network).
    allow_private: bool = Field(default=False, alias="CONSENT_LEDGER_WEBHOOK_ALLOW_PRIVATE")
    # After a subscription's secret is replaced, deliveries are signed with the old one
    # too for this long (Standard Webhooks: several signatures), so receivers can switch.
    secret_overlap_seconds: float = Field(
        default=86400.0, ge=0, alias="CONSENT_LEDGER_WEBHOOK_SECRET_OVERLAP_SECONDS"
    )

    @property
    def policy(self) -> EndpointPolicy:
        return EndpointPolicy(allow_http=self.allow_http, allow_private=self.allow_private)
