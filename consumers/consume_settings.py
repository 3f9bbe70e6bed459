"""Settings of ``consent-ledger consume`` (besides storage and Kafka), from the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsumeSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    group_id: str = Field(
        default="consent-ledger-projections", alias="CONSENT_LEDGER_CONSUMER_GROUP"
    )
    # Kafka's group timeouts. Short ones make a group join fast (about 1 s with 2000 ms
    # on Tansu instead of about 23 s with the client's defaults) but notice a stalled
    # member sooner; the defaults suit a production cluster.
    session_timeout_ms: int = Field(
        default=10_000, ge=1000, alias="CONSENT_LEDGER_CONSUMER_SESSION_TIMEOUT_MS"
    )
    heartbeat_ms: int = Field(default=3000, ge=100, alias="CONSENT_LEDGER_CONSUMER_HEARTBEAT_MS")
    max_poll_records: int = Field(
        default=1000, ge=1, le=50_000, alias="CONSENT_LEDGER_CONSUMER_MAX_POLL_RECORDS"
    )
    poll_ms: int = Field(default=200, ge=10, alias="CONSENT_LEDGER_CONSUMER_POLL_MS")
    # How long the broker may hold a fetch that found nothing new. Kafka answers as soon
    # as a record arrives; Tansu (the tests' and the bench's broker) was seen holding it
    # for much of the wait: with the client's 500 ms a record took 129 ms (median) from
    # producer to consumer, with 20 ms 7 ms. An idle consumer asks 40 times a second.
    fetch_wait_ms: int = Field(
        default=25, ge=0, le=10_000, alias="CONSENT_LEDGER_CONSUMER_FETCH_WAIT_MS"
    )
    projections: str = Field(
        default="consent_status,pending_requests,consent_daily", alias="CONSENT_LEDGER_PROJECTIONS"
    )
    # How often the reconciliation compares the projections with the ledger (and moves
    # the position ``?after=`` waits on), and how long an event may stay undelivered by
    # Kafka before the reconciliation applies it from the ledger itself.
    reconcile_seconds: float = Field(default=0.5, gt=0, alias="CONSENT_LEDGER_RECONCILE_SECONDS")
    heal_after_seconds: float = Field(default=10.0, gt=0, alias="CONSENT_LEDGER_HEAL_AFTER_SECONDS")
    retry_seconds: float = Field(default=1.0, gt=0, alias="CONSENT_LEDGER_CONSUMER_RETRY_SECONDS")
    stats_seconds: float = Field(default=30.0, gt=0, alias="CONSENT_LEDGER_STATS_SECONDS")

    @property
    def projection_names(self) -> list[str]:
        return [n.strip() for n in self.projections.split(",") if n.strip()]
