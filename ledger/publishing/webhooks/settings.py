"""Settings of the webhook sender (``consent-ledger deliver``, or inside ``serve``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.domain.webhooks.retries import RetryPolicy


class DeliverSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Run the sender inside ``serve``: unset means yes on the embedded SQLite default
    # (nothing else would deliver), no on PostgreSQL (run ``consent-ledger deliver``).
    in_serve: bool | None = Field(default=None, alias="CONSENT_LEDGER_DELIVER_IN_SERVE")
    batch_size: int = Field(default=200, ge=1, le=5000, alias="CONSENT_LEDGER_DELIVER_BATCH")
    poll_seconds: float = Field(default=1.0, gt=0, alias="CONSENT_LEDGER_DELIVER_POLL_SECONDS")
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, alias="CONSENT_LEDGER_DELIVER_TIMEOUT_SECONDS"
    )
    concurrency: int = Field(default=8, ge=1, le=64, alias="CONSENT_LEDGER_DELIVER_CONCURRENCY")
    retry_base_seconds: float = Field(
        default=5.0, gt=0, alias="CONSENT_LEDGER_DELIVER_RETRY_BASE_SECONDS"
    )
    retry_max_seconds: float = Field(
        default=3600.0, gt=0, alias="CONSENT_LEDGER_DELIVER_RETRY_MAX_SECONDS"
    )
    max_attempts: int = Field(default=12, ge=1, le=100, alias="CONSENT_LEDGER_DELIVER_MAX_ATTEMPTS")
    lock_retry_seconds: float = Field(
        default=2.0, gt=0, alias="CONSENT_LEDGER_DELIVER_LOCK_RETRY_SECONDS"
    )
    # After an error (database away), the sender starts over after this long.
    restart_seconds: float = Field(
        default=2.0, gt=0, alias="CONSENT_LEDGER_DELIVER_RESTART_SECONDS"
    )

    # Delivered and skipped deliveries are kept this long (the deliveries route shows
    # them), then forgotten; pending and dead ones are kept until they are settled.
    keep_seconds: float = Field(
        default=7 * 86400, ge=0, alias="CONSENT_LEDGER_DELIVER_KEEP_SECONDS"
    )

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            base_seconds=self.retry_base_seconds,
            max_delay_seconds=self.retry_max_seconds,
            max_attempts=self.max_attempts,
        )

    def runs_in_serve(self, uses_postgres: bool) -> bool:
        return self.in_serve if self.in_serve is not None else not uses_postgres
