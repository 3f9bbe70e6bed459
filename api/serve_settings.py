"""Settings of the API process, read from the environment."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    host: str = Field(default="127.0.0.1", alias="CONSENT_LEDGER_HOST")
    port: int = Field(default=8000, ge=0, le=65535, alias="CONSENT_LEDGER_PORT")
    # Worker processes of ``serve`` (unset: the cores on PostgreSQL, 1 on SQLite).
    workers: int | None = Field(default=None, ge=1, le=64, alias="CONSENT_LEDGER_WORKERS")
    kafka_bootstrap_servers: str | None = Field(default=None, alias="KAFKA_BOOTSTRAP_SERVERS")
    # How long a read with ?after=<position> waits for the read model before a 503.
    read_wait_seconds: float = Field(default=5.0, gt=0, alias="CONSENT_LEDGER_READ_WAIT_SECONDS")
    # Reads waiting at once for ``?after=``; one more answers 503 at once.
    read_waiters: int = Field(default=16, ge=1, le=10_000, alias="CONSENT_LEDGER_READ_WAITERS")
    max_body_bytes: int = Field(
        default=32 * 1024 * 1024, gt=0, alias="CONSENT_LEDGER_MAX_BODY_BYTES"
    )
    # The HTTP edge (api/http_protocol.py): a request head larger than this is a 431;
    # a head or body slower than its timeout drops the connection; one connection more
    # than the maximum (per worker) is closed at once.
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, alias="CONSENT_LEDGER_MAX_HEADER_BYTES"
    )
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, alias="CONSENT_LEDGER_HEADER_TIMEOUT_SECONDS"
    )
    body_timeout_seconds: float = Field(
        default=60.0, gt=0, alias="CONSENT_LEDGER_BODY_TIMEOUT_SECONDS"
    )
    max_connections: int = Field(default=1000, ge=1, alias="CONSENT_LEDGER_MAX_CONNECTIONS")
    # Bounded caches: answers for presented API keys (also unknown ones), kept by digest;
    # parsed addresses (accepted ones only). The oldest go first, counted in /metrics.
    key_cache_entries: int = Field(
        default=10_000, ge=1, le=1_000_000, alias="CONSENT_LEDGER_KEY_CACHE_ENTRIES"
    )
    address_cache_entries: int = Field(
        default=65_536, ge=1, le=10_000_000, alias="CONSENT_LEDGER_ADDRESS_CACHE_ENTRIES"
    )
    # /readyz fails when the read model is more than this many ledger positions behind.
    ready_max_lag: int = Field(default=10_000, ge=0, alias="CONSENT_LEDGER_READY_MAX_LAG")
    # Seal the attestation log in-process every this many seconds: unset, every 2 s on
    # the embedded SQLite default and never on PostgreSQL (run ``consent-ledger seal``
    # there); 0: never (ledger/attestation/embedded_checkpoints.py).
    seal_every_seconds: float | None = Field(
        default=None, ge=0, le=86_400, alias="CONSENT_LEDGER_SEAL_EVERY_SECONDS"
    )
    # Who may read GET /metrics (global volumes: every tenant's writes sum into them):
    # with a token, whoever sends ``Authorization: Bearer <token>``; without one, only
    # clients on this host (127.0.0.1, ::1), unless CONSENT_LEDGER_METRICS_PUBLIC=true.
    metrics_token: SecretStr | None = Field(default=None, alias="CONSENT_LEDGER_METRICS_TOKEN")
    metrics_public: bool = Field(default=False, alias="CONSENT_LEDGER_METRICS_PUBLIC")
