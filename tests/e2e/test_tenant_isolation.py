"""With another tenant's key, no route returns, counts, confirms or changes anything of acme.

Tenant B (``acme``) has subjects in every state, an opt-in request with delivery reports,
queued outbound messages, an import, an erasure and configured gateways. Each probe
gives an attacker a fresh tenant of its own (keys with every role) and checks that what
it gets for B's things is exactly what it gets for things that do not exist (status
code and body, once addresses, ids and tenant names are masked), that its counts are
zero, and that B's ledger is unchanged afterwards. ``PROBES`` has an entry per route of
the app's route table: a new route without one fails ``test_every_route_is_probed``.

Not covered here on purpose: the global ledger ``position`` in write answers and the
checkpoint's tree size grow with every tenant's writes (see docs/notes/access-security.md).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.console.settings import ConsoleSettings
from api.serve_settings import ServeSettings
from ledger.domain.roles import Role
from ledger.runtime.storage_settings import StorageSettings
from tests.conftest import pg_settings, sqlite_settings
from tests.e2e.conftest import Api, issue_keys
from tests.support.gateways import wa_body, wa_messages, wa_payload, wa_sign, wa_status, wa_text
from tests.support.postgres import fresh_database
from tests.support.routes import Route, app_routes, concrete
from tests.support.webhooks import configure, post_whatsapp

B = "acme"
ALICE, BOB, CAROL, DAVE, ERIN = (f"+1631555118{n}" for n in range(1, 6))
B_ADDRESSES = (ALICE, BOB, CAROL, DAVE, ERIN)
NOBODY = "+16315559999"  # never seen by anyone
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ATTACKER_SECRET = "the-attackers-own-meta-app-secret"
UUID_NOBODY = "6f1c1d5e-0000-4000-8000-00000000beef"
B_CONTACT, NO_CONTACT = "cust-b-1", "cust-nobody"  # ALICE and BOB are B's contact


@dataclass
class World:
    client: TestClient
    b: Api  # acme's keys
    storage: StorageSettings
    request_id: str = ""
    receipt_id: str = ""  # B's campaign receipt
    b_ids: set[str] = field(default_factory=set)  # every id of B seen in an answer
    tenants: Iterator[int] = field(default_factory=itertools.count)

    def attacker(self) -> Attacker:
        tenant = f"attacker{next(self.tenants)}"
        access = self.client.app.state.services.access  # type: ignore[attr-defined]
        key = access.issue(tenant, list(Role))
        return Attacker(self, tenant, {"Authorization": f"Bearer {key}"})

    def b_snapshot(self) -> str:
        """Everything B's auditor and campaign keys can see: must not change."""
        parts = []
        for address in B_ADDRESSES:
            for suffix in ("", "/history", "/campaigns"):
                r = self.client.get(
                    f"/v1/subjects/whatsapp/{address}{suffix}", headers=self.b.headers("all")
                )
                parts.append(r.text)
        for path in (
            "/v1/audiences/whatsapp/marketing",
            "/v1/suppressions/whatsapp",
            f"/v1/optin-requests/{self.request_id}/deliveries",
            "/v1/outbound?after=0&limit=1000",
            f"/v1/tenants/{B}",
            f"/v1/tenants/{B}/history",
            f"/v1/contacts/{B_CONTACT}",
            f"/v1/contacts/{B_CONTACT}/history",
        ):
            key = "admin" if "tenants" in path else "all"
            parts.append(self.client.get(path, headers=self.b.headers(key)).text)
        return "\n".join(parts)


@dataclass
class Attacker:
    world: World
    tenant: str
    headers: dict[str, str]

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.world.client.request(method, path, headers=headers, **kwargs)


def mask(response: httpx.Response, *secrets: str) -> tuple[int, str]:
    """Status and body with ids, the attacker's and B's names and ``secrets`` masked."""
    text = UUID.sub("<id>", response.text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "<x>").replace(secret.lstrip("+"), "<x>")
    return response.status_code, text


