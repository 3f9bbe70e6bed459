"""API keys are stored hashed, decide the tenant and roles, and can be revoked."""

from __future__ import annotations

import pytest

from ledger.application.api_keys import AccessRegistry
from ledger.domain.errors import InvalidInput
from ledger.domain.roles import Role, parse_roles
from ledger.runtime.storage_settings import StorageSettings, access_env


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
