"""Schemathesis against ``/openapi.json`` of a real ``consent-ledger serve``: every ``/v1``
operation, with generated valid and invalid requests (issue 13).

For each case: no 500, the status is one the operation declares, the body matches the
declared schema and content type, and the answer comes within ``MAX_SECONDS`` (no hang).
A few thousand cases run in ``make test`` (``FUZZ_EXAMPLES`` per operation, 80 by
default, derandomized so a run is repeatable); ``make fuzz`` runs many more, randomized.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.runtime.storage_settings import StorageSettings
from tests.support.postgres import fresh_database
from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
# The storage backends a run fuzzes: SQLite in `make test`, both in `make fuzz`.
BACKENDS = os.environ.get("FUZZ_BACKENDS", "sqlite").split(",")
MAX_SECONDS = 10.0


@schemathesis.check
def no_server_error(ctx: Any, response: Any, case: Any) -> None:
    """No 5xx but a declared 503 (the database or a feature unavailable: a clear answer
    with Retry-After, not a crash); schemathesis' own check counts every 5xx."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"server error {response.status_code}: {response.text[:300]}")


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class Served:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.session = requests.Session()


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with ExitStack() as stack:
        database = {}
        if request.param == "postgres":
            server: str = request.getfixturevalue("pg_server")
            database["DATABASE_URL"] = stack.enter_context(fresh_database(server))
        yield from _serve(tmp_path_factory, database)


def _serve(tmp_path_factory: pytest.TempPathFactory, database: dict[str, str]) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = clean_env(
        **database,
        CONSENT_LEDGER_WORKERS="1",
        CONSENT_LEDGER_SQLITE_PATH=str(tmp / "ledger.db"),
        CONSENT_LEDGER_METRICS_PORT="0",
        CONSENT_LEDGER_SEAL_EVERY_SECONDS="0",
        CONSENT_LEDGER_READ_WAIT_SECONDS="1",
        # Every optional feature on, so its routes are fuzzed past "not configured".
        CONSENT_LEDGER_PREFERENCE_KEY="a-fuzzing-preference-key-of-32-characters",
    )
    created = run_cli("keys", "create", "--tenant", "acme", "--roles", "admin", env=env, cwd=tmp)
    assert created.returncode == 0, created.stderr
    log = tmp / "serve.log"
    process = start_cli("serve", "--port", str(port), env=env, cwd=tmp, log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, timeout=60)
        yield Served(url, created.stdout.strip())
        assert process.poll() is None, "serve died during the fuzzing"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    tracebacks = [line for line in log.read_text().splitlines() if "Traceback" in line]
    assert not tracebacks, f"serve logged {len(tracebacks)} tracebacks: see {log}"


def built_document() -> dict[str, Any]:
    """The document ``/openapi.json`` serves, built without starting the app."""
    return create_app(ServeSettings(), StorageSettings()).openapi()


schema = schemathesis.openapi.from_dict(built_document()).include(path_regex="^/v1/")


def test_the_served_document_is_the_one_fuzzed(served: Served) -> None:
    assert httpx.get(f"{served.url}/openapi.json", timeout=30).json() == built_document()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
def test_no_operation_answers_a_500_or_breaks_its_declared_contract(
    case: Any, served: Served
) -> None:
    started = time.monotonic()
    case.call_and_validate(
        base_url=served.url,
        session=served.session,
        headers={"Authorization": f"Bearer {served.key}"},
        checks=CHECKS,
        timeout=MAX_SECONDS * 3,
    )
    assert time.monotonic() - started < MAX_SECONDS, "a hang"


def test_the_document_carries_the_rules_and_the_error_answers() -> None:
    document = built_document()
    schemas = document["components"]["schemas"]
    inbound = schemas["InboundIn"]["properties"]
    assert inbound["channel"]["enum"] == ["whatsapp", "sms"]
    assert inbound["from"]["maxLength"] == 64
    assert schemas["EventIn"]["properties"]["purposes"]["items"]["pattern"]
    assert schemas["EventIn"]["properties"]["type"]["enum"]
    assert schemas["EvidenceIn"]["properties"]["profile_name"]["maxLength"] == 256
    status = document["paths"]["/v1/subjects/{channel}/{address}"]["get"]
    assert {p["name"]: p["schema"].get("enum") for p in status["parameters"]}["channel"]
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert {"422", "503"} <= declared, (method, path)
            assert declared & {"401", "403"}, (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= declared, (method, path)
