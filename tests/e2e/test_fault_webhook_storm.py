"""Hundreds of redelivered, reordered, concurrent WhatsApp webhooks for one subject, from
several threads into ``serve --workers 2`` on PostgreSQL: exactly one event per distinct
message, a gapless hash chain, and the status of the message that occurred last."""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fleet import Fleet, client
from tests.support.gateways import wa_body, wa_messages, wa_payload, wa_sign, wa_text
from tests.support.processes import clean_env
from tests.support.webhooks import APP_SECRET, GATEWAYS

SENDER = "16315550123"
MESSAGES = 240  # distinct messages; each delivered three times
THREADS = 8


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str) -> Iterator[Fleet]:
    running = Fleet(tmp_path, clean_env(DATABASE_URL=pg_url))
    yield running
    running.stop_all()


def test_a_storm_of_redelivered_reordered_concurrent_webhooks_records_each_message_once(
    fleet: Fleet,
) -> None:
    # Given serve with two worker processes, and the tenant's WhatsApp gateway
    key = fleet.key("ingest,auditor,admin")
    base = fleet.serve("--workers", "2")
    api = client(base, key)
    configured = api.put("/v1/tenants/acme/gateways/whatsapp", json=GATEWAYS["whatsapp"])
    assert configured.status_code == 200, configured.text
    # 240 messages a second apart, STOP and START alternating, the last one (in time) a STOP
    start = 1_790_000_000
    texts = {f"wamid.storm.{n}": ("START" if n % 2 else "STOP") for n in range(MESSAGES)}
    stamps = {wamid: start + (MESSAGES - n) for n, wamid in enumerate(texts)}  # 0 is newest
    # When each is delivered three times, in random order, in payloads of one to four
    # messages, by eight threads at once
    rng = random.Random(13)
    deliveries = [wamid for wamid in texts for _ in range(3)]
    rng.shuffle(deliveries)
    payloads: list[list[str]] = []
    while deliveries:
        size = rng.randint(1, 4)
        chunk, deliveries = deliveries[:size], deliveries[size:]
        payloads.append(list(dict.fromkeys(chunk)))  # one payload never repeats a message
    answers: Counter[int] = Counter()
    recorded = Counter[str]()
    lock = threading.Lock()

    def deliver(share: list[list[str]]) -> None:
        with client(base, key) as http:
            for wamids in share:
                body = wa_body(
                    wa_payload(
                        wa_messages(
                            *(wa_text(w, SENDER, texts[w], timestamp=stamps[w]) for w in wamids)
                        )
                    )
                )
                response = http.post(
                    "/v1/webhooks/whatsapp/acme",
                    content=body,
                    headers={
                        "X-Hub-Signature-256": wa_sign(APP_SECRET, body),
                        "content-type": "application/json",
                    },
                )
                with lock:
                    answers[response.status_code] += 1
                    if response.status_code == 200:
                        recorded["recorded"] += response.json()["recorded"]
                        recorded["duplicates"] += response.json()["duplicates"]

    threads = [
        threading.Thread(target=deliver, args=(payloads[t::THREADS],)) for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)

    # Then every delivery was answered 200, each message recorded once, the rest duplicates
    assert answers == {200: len(payloads)}
    delivered = sum(len(wamids) for wamids in payloads)
    assert delivered > MESSAGES * 2
    assert recorded == {"recorded": MESSAGES, "duplicates": delivered - MESSAGES}
    history = api.get(f"/v1/subjects/whatsapp/+{SENDER}/history").json()["events"]
    assert sorted(e["source"]["id"] for e in history) == sorted(texts)
    assert [e["version"] for e in history] == list(range(1, MESSAGES + 1))
    for earlier, later in itertools.pairwise(history):
        assert later["prev_hash"] == earlier["hash"]
    kinds = Counter(e["type"] for e in history)
    assert kinds == {"opted_out": MESSAGES // 2, "opted_in": MESSAGES // 2}
    # and the status is the one of the message that occurred last, whatever arrived last
    newest = next(e for e in history if e["source"]["id"] == "wamid.storm.0")
    status = api.get(f"/v1/subjects/whatsapp/+{SENDER}").json()["purposes"]
    assert status["*"]["status"] == "opted_out"
    assert status["*"]["event_id"] == newest["event_id"]
    assert all(p["status"] == "opted_out" for p in status.values())
