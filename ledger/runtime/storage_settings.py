"""Where the ledger is stored: PostgreSQL when ``DATABASE_URL`` is set, else a SQLite file."""

from __future__ import annotations

from pathlib import Path

from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PG_RECORDER = "ledger.persistence.postgres:LedgerPostgresRecorder"
POSTGRES_FACTORY = "ledger.persistence.postgres_factory:LedgerPostgresFactory"
SQLITE_RECORDER = "ledger.persistence.sqlite:LedgerSQLiteRecorder"
SQLITE_FACTORY = "ledger.persistence.sqlite_datastore:LedgerSQLiteFactory"


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: SecretStr | None = Field(default=None, alias="DATABASE_URL")
    sqlite_path: Path = Field(
        default=Path("./consent-ledger.db"), alias="CONSENT_LEDGER_SQLITE_PATH"
    )
    pool_size: int = Field(default=4, ge=2, alias="CONSENT_LEDGER_DB_POOL_SIZE")
    connect_timeout: int = Field(default=5, gt=0, alias="CONSENT_LEDGER_DB_CONNECT_TIMEOUT")

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    def eventsourcing_env(self, recorder_topic: str | None = None) -> dict[str, str]:
        """The eventsourcing library's settings for this storage."""
        if self.database_url is None:
            return {
                "PERSISTENCE_MODULE": SQLITE_FACTORY,
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": recorder_topic or SQLITE_RECORDER,
            }
        parts = conninfo_to_dict(self.database_url.get_secret_value())
        return {
            "PERSISTENCE_MODULE": POSTGRES_FACTORY,
            "POSTGRES_DBNAME": str(parts.get("dbname") or "postgres"),
            "POSTGRES_HOST": str(parts.get("host") or "127.0.0.1"),
            "POSTGRES_PORT": str(parts.get("port") or "5432"),
            "POSTGRES_USER": str(parts.get("user") or "postgres"),
            "POSTGRES_PASSWORD": str(parts.get("password") or ""),
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.pool_size * 2),
            "POSTGRES_CONNECT_TIMEOUT": str(self.connect_timeout),
            "POSTGRES_LOCK_TIMEOUT": "10",
            # A pooled connection is checked (an empty query) as it is taken: one that died
            # with a restarted server is replaced, never handed to a read that would answer
            # 500. The hot writes use the writer's own connections and do not pay for it.
            "POSTGRES_PRE_PING": "y",
            # Off on purpose: with it on, a reader following the log can skip events.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "APPLICATION_RECORDER_TOPIC": recorder_topic or PG_RECORDER,
        }


# How long an API key's read waits for a connection (the writer's bound for its own).
KEY_READ_TIMEOUT_SECONDS = 2
ACCESS_SQLITE_RECORDER = "ledger.persistence.api_key_recorders:AccessSQLiteRecorder"
ACCESS_PG_RECORDER = "ledger.persistence.api_key_recorders:AccessPostgresRecorder"


def access_env(storage: StorageSettings) -> dict[str, str]:
    """Settings for the API-key registry: same database, its own table."""
    if not storage.uses_postgres:
        return storage.eventsourcing_env(recorder_topic=ACCESS_SQLITE_RECORDER)
    env = storage.eventsourcing_env(recorder_topic=ACCESS_PG_RECORDER)
    # A key is checked on the request path: with the database away its 503 comes within
    # the writer's bound, not after the pool's connect timeout (which is also how long the
    # pool waits for a free connection).
    timeout = min(storage.connect_timeout, KEY_READ_TIMEOUT_SECONDS)
    # Keys are read only when not cached (5 s): one connection held open, more opened
    # while a burst needs them (as many at most as the ledger's pool), not four idle in
    # every process.
    return {
        **env,
        "POSTGRES_CONNECT_TIMEOUT": str(timeout),
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": str(storage.pool_size * 3 - 1),
    }
