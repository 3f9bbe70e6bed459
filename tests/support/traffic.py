"""Mixed API traffic at a steady rate, as gateways and campaign systems send it: inbound
keywords (STOP, START, YES, NO, HELP, chatter), batches of consent events, opt-in
requests and status reads, for a fixed set of subjects of tenant ``acme`` on WhatsApp."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import uuid4

import httpx

from tests.support.fleet import client

TEXTS = ["STOP", "START", "stop promotions", "YES", "NO", "HELP", "hello"]


def addresses_of(subjects: int) -> list[str]:
    return [f"+1415666{n:04d}" for n in range(subjects)]


@dataclass
class Traffic:
    base: str
    key: str
    rate: float  # requests a second, all threads together
    subjects: int = 200
    threads: int = 4
    seed: int = 5
    answers: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # any answer not expected
    last_position: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        return addresses_of(self.subjects)

    def start(self) -> Traffic:
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        assert not any(w.is_alive() for w in self._workers), "traffic did not stop"

    def sent(self) -> int:
        with self._lock:
            return sum(self.answers.values())

    def _run(self, n: int) -> None:
        rng = random.Random(self.seed * 100 + n)
        interval = self.threads / self.rate
        next_at = time.monotonic()
        with client(self.base, self.key, timeout=30) as http:
            while not self._stop.is_set():
                next_at += interval
                self._one(http, rng)
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _one(self, http: httpx.Client, rng: random.Random) -> None:
        address = rng.choice(self.addresses)
        roll = rng.random()
        expected = {200}
        if roll < 0.55:
            response = http.post(
                "/v1/messages/inbound",
                json={
                    "channel": "whatsapp",
                    "from": address,
                    "text": rng.choice(TEXTS),
                    "message_id": uuid4().hex,
                    "occurred_at": datetime.now(UTC).isoformat(),
                },
            )
        elif roll < 0.75:
            response = http.post("/v1/events", json={"events": [self._event(rng, address)]})
        elif roll < 0.85:
            response = http.post(
                "/v1/optin-requests",
                json={
                    "channel": "whatsapp",
                    "address": address,
                    "purposes": ["marketing"],
                    "template": {"id": "welcome", "version": "1", "text": "Reply YES"},
                    "business_name": "Acme",
                },
            )
            expected = {201, 409, 422}  # 409 while one is pending; 422 after an opt-out
        else:
            response = http.get(f"/v1/subjects/whatsapp/{address}")
            expected = {200, 404}
        with self._lock:
            self.answers[response.status_code] += 1
            if response.status_code not in expected:
                self.failures.append(f"{response.status_code} {response.text[:200]}")
            elif response.status_code in (200, 201) and "position" in response.text:
                self._note_position(response.json())

    def _note_position(self, body: dict[str, object]) -> None:
        positions = [body.get("position")]
        results = body.get("results")
        if isinstance(results, list):
            positions += [r.get("position") for r in results if isinstance(r, dict)]
        for position in positions:
            if isinstance(position, int):
                self.last_position = max(self.last_position, position)

    def _event(self, rng: random.Random, address: str) -> dict[str, object]:
        return {
            "type": rng.choice(["opted_in", "opted_out"]),
            "channel": "whatsapp",
            "address": address,
            "purposes": [rng.choice(["marketing", "utility"])],
            "occurred_at": datetime.now(UTC).isoformat(),
            "source": {"kind": "web_form", "id": uuid4().hex},
            "evidence": {"method": "web_form", "text": "I agree"},
        }
