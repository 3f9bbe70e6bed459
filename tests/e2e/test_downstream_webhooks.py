"""Downstream webhooks through the HTTP API, on both backends, to a real receiver:
every consent change arrives as the CloudEvent Kafka carries, signed per Standard
Webhooks, at least once and in order per subject, through failures, dead letters and
replays."""

from __future__ import annotations

import base64
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve_settings import ServeSettings
from ledger.crypto.webhook_signatures import verify
from ledger.domain.subjects import subject_id
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api, issue_keys
from tests.support.receiver import Receiver, running_receiver

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
KEY = b"k" * 32
PEOPLE = ["+14155550101", "+14155550102", "+14155550103"]
FAST_SENDER = {
    "CONSENT_LEDGER_WEBHOOK_ALLOW_HTTP": "true",
    "CONSENT_LEDGER_WEBHOOK_ALLOW_PRIVATE": "true",
    "CONSENT_LEDGER_DELIVER_IN_SERVE": "true",
    "CONSENT_LEDGER_DELIVER_POLL_SECONDS": "0.05",
    "CONSENT_LEDGER_DELIVER_RETRY_BASE_SECONDS": "0.05",
    "CONSENT_LEDGER_DELIVER_RETRY_MAX_SECONDS": "0.2",
}


def start_api(storage: StorageSettings) -> Iterator[Api]:
    keys = issue_keys(storage)
    # The test client is no loopback peer: /metrics is opened to it (as in tests/e2e/conftest).
    settings = ServeSettings(read_wait_seconds=2.0, seal_every_seconds=0, metrics_public=True)
    with TestClient(create_app(settings, storage)) as client:
        yield Api(client, keys)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def fast_api(
    storage: StorageSettings, monkeypatch: pytest.MonkeyPatch, *, max_attempts: int
) -> Iterator[Api]:
    """An API whose in-process sender delivers to plain-http loopback receivers, fast."""
    for name, value in FAST_SENDER.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CONSENT_LEDGER_DELIVER_MAX_ATTEMPTS", str(max_attempts))
    yield from start_api(storage)


