"""During a database outage the API stays alive, says why it is not ready, and recovers."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.runtime.storage_settings import StorageSettings
from tests.support.postgres import EmbeddedServer, fresh_database


def ready(client: TestClient, expected: int, timeout: float = 30) -> dict:  # type: ignore[type-arg]
    """The /readyz answer once it is ``expected`` (its checks are cached for 2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == expected or time.monotonic() > deadline:
            assert response.status_code == expected, response.text
            body: dict = response.json()  # type: ignore[type-arg]
            return body
        time.sleep(0.2)


def test_not_ready_with_the_reason_while_the_database_is_down_then_ready_again() -> None:
    server = EmbeddedServer()
    try:
        with fresh_database(server.conninfo) as url:
            storage = StorageSettings(database_url=SecretStr(url), connect_timeout=1)
            with TestClient(create_app(ServeSettings(), storage)) as client:
                ready(client, 200)
                server.stop()
                body = ready(client, 503)
                assert body["status"] == "not_ready"
                assert body["checks"]["database"]["ok"] is False
                assert body["checks"]["database"]["error"]
                assert client.get("/healthz").status_code == 200  # alive, just not ready
                server.start()
                assert ready(client, 200)["status"] == "ready"
    finally:
        server.close()
