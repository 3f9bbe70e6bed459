"""Every route refuses every key lacking its role (403), and every call without a key (401).

``ROLES`` is the table README's "HTTP API" section promises, one entry per route of the
app's route table: a route added without an entry fails
``test_the_table_covers_every_route``. ``admin`` holds every role.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from tests.conftest import sqlite_settings
from tests.e2e.conftest import issue_keys
from tests.support.routes import Route, app_routes, body_for, concrete

INGEST, CAMPAIGN, AUDITOR, ADMIN = "ingest", "campaign", "auditor", "admin"
KEYED = (INGEST, CAMPAIGN, AUDITOR)
PUBLIC = "public"  # no key needed
ANY_KEY = "any key"
SIGNATURE = "gateway signature"  # webhooks: the gateway's signature, never an API key
METRICS = "metrics token or loopback"  # never an API key
SESSION = "console session"  # pages: a signed-in session's cookie, never a bearer key
TOKEN = "preference token"  # the person's page: a signed link, never a key

ROLES: dict[Route, frozenset[str] | str] = {
    ("POST", "/v1/events"): frozenset({INGEST}),
    ("POST", "/v1/messages/inbound"): frozenset({INGEST}),
    ("POST", "/v1/optin-requests"): frozenset({INGEST}),
    ("GET", "/v1/optin-requests/{request_id}/deliveries"): frozenset({INGEST, AUDITOR}),
    ("POST", "/v1/imports"): frozenset({INGEST}),
    ("GET", "/v1/outbound"): frozenset({INGEST}),
    ("GET", "/v1/subjects/{channel}/{address}"): frozenset({INGEST, CAMPAIGN, AUDITOR}),
    ("GET", "/v1/subjects/{channel}/{address}/history"): frozenset({AUDITOR}),
    ("GET", "/v1/subjects/{channel}/{address}/attestation"): frozenset({AUDITOR}),
    ("DELETE", "/v1/subjects/{channel}/{address}/personal-data"): frozenset({ADMIN}),
    ("GET", "/v1/contacts/{contact_id}"): frozenset({INGEST, CAMPAIGN, AUDITOR}),
    ("GET", "/v1/contacts/{contact_id}/history"): frozenset({AUDITOR}),
    ("GET", "/v1/contacts/{contact_id}/attestation"): frozenset({AUDITOR}),
    ("DELETE", "/v1/contacts/{contact_id}/personal-data"): frozenset({ADMIN}),
    ("POST", "/v1/eligibility"): frozenset({CAMPAIGN}),
    ("GET", "/v1/audiences/{channel}/{purpose}"): frozenset({CAMPAIGN}),
    ("GET", "/v1/audiences/{channel}/{purpose}/count"): frozenset({CAMPAIGN}),
    ("GET", "/v1/suppressions/{channel}"): frozenset({CAMPAIGN}),
    ("POST", "/v1/campaigns/{campaign_id}/receipts"): frozenset({CAMPAIGN}),
    ("GET", "/v1/campaigns/{campaign_id}/receipts/{receipt_id}"): frozenset({CAMPAIGN, AUDITOR}),
    ("GET", "/v1/subjects/{channel}/{address}/campaigns"): frozenset({CAMPAIGN, AUDITOR}),
    ("GET", "/v1/subjects/{channel}/{address}/consent-records"): frozenset({AUDITOR}),
    ("GET", "/v1/reports/revocations"): frozenset({AUDITOR}),
    ("GET", "/v1/tenants/{tenant}"): frozenset({ADMIN}),
    ("GET", "/v1/tenants/{tenant}/history"): frozenset({AUDITOR}),
    ("PUT", "/v1/tenants/{tenant}/gateways/{gateway}"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/keywords"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/texts"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/request-window"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/first-message-request"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/capture-methods"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/subscriptions/{subscription_id}"): frozenset({ADMIN}),
    ("GET", "/v1/tenants/{tenant}/subscriptions"): frozenset({ADMIN}),
    ("GET", "/v1/tenants/{tenant}/subscriptions/{subscription_id}"): frozenset({ADMIN}),
    ("DELETE", "/v1/tenants/{tenant}/subscriptions/{subscription_id}"): frozenset({ADMIN}),
    ("GET", "/v1/tenants/{tenant}/subscriptions/{subscription_id}/deliveries"): frozenset({ADMIN}),
    ("POST", "/v1/tenants/{tenant}/subscriptions/{subscription_id}/replay"): frozenset({ADMIN}),
    (
        "POST",
        "/v1/tenants/{tenant}/subscriptions/{subscription_id}/deliveries/{delivery_id}/replay",
    ): frozenset({ADMIN}),
    (
        "POST",
        "/v1/tenants/{tenant}/subscriptions/{subscription_id}/deliveries/{delivery_id}/skip",
    ): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/opt-out-scope"): frozenset({ADMIN}),
    ("GET", "/v1/tenants/{tenant}/lapse-policy"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/lapse-policy"): frozenset({ADMIN}),
    ("GET", "/v1/tenants/{tenant}/burst-guard"): frozenset({ADMIN}),
    ("PUT", "/v1/tenants/{tenant}/burst-guard"): frozenset({ADMIN}),
    ("GET", "/v1/held-opt-outs"): frozenset({ADMIN}),
    ("POST", "/v1/held-opt-outs/release"): frozenset({ADMIN}),
    ("POST", "/v1/held-opt-outs/dismiss"): frozenset({ADMIN}),
    ("POST", "/v1/held-opt-outs/{channel}/{address}/release"): frozenset({ADMIN}),
    ("POST", "/v1/held-opt-outs/{channel}/{address}/dismiss"): frozenset({ADMIN}),
    ("POST", "/v1/imports/reassigned-numbers"): frozenset({INGEST}),
    ("POST", "/v1/reconciliations/{gateway}"): frozenset({ADMIN}),
    ("GET", "/v1/checkpoints/latest"): ANY_KEY,
    ("GET", "/v1/proofs/consistency"): ANY_KEY,
    ("GET", "/v1/public-key"): PUBLIC,
    ("GET", "/v1/public-keys"): PUBLIC,  # every signing key and when it was valid
    ("GET", "/checkpoint"): PUBLIC,  # C2SP tlog-tiles: hashes only
    ("GET", "/tile/{level}/{rest:path}"): PUBLIC,
    ("GET", "/v1/subjects/{channel}/{address}/tlog-proofs"): frozenset({AUDITOR}),
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): METRICS,  # loopback or the metrics token: test_metrics_*
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/v1/subjects/{channel}/{address}/consent"): frozenset({AUDITOR}),
    ("GET", "/v1/operations/summary"): frozenset({ADMIN}),
    ("POST", "/v1/preference-links"): frozenset({ADMIN}),
    ("GET", "/console/signin"): PUBLIC,
    # Both need the sign-in form's CSRF token (tests/e2e/test_console_pages.py judges keys).
    ("POST", "/console/signin"): SESSION,
    ("POST", "/console/signout"): SESSION,
    ("GET", "/console"): SESSION,
    ("GET", "/console/operations"): SESSION,
    ("GET", "/console/subjects/{channel}/{address}/attestation"): SESSION,
    ("GET", "/p/{token}"): TOKEN,
    ("POST", "/p/{token}"): TOKEN,
    ("GET", "/v1/webhooks/whatsapp/{tenant}"): SIGNATURE,
    ("POST", "/v1/webhooks/whatsapp/{tenant}"): SIGNATURE,
    ("POST", "/v1/webhooks/twilio/{tenant}"): SIGNATURE,
    ("POST", "/v1/webhooks/gupshup/{tenant}"): SIGNATURE,
}


class Client:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def raw(self, route: Route, key: str | None) -> Any:
        method, path = route
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return self.client.request(
            method, concrete(path), headers=headers, follow_redirects=False, **body_for(method)
        )

    def call(self, route: Route, key: str | None) -> tuple[int, str]:
        method, path = route
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        response = self.client.request(method, concrete(path), headers=headers, **body_for(method))
        code = response.json().get("error", {}).get("code", "") if _is_json(response) else ""
        return response.status_code, code


def _is_json(response: object) -> bool:
    content_type: str = getattr(response, "headers", {}).get("content-type", "")
    return content_type.startswith("application/json") and bool(getattr(response, "content", b""))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    storage = sqlite_settings(Path(tmp_path_factory.mktemp("roles")) / "ledger.db")
    keys = issue_keys(storage)
    settings = ServeSettings(read_wait_seconds=2.0, seal_every_seconds=0)
    with TestClient(create_app(settings, storage)) as client:
        yield Client(client, keys)


def test_the_table_covers_every_route(app: Client) -> None:
    routes = set(app_routes(app.client.app))  # type: ignore[arg-type]
    missing = sorted(routes - ROLES.keys())
    assert not missing, f"routes without an entry in ROLES: {missing}"
    assert not ROLES.keys() - routes, "ROLES names routes the app no longer has"


@pytest.mark.parametrize("route", sorted(ROLES), ids=lambda r: f"{r[0]} {r[1]}")
def test_every_key_lacking_the_role_is_refused(app: Client, route: Route) -> None:
    needed = ROLES[route]
    if isinstance(needed, frozenset):
        for key in KEYED:
            status, code = app.call(route, key)
            if key in needed:
                assert status not in (401, 403), (key, status, code)
            else:
                assert (status, code) == (403, "forbidden"), key
        status, code = app.call(route, ADMIN)
        assert status not in (401, 403), (ADMIN, status, code)
    if needed in (SESSION, TOKEN):
        # A bearer key opens no page: without a session (or a valid token) nothing shows.
        for key in (None, *KEYED, ADMIN):
            response = app.raw(route, key)
            refused = (303, 401, 403, 404) + ((422,) if needed == TOKEN else ())
            assert response.status_code in refused, (key, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/console/signin"), key
        return
    if needed in (SIGNATURE, METRICS):
        # No API key opens a webhook or the metrics, not even admin.
        for key in (*KEYED, ADMIN):
            status, _ = app.call(route, key)
            assert status in (401, 403), key
        return
    status, code = app.call(route, None)
    if needed == PUBLIC:
        assert status not in (401, 403)
    else:
        assert (status, code) == (401, "unauthorized")
    if needed == ANY_KEY:
        for key in (*KEYED, ADMIN):
            status, _ = app.call(route, key)
            assert status not in (401, 403), key


def test_a_revoked_or_forged_key_is_refused_everywhere(app: Client) -> None:
    app.keys["forged"] = app.keys[ADMIN][:-4] + "AAAA"
    for route, needed in ROLES.items():
        if needed in (PUBLIC, SIGNATURE, METRICS, SESSION, TOKEN):
            continue
        assert app.call(route, "forged") == (401, "unauthorized"), route


def metrics_client(**settings: object) -> TestClient:
    storage = sqlite_settings(Path(tempfile.mkdtemp()) / "ledger.db")
    return TestClient(create_app(ServeSettings(seal_every_seconds=0, **settings), storage))


def test_metrics_answer_no_remote_client_by_default(app: Client) -> None:
    # The test client is not on this host's loopback: as a client on the internet
    for key in (None, ADMIN):
        status, code = app.call(("GET", "/metrics"), key)
        assert (status, code) == (403, "metrics_restricted")


def test_metrics_need_the_metrics_token_when_one_is_set() -> None:
    with metrics_client(metrics_token="scrape-token-for-tests") as client:
        assert client.get("/metrics").status_code == 403
        wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-test"})
        assert wrong.status_code == 403
        right = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})
        assert right.status_code == 200
        assert "consent_ledger_" in right.text


def test_metrics_can_be_opened_to_everyone_on_purpose() -> None:
    with metrics_client(metrics_public=True) as client:
        assert client.get("/metrics").status_code == 200