def mask_tenant(masked: tuple[int, str], tenant: str) -> tuple[int, str]:
    return masked[0], masked[1].replace(tenant, "<x>")


def leaks_nothing(world: World, response: httpx.Response | str) -> None:
    """No address or id of B's in the answer (pass the masked text where the caller
    asked for one of them: an echo of the question is no leak)."""
    text = response if isinstance(response, str) else response.text
    for address in B_ADDRESSES:
        assert address.lstrip("+") not in text
    for some_id in world.b_ids:
        assert some_id not in text


def build_world(storage: StorageSettings) -> Iterator[World]:
    keys = issue_keys(storage)
    settings = ServeSettings(read_wait_seconds=2.0, seal_every_seconds=0)
    console = ConsoleSettings(CONSENT_LEDGER_PREFERENCE_KEY="a-test-preference-key-of-32-chars+")
    with TestClient(create_app(settings, storage, console)) as client:
        world = World(client, Api(client, keys), storage)
        b = world.b
        configure(b)
        ingest = b.headers("ingest")

        def record(event_type: str, address: str) -> dict[str, Any]:
            event: dict[str, Any] = {
                "type": event_type,
                "channel": "whatsapp",
                "address": address,
                "purposes": ["marketing"],
                "occurred_at": "2026-11-21T10:00:00Z",
                "source": {"kind": "web_form", "id": f"form-{event_type}-{address}"},
                "evidence": {"method": "web_form", "text": "I agree", "ip": "203.0.113.9"},
            }
            if address == ALICE:
                event["contact_id"] = B_CONTACT
            r = client.post("/v1/events", headers=ingest, json={"events": [event]})
            assert r.status_code == 200, r.text
            result: dict[str, Any] = r.json()["results"][0]
            return result

        for address in (ALICE, DAVE):
            world.b_ids |= {record("opted_in", address)[k] for k in ("subject_id", "event_id")}
        request = client.post(
            "/v1/optin-requests",
            headers=ingest,
            json={
                "channel": "whatsapp",
                "address": BOB,
                "purposes": ["marketing"],
                "template": {"id": "welcome", "version": "2", "text": "Reply YES for offers"},
                "business_name": "Acme",
                "contact_id": B_CONTACT,
            },
        )
        assert request.status_code == 201, request.text
        world.request_id = request.json()["request_id"]
        world.b_ids |= {request.json()[k] for k in ("request_id", "event_id", "outbound_id")}
        status = wa_status(
            "wamid.req", "sent", BOB.lstrip("+"), callback=request.json()["outbound_id"]
        )
        assert post_whatsapp(b, wa_payload(wa_messages(statuses=[status]))).status_code == 200
        csv = (
            "channel,address,type,purposes,occurred_at,method\n"
            f"whatsapp,{CAROL},opted_in,marketing,2024-03-01T10:00:00Z,paper_form\n"
        )
        imported = client.post(
            "/v1/imports", headers={**ingest, "content-type": "text/csv"}, content=csv.encode()
        )
        assert imported.status_code == 200, imported.text
        erased = client.delete(
            f"/v1/subjects/whatsapp/{DAVE}/personal-data?reason=gdpr_art17",
            headers=b.headers("admin"),
        )
        assert erased.status_code in (200, 202), erased.text
        stop = post_whatsapp(
            b, wa_payload(wa_messages(wa_text("wamid.erin", ERIN.lstrip("+"), "STOP")))
        )
        assert stop.status_code == 200, stop.text
        receipt = client.post(  # a campaign sent to B's subjects, one of them opted out
            "/v1/campaigns/spring-sale/receipts",
            headers=b.headers("campaign"),
            json={
                "channel": "whatsapp",
                "purpose": "marketing",
                "position": 1,
                "addresses": list(B_ADDRESSES),
            },
        )
        assert receipt.status_code == 201, receipt.text
        world.b_ids |= {receipt.json()["receipt_id"], receipt.json()["root"]}
        world.receipt_id = receipt.json()["receipt_id"]
        yield world


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    if request.param == "sqlite":
        yield from build_world(sqlite_settings(Path(tmp_path_factory.mktemp("iso")) / "l.db"))
        return
    with fresh_database(request.getfixturevalue("pg_server")) as url:
        yield from build_world(pg_settings(url))