@pytest.fixture
def hooks(storage: StorageSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """A fast sender whose deliveries die after three attempts."""
    yield from fast_api(storage, monkeypatch, max_attempts=3)


@pytest.fixture
def patient_hooks(storage: StorageSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """A fast sender whose deliveries die only after six attempts: more than the five
    failures the recovering receiver gives, however they fall on the deliveries."""
    yield from fast_api(storage, monkeypatch, max_attempts=6)


def subscribe(api: Api, url: str, *, sub: str = "crm", **extra: Any) -> dict[str, Any]:
    response = api.client.put(
        f"/v1/tenants/acme/subscriptions/{sub}",
        json={"url": url, "secret": SECRET, **extra},
        headers=api.headers("admin"),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def say(api: Api, address: str, text: str, message_id: str) -> dict[str, Any]:
    response = api.client.post(
        "/v1/messages/inbound",
        headers=api.headers(),
        json={
            "channel": "whatsapp",
            "from": address,
            "text": text,
            "message_id": message_id,
            "occurred_at": "2026-11-21T10:00:00Z",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["action"] in ("opted_out", "opted_in"), body
    return body


def by_subject(received: list[Any]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = defaultdict(list)
    for item in received:
        positions[item.event["subject"]].append(item.event["ledgerposition"])
    return positions


def deliveries(api: Api, status: str | None = None, sub: str = "crm") -> list[dict[str, Any]]:
    query = f"?status={status}" if status else ""
    response = api.client.get(
        f"/v1/tenants/acme/subscriptions/{sub}/deliveries{query}", headers=api.headers("admin")
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


def wait_for_status(api: Api, status: str, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(deliveries(api, status)) < count:
        assert time.monotonic() < deadline, f"no {count} {status} deliveries: {deliveries(api)}"
        time.sleep(0.05)


def test_every_change_arrives_signed_as_the_kafka_cloudevent(
    hooks: Api, receiver: Receiver
) -> None:
    # Given a subscription of the tenant's CRM
    subscribed = subscribe(hooks, receiver.url)
    assert "secret" not in subscribed
    # When two people opt out and one opts back in
    results = [
        say(hooks, PEOPLE[0], "STOP", "m1"),
        say(hooks, PEOPLE[1], "STOP", "m2"),
        say(hooks, PEOPLE[0], "START", "m3"),
    ]
    # Then the receiver gets each change once, verifiably signed
    receiver.wait_until(lambda r: len(r.accepted()) == 3)
    got = receiver.accepted()
    for item in got:
        assert verify(KEY, item.headers, item.body, now=int(time.time()))
        assert item.headers["content-type"] == "application/cloudevents+json"
    events = sorted((item.event for item in got), key=lambda e: e["ledgerposition"])
    assert [e["id"] for e in events] == [r["event_id"] for r in results]
    assert [e["type"] for e in events] == ["consent.opted_out"] * 2 + ["consent.opted_in"]
    assert all(e["specversion"] == "1.0" and e["data"]["hash"] for e in events)
    # And the webhook-id is the delivery the admin API lists as delivered
    wait_for_status(hooks, "delivered", 3)
    assert {d["delivery_id"] for d in deliveries(hooks)} == {i.headers["webhook-id"] for i in got}
    # And serve's /metrics shows the outbox by status and the sender's lag
    metrics = hooks.client.get("/metrics").text
    assert 'consent_ledger_webhook_outbox_rows{status="delivered"}' in metrics
    assert "consent_ledger_webhook_oldest_pending_seconds" in metrics


def test_event_types_filter_what_a_subscription_receives(hooks: Api, receiver: Receiver) -> None:
    subscribe(hooks, receiver.url, event_types=["opted_out"])
    say(hooks, PEOPLE[0], "STOP", "m1")
    say(hooks, PEOPLE[0], "START", "m2")
    say(hooks, PEOPLE[1], "STOP", "m3")
    receiver.wait_until(lambda r: len(r.accepted()) == 2)
    wait_for_status(hooks, "delivered", 2)
    assert {item.event["type"] for item in receiver.accepted()} == {"consent.opted_out"}


def test_a_receiver_that_fails_then_recovers_gets_everything_in_order_per_subject(
    patient_hooks: Api, receiver: Receiver
) -> None:
    # (With three attempts, five failures could all fall on the first subject's first
    # change when the others are slow to arrive, and kill it: a slow CI host did that.)
    hooks = patient_hooks
    # Given a receiver that answers 503 to its first five requests
    answers = iter([503] * 5)
    receiver.respond = lambda event: next(answers, 200)
    subscribe(hooks, receiver.url)
    # When three people change their minds several times
    expected: dict[str, list[int]] = defaultdict(list)
    for round_ in range(3):
        for n, person in enumerate(PEOPLE):
            result = say(hooks, person, "STOP" if round_ % 2 == 0 else "START", f"m{round_}{n}")
            expected[result["subject_id"]].append(result["position"])
    # Then every change is accepted once the receiver recovers, each subject's in order
    receiver.wait_until(lambda r: len(r.accepted()) >= 9)
    assert sum(1 for r in receiver.requests if r.status == 503) == 5
    assert by_subject(receiver.accepted()) == expected


def test_a_dead_delivery_holds_its_subject_back_until_replayed_and_skip_lets_others_go(
    hooks: Api, receiver: Receiver
) -> None:
    # Given a receiver that refuses Alice's opt-out
    refused = {(subject_id("acme", "whatsapp", PEOPLE[0]), "consent.opted_out")}
    receiver.respond = lambda e: 500 if (UUID(e["subject"]), e["type"]) in refused else 200
    subscribe(hooks, receiver.url)
    alice = say(hooks, PEOPLE[0], "STOP", "m1")
    later = say(hooks, PEOPLE[0], "START", "m2")
    bob = say(hooks, PEOPLE[1], "STOP", "m3")
    # When its three attempts fail, it is dead; Bob's change goes through, Alice's waits
    wait_for_status(hooks, "dead", 1)
    receiver.wait_until(lambda r: any(i.event["id"] == bob["event_id"] for i in r.accepted()))
    [dead] = deliveries(hooks, "dead")
    assert (dead["event_id"], dead["attempts"], dead["last_status_code"]) == (
        alice["event_id"],
        3,
        500,
    )
    assert [d["event_id"] for d in deliveries(hooks, "pending")] == [later["event_id"]]
    assert all(i.event["id"] != later["event_id"] for i in receiver.requests)
    # When the receiver is fixed and the admin replays the dead letter
    refused.clear()
    replay = hooks.client.post(
        "/v1/tenants/acme/subscriptions/crm/replay", headers=hooks.headers("admin")
    )
    assert replay.json() == {"count": 1}
    # Then Alice's changes arrive, in order
    receiver.wait_until(lambda r: len(r.accepted()) == 3)
    assert by_subject(receiver.accepted())[alice["subject_id"]] == [
        alice["position"],
        later["position"],
    ]
    # And a failing delivery that is skipped no longer holds the subject back
    receiver.respond = lambda e: (
        500 if (e["subject"], e["type"]) == (bob["subject_id"], "consent.opted_in") else 200
    )
    stuck = say(hooks, PEOPLE[1], "START", "m4")
    bob_after = say(hooks, PEOPLE[1], "STOP", "m5")
    receiver.wait_until(lambda r: any(i.event["id"] == stuck["event_id"] for i in r.requests))
    [held] = [d for d in deliveries(hooks) if d["event_id"] == stuck["event_id"]]
    skipped = hooks.client.post(
        f"/v1/tenants/acme/subscriptions/crm/deliveries/{held['delivery_id']}/skip",
        headers=hooks.headers("admin"),
    )
    assert skipped.status_code == 200, skipped.text
    receiver.wait_until(lambda r: any(i.event["id"] == bob_after["event_id"] for i in r.accepted()))
    assert all(i.event["id"] != stuck["event_id"] for i in receiver.accepted())


def test_after_a_secret_is_replaced_deliveries_are_signed_with_both_for_the_overlap(
    hooks: Api, receiver: Receiver
) -> None:
    # Given a subscription whose secret the admin replaces
    subscribe(hooks, receiver.url)
    new_key = b"n" * 32
    replaced = hooks.client.put(
        "/v1/tenants/acme/subscriptions/crm",
        json={"url": receiver.url, "secret": "whsec_" + base64.b64encode(new_key).decode()},
        headers=hooks.headers("admin"),
    ).json()
    assert replaced["previous_secret_until"] is not None
    # When a change is delivered
    say(hooks, PEOPLE[0], "STOP", "m1")
    receiver.wait_until(lambda r: len(r.accepted()) == 1)
    [item] = receiver.accepted()
    # Then receivers holding either secret verify it (two v1 signatures)
    assert len(item.headers["webhook-signature"].split(" ")) == 2
    assert verify(new_key, item.headers, item.body, now=int(time.time()))
    assert verify(KEY, item.headers, item.body, now=int(time.time()))
