"""API keys are stored hashed, decide the tenant and roles, and can be revoked."""

from __future__ import annotations

import time

import psycopg
import pytest

from ledger.application.api_keys import AccessRegistry
from ledger.domain.errors import InvalidInput, Unavailable
from ledger.domain.roles import Role, parse_roles
from ledger.runtime.storage_settings import StorageSettings, access_env
from tests.conftest import pg_settings
from tests.support.postgres import database_name, fresh_database


def test_a_key_authenticates_as_its_tenant_and_roles_until_revoked(
    storage: StorageSettings,
) -> None:
    registry = AccessRegistry(access_env(storage))
    key = registry.issue("acme", [Role.INGEST, Role.CAMPAIGN])
    principal = registry.authenticate(key)
    assert principal is not None
    assert (principal.tenant, principal.roles) == ("acme", frozenset({Role.INGEST, Role.CAMPAIGN}))
    assert registry.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    registry.revoke(principal.key_id)
    assert registry.authenticate(key) is None
    registry.close()


def test_the_secret_is_never_stored(storage: StorageSettings) -> None:
    registry = AccessRegistry(access_env(storage))
    key = registry.issue("acme", [Role.ADMIN])
    secret = key.split("_", 2)[2]
    stored = registry.recorder.select_notifications(start=None, limit=10)
    assert stored
    assert all(secret.encode() not in n.state for n in stored)
    registry.close()


def test_unknown_roles_are_refused() -> None:
    with pytest.raises(InvalidInput, match="known: ingest, campaign, auditor, admin"):
        parse_roles("ingest,superuser")


def test_a_key_checked_while_the_database_is_away_is_a_503_not_a_crash(pg_server: str) -> None:
    """A key not in the cache needs the database: when it is gone the caller is told the
    ledger is unavailable (503, the same answer as the writes), never a bare 500, and is
    told soon: one read bounded by a 2-second wait for a connection (the library's
    10 retried reads took ~50 s)."""
    with fresh_database(pg_server) as url:
        storage = pg_settings(url)
        key = AccessRegistry(access_env(storage)).issue("acme", [Role.INGEST])
        registry = AccessRegistry(access_env(storage))  # a cold cache, as after 5 s
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{database_name(url)}" WITH (FORCE)')
        started = time.monotonic()
        with pytest.raises(Unavailable, match="API key could not be checked"):
            registry.authenticate(key)
        assert time.monotonic() - started < 10
