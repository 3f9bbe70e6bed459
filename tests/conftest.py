"""Fixtures shared by every tier: storage on SQLite and on real PostgreSQL."""

from __future__ import annotations

import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from ledger.application.consent_ledger import ConsentLedger
from ledger.runtime.storage_settings import StorageSettings
from tests.support.connection_budget import ConnectionBudget, peak_of, server_capacity
from tests.support.kafka import broker  # the session's Kafka-protocol broker (Tansu)
from tests.support.postgres import EmbeddedServer, fresh_database, server_conninfo, shared_server

TESTS_ROOT = Path(__file__).parent
BUDGET = pytest.StashKey[ConnectionBudget | None]()
BUDGET_FILE = pytest.StashKey[Path]()


def _budget(config: pytest.Config) -> ConnectionBudget | None:
    """This test process's share of the shared server's connections (with xdist only)."""
    if BUDGET not in config.stash:
        workerinput = getattr(config, "workerinput", None)
        shared = shared_server() if workerinput is not None else None
        budget = None
        if workerinput is not None and shared is not None:
            run = (
                Path(tempfile.gettempdir())
                / f"consent-ledger-test-connections-{workerinput['testrunuid']}"
            )
            budget = ConnectionBudget(run, server_capacity(shared), owner=workerinput["workerid"])
        config.stash[BUDGET] = budget
    return config.stash[BUDGET]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    """Before a test process starts a file, it waits until the file's connections fit."""
    budget = _budget(item.config)
    if budget is not None and item.config.stash.get(BUDGET_FILE, None) != item.path:
        budget.hold(peak_of(item.path, TESTS_ROOT))
        item.config.stash[BUDGET_FILE] = item.path
    yield


def pytest_sessionfinish(session: pytest.Session) -> None:
    budget = session.config.stash.get(BUDGET, None)
    if budget is not None:
        budget.release()


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
