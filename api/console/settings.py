"""Settings of the console, the operations dashboard and the preference page."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # A console session ends this long after sign-in.
    session_seconds: int = Field(
        default=1800, ge=60, le=86_400, alias="CONSENT_LEDGER_CONSOLE_SESSION_SECONDS"
    )
    # At most this many live sessions per process; the oldest is signed out past it.
    max_sessions: int = Field(
        default=10_000, ge=1, le=1_000_000, alias="CONSENT_LEDGER_CONSOLE_MAX_SESSIONS"
    )
    # Mark the session cookie Secure (set it when the console is served over HTTPS).
    secure_cookie: bool = Field(default=False, alias="CONSENT_LEDGER_CONSOLE_SECURE_COOKIE")
    # The HMAC key that signs preference-page links (at least 32 characters). Unset: no
    # links can be minted and /p/ answers 404.
    preference_key: SecretStr | None = Field(default=None, alias="CONSENT_LEDGER_PREFERENCE_KEY")
    # How long a minted preference link works, unless the mint asks for less.
    preference_link_days: int = Field(
        default=30, ge=1, le=366, alias="CONSENT_LEDGER_PREFERENCE_LINK_DAYS"
    )
    # Requests per minute one client address may make to /p/ pages.
    preference_rate_per_minute: int = Field(
        default=30, ge=1, le=10_000, alias="CONSENT_LEDGER_PREFERENCE_RATE_PER_MINUTE"
    )

    # The Kafka topic whose publisher position the operations dashboard shows.
    events_topic: str = Field(default="consent.events", alias="CONSENT_LEDGER_EVENTS_TOPIC")
    # The operations dashboard reloads itself this often.
    operations_refresh_seconds: int = Field(
        default=30, ge=5, le=3600, alias="CONSENT_LEDGER_OPERATIONS_REFRESH_SECONDS"
    )

    def preference_secret(self) -> bytes | None:
        if self.preference_key is None:
            return None
        secret = self.preference_key.get_secret_value().encode("utf-8")
        if len(secret) < 32:
            raise ValueError("CONSENT_LEDGER_PREFERENCE_KEY must be at least 32 characters")
        return secret