# --- the probes: one per route ------------------------------------------------------------

Probe = Callable[[World], None]


def same_for_b_as_for_nobody(method: str, template: str, **kw: Any) -> Probe:
    """B's subjects answer exactly as a subject nobody has: for each of B's addresses."""

    def probe(world: World) -> None:
        attacker = world.attacker()
        path = concrete(template, purpose="marketing")
        nothing = mask(
            attacker.call(method, path.replace(PH, NOBODY), **kw), NOBODY, attacker.tenant
        )
        for address in B_ADDRESSES:
            answer = mask(attacker.call(method, path.replace(PH, address), **kw), address)
            assert mask_tenant(answer, attacker.tenant) == nothing, address
            leaks_nothing(world, answer[1])

    return probe


PH = "+14155550100"  # tests.support.routes' address, replaced per probe


def reads_nothing_of_b(method: str, template: str, **kw: Any) -> Probe:
    """A listing or count of the attacker's own: B's data neither listed nor counted."""

    def probe(world: World) -> None:
        attacker = world.attacker()
        answer = attacker.call(method, concrete(template, tenant=attacker.tenant), **kw)
        assert answer.status_code == 200, answer.text
        leaks_nothing(world, answer)
        json_answer = answer.headers["content-type"].startswith("application/json")
        body = answer.json() if json_answer else answer.text
        if isinstance(body, dict) and "count" in body:
            assert body["count"] == 0
        if isinstance(body, dict) and "messages" in body:
            assert body["messages"] == []
        if isinstance(body, str):
            rows = [line for line in body.splitlines() if line.strip()]
            if answer.headers["content-type"].startswith("text/csv"):
                rows = rows[1:]  # the header
            assert not rows, body

    return probe


def changes_nothing_of_b(write: Callable[[World, Attacker], httpx.Response | str]) -> Probe:
    def probe(world: World) -> None:
        before = world.b_snapshot()
        attacker = world.attacker()
        leaks_nothing(world, write(world, attacker))
        assert world.b_snapshot() == before

    return probe


def global_leaks_nothing(method: str, path: str) -> Probe:
    """Not the tenant's: carries no address, id or count of B's."""

    def probe(world: World) -> None:
        leaks_nothing(world, world.attacker().call(method, path))

    return probe


def _event(event_type: str, address: str) -> dict[str, Any]:
    return {
        "type": event_type,
        "channel": "whatsapp",
        "address": address,
        "purposes": ["marketing"],
        "occurred_at": "2026-11-22T10:00:00Z",
        "source": {"kind": "web_form", "id": f"attack-{address}"},
        "evidence": {"method": "web_form", "text": "x"},
    }


def post_events(world: World, attacker: Attacker) -> httpx.Response:
    events = [_event("opted_out", a) for a in B_ADDRESSES]
    answer = attacker.call("POST", "/v1/events", json={"events": events})
    assert answer.status_code == 200, answer.text
    return answer


