"""The webhook sender as a process would run it, on both backends: stopped mid-backlog
and started again, nothing is lost or reordered per subject; an endpoint that resolves
to a blocked address at delivery time is never called."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from ledger.application.consent_ledger import ConsentLedger
from ledger.crypto.secret_box import SecretBox
from ledger.domain.subjects import subject_id
from ledger.domain.webhooks.endpoints import EndpointPolicy
from ledger.persistence.webhook_outbox import DEAD, DELIVERED, PENDING, WebhookOutbox
from ledger.publishing.webhooks.sender import WebhookSender
from ledger.publishing.webhooks.settings import DeliverSettings
from ledger.runtime.metrics import WEBHOOK_FAILURES
from ledger.runtime.storage_settings import StorageSettings
from tests.e2e.conftest import Api
from tests.e2e.test_downstream_webhooks import PEOPLE, say, start_api, subscribe
from tests.support.receiver import Receiver, running_receiver

OPEN = EndpointPolicy(allow_http=True, allow_private=True)
FAST = DeliverSettings(
    poll_seconds=0.05, retry_base_seconds=0.05, retry_max_seconds=0.2, concurrency=2
)


@pytest.fixture
def api(storage: StorageSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """An API that registers loopback endpoints and does not deliver itself."""
    monkeypatch.setenv("CONSENT_LEDGER_WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("CONSENT_LEDGER_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("CONSENT_LEDGER_DELIVER_IN_SERVE", "false")
    yield from start_api(storage)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def ledger_of(api: Api) -> ConsentLedger:
    ledger: ConsentLedger = api.client.app.state.services.ledger  # type: ignore[attr-defined]
    return ledger


def start_sender(
    api: Api, policy: EndpointPolicy = OPEN, stop: threading.Event | None = None
) -> tuple[threading.Event, threading.Thread]:
    sender = WebhookSender(ledger_of(api), FAST, policy, SecretBox(None))
    stop = stop or threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop,))
    thread.start()
    return stop, thread


def first_acceptances(receiver: Receiver) -> list[dict[str, Any]]:
    seen: set[str] = set()
    firsts = []
    for item in receiver.accepted():
        if item.event["id"] not in seen:
            seen.add(item.event["id"])
            firsts.append(item.event)
    return firsts


def test_a_sender_stopped_mid_backlog_resumes_losing_and_reordering_nothing(
    api: Api, receiver: Receiver
) -> None:
    # Given a backlog of twelve changes of three people for one subscription
    subscribe(api, receiver.url)
    expected: dict[str, list[int]] = {}
    for round_ in range(4):
        for n, person in enumerate(PEOPLE):
            result = say(api, person, "STOP" if round_ % 2 == 0 else "START", f"m{round_}{n}")
            expected.setdefault(result["subject_id"], []).append(result["position"])
    # When the sender is stopped (as by SIGTERM) as its fourth delivery is answered
    stopping = threading.Event()
    answered = iter(range(1, 1000))
    receiver.respond = lambda e: 200 if next(answered) < 4 else (stopping.set(), 200)[1]
    stop, thread = start_sender(api, stop=stopping)
    thread.join(timeout=60)
    assert not thread.is_alive()
    outbox = WebhookOutbox(ledger_of(api).recorder)
    assert outbox.counts()[0][PENDING] > 0, "the first sender was meant to stop mid-backlog"
    # And a new sender starts from the outbox
    receiver.respond = lambda e: 200
    stop, thread = start_sender(api)
    try:
        receiver.wait_until(lambda r: len({i.event["id"] for i in r.accepted()}) == 12)
    finally:
        stop.set()
        thread.join(timeout=60)
    # Then every change arrived, each subject's in ledger order
    got: dict[str, list[int]] = {}
    for event in first_acceptances(receiver):
        got.setdefault(event["subject"], []).append(event["ledgerposition"])
    assert got == expected
    assert outbox.counts()[0][DELIVERED] == 12


def test_an_endpoint_resolving_to_a_blocked_address_is_not_called(
    api: Api, receiver: Receiver
) -> None:
    # Given a subscription registered while private addresses were allowed
    subscribe(api, receiver.url)
    before = WEBHOOK_FAILURES.labels("blocked_address")._value.get()
    # When the sender runs with the strict policy (no private or loopback addresses)
    say(api, PEOPLE[0], "STOP", "m1")
    stop, thread = start_sender(api, EndpointPolicy(allow_http=True))
    outbox = WebhookOutbox(ledger_of(api).recorder)
    try:
        start = time.monotonic()
        while WEBHOOK_FAILURES.labels("blocked_address")._value.get() == before:
            assert time.monotonic() - start < 60, "the sender never tried"
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=60)
    # Then nothing reached the receiver, and the delivery waits (counted, with the reason)
    assert receiver.requests == []
    [row] = outbox.of_subscription("acme", "crm", None, 10)
    assert row.status == PENDING
    assert row.last_error is not None
    assert "127.0.0.1" in row.last_error


def test_delivered_rows_are_forgotten_after_the_keep_time_dead_ones_are_not(
    api: Api, receiver: Receiver
) -> None:
    # Given a receiver that refuses Bob's changes, and a sender that keeps nothing delivered
    bob = subject_id("acme", "whatsapp", PEOPLE[1])
    receiver.respond = lambda e: 500 if UUID(e["subject"]) == bob else 200
    subscribe(api, receiver.url)
    say(api, PEOPLE[0], "STOP", "m1")
    say(api, PEOPLE[1], "STOP", "m2")
    settings = FAST.model_copy(update={"keep_seconds": 0.0, "max_attempts": 1})
    sender = WebhookSender(ledger_of(api), settings, OPEN, SecretBox(None))
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop,))
    thread.start()
    outbox = WebhookOutbox(ledger_of(api).recorder)
    try:
        # When Alice's change is delivered and Bob's is dead
        start = time.monotonic()
        while [d.status for d in outbox.of_subscription("acme", "crm", None, 10)] != [DEAD]:
            assert time.monotonic() - start < 60, outbox.of_subscription("acme", "crm", None, 10)
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=60)
    # Then only the dead letter is left, waiting for an admin
    assert len(receiver.accepted()) == 1
