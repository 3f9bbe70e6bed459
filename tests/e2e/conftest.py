"""An API client against a real app (lifespan and all) on each storage backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.application.api_keys import AccessRegistry
from ledger.domain.roles import Role
from ledger.runtime.storage_settings import StorageSettings, access_env


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]  # role name (or "other_tenant") -> key

    def headers(self, role: str = "all") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def issue_keys(storage: StorageSettings) -> dict[str, str]:
    with AccessRegistry(access_env(storage)) as registry:
        keys = {role.value: registry.issue("acme", [role]) for role in Role}
        keys["all"] = registry.issue("acme", [Role.INGEST, Role.CAMPAIGN, Role.AUDITOR])
        keys["other_tenant"] = registry.issue("globex", [Role.INGEST, Role.CAMPAIGN, Role.AUDITOR])
    return keys


@pytest.fixture
def api(storage: StorageSettings) -> Iterator[Api]:
    keys = issue_keys(storage)
    # No in-process sealing: the attestation tests seal with a sealer of their own.
    # The test client is no loopback peer: /metrics is opened to it (see test_route_roles).
    settings = ServeSettings(
        read_wait_seconds=2.0,
        max_body_bytes=8 * 1024 * 1024,
        seal_every_seconds=0,
        metrics_public=True,
    )
    with TestClient(create_app(settings, storage)) as client:
        yield Api(client, keys)