def post_message(world: World, attacker: Attacker) -> httpx.Response:
    for address in B_ADDRESSES:
        body = {
            "channel": "whatsapp",
            "from": address,
            "text": "STOP",
            "message_id": "wamid.erin" if address == ERIN else f"wamid.attack{address}",
            "occurred_at": "2026-11-22T10:00:00Z",
        }
        answer = attacker.call("POST", "/v1/messages/inbound", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["duplicate"] is False  # B's message id is no duplicate for A
    return answer


def ask(world: World, attacker: Attacker) -> httpx.Response:
    # BOB has B's request pending: the attacker's own request must not hit it (no 409).
    body = {
        "channel": "whatsapp",
        "address": BOB,
        "purposes": ["marketing"],
        "template": {"id": "t", "version": "1", "text": "Reply YES"},
        "business_name": "Evil",
    }
    answer = attacker.call("POST", "/v1/optin-requests", json=body)
    assert answer.status_code == 201, answer.text
    return answer


def import_csv(world: World, attacker: Attacker) -> httpx.Response:
    rows = "".join(
        f"whatsapp,{a},opted_out,marketing,2024-03-02T10:00:00Z,paper_form\n" for a in B_ADDRESSES
    )
    answer = attacker.call(
        "POST",
        "/v1/imports",
        content=("channel,address,type,purposes,occurred_at,method\n" + rows).encode(),
        headers={"content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(B_ADDRESSES)
    return answer


def erase(world: World, attacker: Attacker) -> httpx.Response:
    nothing = mask(
        attacker.call("DELETE", f"/v1/subjects/whatsapp/{NOBODY}/personal-data?reason=x"), NOBODY
    )
    for address in B_ADDRESSES:
        answer = attacker.call("DELETE", f"/v1/subjects/whatsapp/{address}/personal-data?reason=x")
        assert mask(answer, address) == nothing
    return answer


def tenant_settings(method: str, template: str, body: dict[str, Any] | None = None) -> Probe:
    """B's settings answer as a tenant that does not exist, and stay unchanged."""

    def write(world: World, attacker: Attacker) -> httpx.Response:
        kw = {"json": body} if body is not None else {}
        nothing = mask(
            attacker.call(method, concrete(template, tenant="nosuchtenant"), **kw), "nosuchtenant"
        )
        answer = attacker.call(method, concrete(template, tenant=B), **kw)
        assert mask(answer, B) == nothing
        assert answer.status_code in (403, 404)
        return answer

    return changes_nothing_of_b(write)


def webhook_to_b(gateway: str, method: str = "POST") -> Probe:
    """Signed with the attacker's own gateway secret: refused exactly as an unknown tenant."""

    def write(world: World, attacker: Attacker) -> httpx.Response:
        put = attacker.call(
            "PUT",
            f"/v1/tenants/{attacker.tenant}/gateways/whatsapp",
            json={"app_secret": ATTACKER_SECRET, "verify_token": "vt", "phone_number_id": "1"},
        )
        assert put.status_code == 200, put.text
        body = wa_body(wa_payload(wa_messages(wa_text("wamid.x", ALICE.lstrip("+"), "STOP"))))
        kw: dict[str, Any] = {
            "content": body,
            "headers": {
                "X-Hub-Signature-256": wa_sign(ATTACKER_SECRET, body),
                "content-type": "application/json",
                "Authorization": "",
            },
        }
        if method == "GET":
            kw = {
                "params": {"hub.mode": "subscribe", "hub.verify_token": "vt", "hub.challenge": "1"}
            }
        url = f"/v1/webhooks/{gateway}/{{}}"
        client = world.client
        nothing = mask(client.request(method, url.format("nosuchtenant"), **kw), "nosuchtenant")
        answer = client.request(method, url.format(B), **kw)
        assert mask(answer, B) == nothing
        assert answer.status_code in (401, 403)
        return answer

    return changes_nothing_of_b(write)


def deliveries_of_b(world: World) -> None:
    """B's request answers exactly as a request that never existed."""
    attacker = world.attacker()
    nothing = attacker.call("GET", f"/v1/optin-requests/{UUID_NOBODY}/deliveries")
    answer = attacker.call("GET", f"/v1/optin-requests/{world.request_id}/deliveries")
    assert mask(answer) == mask(nothing)
    leaks_nothing(world, mask(answer)[1])


def every_format(
    make: Callable[..., Probe], method: str, template: str, formats: tuple[str, ...]
) -> Probe:
    """The probe ``make`` builds, for each export format of the route (``?format=``)."""
    probes = [make(method, f"{template}?format={name}") for name in formats]

    def probe(world: World) -> None:
        for each in probes:
            each(world)

    return probe


def contact_of_b(method: str, suffix: str = "") -> Probe:
    """B's contact id answers exactly as a contact id nobody named (and B keeps it)."""

    def write(world: World, attacker: Attacker) -> httpx.Response:
        nothing = attacker.call(method, f"/v1/contacts/{NO_CONTACT}{suffix}")
        answer = attacker.call(method, f"/v1/contacts/{B_CONTACT}{suffix}")
        assert mask(answer, B_CONTACT) == mask(nothing, NO_CONTACT)
        assert answer.status_code == 404
        return answer

    return changes_nothing_of_b(write)


def record_receipt(world: World, attacker: Attacker) -> httpx.Response:
    """A receipt naming B's addresses is the attacker's own: B's proofs stay as they were."""
    body = {
        "channel": "whatsapp",
        "purpose": "marketing",
        "position": 0,
        "addresses": list(B_ADDRESSES),
    }
    answer = attacker.call("POST", "/v1/campaigns/spring-sale/receipts", json=body)
    assert answer.status_code == 201, answer.text
    return answer


def receipt_of_b(world: World) -> None:
    """B's receipt answers the attacker exactly as a receipt id nobody has."""
    attacker = world.attacker()
    nothing = attacker.call("GET", f"/v1/campaigns/spring-sale/receipts/{UUID_NOBODY}")
    answer = attacker.call("GET", f"/v1/campaigns/spring-sale/receipts/{world.receipt_id}")
    assert (answer.status_code, answer.json()) == (nothing.status_code, nothing.json())
    assert answer.status_code == 404
    leaks_nothing(world, answer)


def preference_link_for_b(world: World, attacker: Attacker) -> httpx.Response:
    """The attacker mints a link for B's number: it names the attacker's own subject, and
    its page shows nothing of B's, and withdrawing from it changes nothing of B's."""
    minted = attacker.call(
        "POST", "/v1/preference-links", json={"channel": "whatsapp", "address": ALICE}
    )
    assert minted.status_code in (200, 201), minted.text
    page = world.client.get(minted.json()["path"])
    leaks_nothing(world, mask(page, ALICE)[1])
    assert "I agree" not in page.text  # B's evidence text
    return minted


def reassigned_numbers(world: World, attacker: Attacker) -> httpx.Response:
    """B's numbers reported reassigned by the attacker invalidate the attacker's own only."""
    rows = "".join(f"{a},2026-11-22T10:00:00Z,yes\n" for a in B_ADDRESSES)
    answer = attacker.call(
        "POST",
        "/v1/imports/reassigned-numbers?channel=whatsapp",
        content=("address,queried_at,result\n" + rows).encode(),
        headers={"content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    return answer


def reconcile_b(world: World, attacker: Attacker) -> str:
    """A gateway list naming B's numbers, recorded: the attacker's own subjects only (the
    report echoes the list it was given: no leak)."""
    answer = attacker.call(
        "POST",
        "/v1/reconciliations/twilio?channel=whatsapp&record=true",
        content=("address\n" + "".join(f"{a}\n" for a in B_ADDRESSES)).encode(),
        headers={"content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["recorded"] == len(B_ADDRESSES)  # on the attacker's own subjects
    return mask(answer, *B_ADDRESSES)[1]


SUBJECT = "/v1/subjects/{channel}/{address}"
TENANT = "/v1/tenants/{tenant}"
CONTACT = "/v1/contacts/{contact_id}"
PROBES: dict[Route, Probe] = {
    ("GET", SUBJECT): same_for_b_as_for_nobody("GET", SUBJECT),
    ("GET", SUBJECT + "/history"): same_for_b_as_for_nobody("GET", SUBJECT + "/history"),
    ("GET", SUBJECT + "/attestation"): every_format(
        same_for_b_as_for_nobody, "GET", SUBJECT + "/attestation", ("json", "csv", "html")
    ),
    ("DELETE", SUBJECT + "/personal-data"): changes_nothing_of_b(erase),
    ("GET", SUBJECT + "/consent"): same_for_b_as_for_nobody(
        "GET", SUBJECT + "/consent?as_of=2026-11-30T00:00:00Z"
    ),
    ("GET", "/v1/operations/summary"): reads_nothing_of_b("GET", "/v1/operations/summary"),
    ("POST", "/v1/preference-links"): changes_nothing_of_b(preference_link_for_b),
    # Pages open with a session of one's own tenant only (the browser tests sign in as a
    # second tenant); without one they show nothing at all.
    ("GET", "/console"): global_leaks_nothing("GET", f"/console?channel=whatsapp&address={ALICE}"),
    ("GET", "/console/operations"): global_leaks_nothing("GET", "/console/operations"),
    ("GET", "/console/signin"): global_leaks_nothing("GET", "/console/signin"),
    ("POST", "/console/signin"): global_leaks_nothing("POST", "/console/signin"),
    ("POST", "/console/signout"): global_leaks_nothing("POST", "/console/signout"),
    ("GET", "/console/subjects/{channel}/{address}/attestation"): global_leaks_nothing(
        "GET", f"/console/subjects/whatsapp/{ALICE}/attestation"
    ),
    ("GET", "/p/{token}"): global_leaks_nothing("GET", "/p/not-a-token"),
    ("POST", "/p/{token}"): global_leaks_nothing("POST", "/p/not-a-token"),
    ("GET", CONTACT): contact_of_b("GET"),
    ("GET", CONTACT + "/history"): contact_of_b("GET", "/history"),
    ("GET", CONTACT + "/attestation"): contact_of_b("GET", "/attestation"),
    ("DELETE", CONTACT + "/personal-data"): contact_of_b("DELETE", "/personal-data"),
    ("POST", "/v1/eligibility"): same_for_b_as_for_nobody(
        "POST",
        "/v1/eligibility",
        json={"channel": "whatsapp", "purpose": "marketing", "addresses": [PH]},
    ),
    ("GET", "/v1/optin-requests/{request_id}/deliveries"): deliveries_of_b,
    ("GET", "/v1/outbound"): reads_nothing_of_b("GET", "/v1/outbound"),
    ("GET", "/v1/audiences/{channel}/{purpose}"): every_format(
        reads_nothing_of_b, "GET", "/v1/audiences/{channel}/{purpose}", ("ndjson", "csv")
    ),
    ("GET", "/v1/audiences/{channel}/{purpose}/count"): reads_nothing_of_b(
        "GET", "/v1/audiences/{channel}/{purpose}/count"
    ),
    ("GET", "/v1/suppressions/{channel}"): every_format(
        reads_nothing_of_b, "GET", "/v1/suppressions/{channel}", ("ndjson", "csv")
    ),
    ("POST", "/v1/campaigns/{campaign_id}/receipts"): changes_nothing_of_b(record_receipt),
    ("GET", "/v1/campaigns/{campaign_id}/receipts/{receipt_id}"): receipt_of_b,
    ("GET", SUBJECT + "/campaigns"): same_for_b_as_for_nobody("GET", SUBJECT + "/campaigns"),
    ("GET", SUBJECT + "/consent-records"): same_for_b_as_for_nobody(
        "GET", SUBJECT + "/consent-records"
    ),
    ("GET", "/v1/reports/revocations"): reads_nothing_of_b("GET", "/v1/reports/revocations"),
    ("POST", "/v1/events"): changes_nothing_of_b(post_events),
    ("POST", "/v1/messages/inbound"): changes_nothing_of_b(post_message),
    ("POST", "/v1/optin-requests"): changes_nothing_of_b(ask),
    ("POST", "/v1/imports"): changes_nothing_of_b(import_csv),
    ("GET", TENANT): tenant_settings("GET", TENANT),
    ("GET", TENANT + "/history"): tenant_settings("GET", TENANT + "/history"),
    ("PUT", TENANT + "/gateways/{gateway}"): tenant_settings(
        "PUT", TENANT + "/gateways/{gateway}", {"auth_token": "x", "webhook_url": "https://e.x/"}
    ),
    ("PUT", TENANT + "/keywords"): tenant_settings("PUT", TENANT + "/keywords", {}),
    ("PUT", TENANT + "/texts"): tenant_settings("PUT", TENANT + "/texts", {"help": "pwned"}),
    ("PUT", TENANT + "/request-window"): tenant_settings(
        "PUT", TENANT + "/request-window", {"seconds": 600}
    ),
    ("PUT", TENANT + "/first-message-request"): tenant_settings(
        "PUT", TENANT + "/first-message-request", {"enabled": False}
    ),
    ("PUT", TENANT + "/capture-methods"): tenant_settings(
        "PUT", TENANT + "/capture-methods", {"methods": ["kiosk"]}
    ),
    ("GET", "/v1/webhooks/whatsapp/{tenant}"): webhook_to_b("whatsapp", "GET"),
    ("POST", "/v1/webhooks/whatsapp/{tenant}"): webhook_to_b("whatsapp"),
    ("POST", "/v1/webhooks/twilio/{tenant}"): webhook_to_b("twilio"),
    ("POST", "/v1/webhooks/gupshup/{tenant}"): webhook_to_b("gupshup"),
    ("PUT", TENANT + "/subscriptions/{subscription_id}"): tenant_settings(
        "PUT",
        TENANT + "/subscriptions/{subscription_id}",
        {
            "url": "https://hooks.example.com/x",
            "secret": "whsec_c3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nz",
        },
    ),
    ("GET", TENANT + "/subscriptions"): tenant_settings("GET", TENANT + "/subscriptions"),
    ("GET", TENANT + "/subscriptions/{subscription_id}"): tenant_settings(
        "GET", TENANT + "/subscriptions/{subscription_id}"
    ),
    ("DELETE", TENANT + "/subscriptions/{subscription_id}"): tenant_settings(
        "DELETE", TENANT + "/subscriptions/{subscription_id}"
    ),
    ("GET", TENANT + "/subscriptions/{subscription_id}/deliveries"): tenant_settings(
        "GET", TENANT + "/subscriptions/{subscription_id}/deliveries"
    ),
    ("POST", TENANT + "/subscriptions/{subscription_id}/replay"): tenant_settings(
        "POST", TENANT + "/subscriptions/{subscription_id}/replay", {}
    ),
    (
        "POST",
        TENANT + "/subscriptions/{subscription_id}/deliveries/{delivery_id}/replay",
    ): tenant_settings(
        "POST", TENANT + "/subscriptions/{subscription_id}/deliveries/{delivery_id}/replay", {}
    ),
    (
        "POST",
        TENANT + "/subscriptions/{subscription_id}/deliveries/{delivery_id}/skip",
    ): tenant_settings(
        "POST", TENANT + "/subscriptions/{subscription_id}/deliveries/{delivery_id}/skip", {}
    ),
    ("PUT", TENANT + "/opt-out-scope"): tenant_settings(
        "PUT", TENANT + "/opt-out-scope", {"scope": "sender"}
    ),
    ("GET", TENANT + "/lapse-policy"): tenant_settings("GET", TENANT + "/lapse-policy"),
    ("PUT", TENANT + "/lapse-policy"): tenant_settings(
        "PUT", TENANT + "/lapse-policy", {"months": {"marketing": 1}}
    ),
    ("GET", TENANT + "/burst-guard"): tenant_settings("GET", TENANT + "/burst-guard"),
    ("PUT", TENANT + "/burst-guard"): tenant_settings(
        "PUT", TENANT + "/burst-guard", {"enabled": True, "max_opt_outs": 1, "window_seconds": 60}
    ),
    ("GET", "/v1/held-opt-outs"): reads_nothing_of_b("GET", "/v1/held-opt-outs"),
    ("POST", "/v1/held-opt-outs/release"): same_for_b_as_for_nobody(
        "POST", "/v1/held-opt-outs/release", json={"channel": "whatsapp", "addresses": [PH]}
    ),
    ("POST", "/v1/held-opt-outs/dismiss"): same_for_b_as_for_nobody(
        "POST", "/v1/held-opt-outs/dismiss", json={"channel": "whatsapp", "addresses": [PH]}
    ),
    ("POST", "/v1/held-opt-outs/{channel}/{address}/release"): same_for_b_as_for_nobody(
        "POST", "/v1/held-opt-outs/{channel}/{address}/release"
    ),
    ("POST", "/v1/held-opt-outs/{channel}/{address}/dismiss"): same_for_b_as_for_nobody(
        "POST", "/v1/held-opt-outs/{channel}/{address}/dismiss"
    ),
    ("POST", "/v1/imports/reassigned-numbers"): changes_nothing_of_b(reassigned_numbers),
    ("POST", "/v1/reconciliations/{gateway}"): changes_nothing_of_b(reconcile_b),
    ("GET", "/v1/checkpoints/latest"): global_leaks_nothing("GET", "/v1/checkpoints/latest"),
    ("GET", "/v1/proofs/consistency"): global_leaks_nothing(
        "GET", "/v1/proofs/consistency?from=1&to=2"
    ),
    ("GET", "/v1/public-key"): global_leaks_nothing("GET", "/v1/public-key"),
    ("GET", "/v1/public-keys"): global_leaks_nothing("GET", "/v1/public-keys"),
    ("GET", "/checkpoint"): global_leaks_nothing("GET", "/checkpoint"),
    ("GET", "/tile/{level}/{rest:path}"): global_leaks_nothing("GET", "/tile/0/000.p/1"),
    ("GET", SUBJECT + "/tlog-proofs"): same_for_b_as_for_nobody("GET", SUBJECT + "/tlog-proofs"),
    ("GET", "/healthz"): global_leaks_nothing("GET", "/healthz"),
    ("GET", "/readyz"): global_leaks_nothing("GET", "/readyz"),
    ("GET", "/metrics"): global_leaks_nothing("GET", "/metrics"),
    ("GET", "/openapi.json"): global_leaks_nothing("GET", "/openapi.json"),
    ("GET", "/docs"): global_leaks_nothing("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"): global_leaks_nothing("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"): global_leaks_nothing("GET", "/redoc"),
}


def test_every_route_is_probed(world: World) -> None:
    routes = set(app_routes(world.client.app))  # type: ignore[arg-type]
    assert not sorted(routes - PROBES.keys()), "routes without a probe in PROBES"


@pytest.mark.parametrize("route", sorted(PROBES), ids=lambda r: f"{r[0]} {r[1]}")
def test_another_tenant_gets_nothing_of_b(world: World, route: Route) -> None:
    PROBES[route](world)


def test_b_still_sees_all_of_its_own(world: World) -> None:
    """The probes' baseline is real: B's own keys do see what the attacker must not."""
    alice = world.client.get(f"/v1/subjects/whatsapp/{ALICE}", headers=world.b.headers("all"))
    assert alice.json()["purposes"]["marketing"]["status"] == "opted_in"
    deliveries = world.client.get(
        f"/v1/optin-requests/{world.request_id}/deliveries", headers=world.b.headers("all")
    )
    assert [d["status"] for d in deliveries.json()["deliveries"]] == ["sent"]
    count = world.client.get(
        "/v1/audiences/whatsapp/marketing/count", headers=world.b.headers("all")
    )
    assert count.json()["count"] >= 2
    assert json.loads(
        world.client.get("/v1/outbound?after=0", headers=world.b.headers("ingest")).text
    )["messages"]
