"""Fixtures shared by every tier: storage on SQLite and on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.storage_settings import StorageSettings
from tests.support.kafka import broker  # the session's Kafka-protocol broker (Tansu)
from tests.support.postgres import EmbeddedServer, fresh_database, server_conninfo


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    conninfo, embedded = server_conninfo()
    yield conninfo
    if embedded is not None:
        embedded.close()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url


def sqlite_settings(path: Path) -> StorageSettings:
    return StorageSettings(database_url=None, sqlite_path=path)


def pg_settings(url: str) -> StorageSettings:
    return StorageSettings(database_url=SecretStr(url), sqlite_path=Path("unused.db"))


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> StorageSettings:
    """The same test on both backends: the embedded SQLite file and real PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_settings(tmp_path / "ledger.db")
    url: str = request.getfixturevalue("pg_url")
    return pg_settings(url)


@pytest.fixture
def pg_storage(pg_url: str) -> StorageSettings:
    return pg_settings(pg_url)


@pytest.fixture
def ledger(storage: StorageSettings) -> Iterator[ConsentLedger]:
    app = ConsentLedger(storage.eventsourcing_env())
    yield app
    app.close()


__all__ = ["EmbeddedServer", "broker"]
