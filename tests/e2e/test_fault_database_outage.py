"""PostgreSQL stopped in the middle of a write load, under a real ``serve``: every write
answers at once (``503 unavailable`` with ``Retry-After`` within about 2 s, never a
hang), no batch is stored in part, and writes succeed again when the database returns,
with the same ``serve`` process (nothing restarted).

(``tests/integration/test_database_faults.py`` covers the ledger alone and
``tests/e2e/test_readiness_outage.py`` the readiness answers; this one is the HTTP
client's view under load.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.fleet import Fleet, client, metric
from tests.support.kafka import wait_until
from tests.support.postgres import EmbeddedServer, fresh_database
from tests.support.processes import clean_env

PER_BATCH = 20
# The promise is about 2 s; the margin is for a loaded two-core machine.
ANSWER_BOUND = 3.5


@dataclass
class Answer:
    address: str
    status: int
    seconds: float
    retry_after: str | None
    code: str | None


@pytest.fixture
def database() -> Iterator[tuple[EmbeddedServer, str]]:
    server = EmbeddedServer()  # this test's own: it stops it
    try:
        with fresh_database(server.conninfo) as url:
            yield server, url
    finally:
        server.close()


def batch(address: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "events": [
            {
                "type": "opted_out" if n % 2 else "opted_in",
                "channel": "whatsapp",
                "address": address,
                "purposes": ["marketing"],
                "occurred_at": now,
                "source": {"kind": "api", "id": f"{address}-{n}"},
                "evidence": {"method": "api"},
            }
            for n in range(PER_BATCH)
        ]
    }


def test_a_database_stopped_mid_load_gets_quick_503s_no_partial_batch_and_recovery(
    tmp_path: Path, database: tuple[EmbeddedServer, str]
) -> None:
    server, url = database
    fleet = Fleet(tmp_path, clean_env(DATABASE_URL=url, CONSENT_LEDGER_DB_CONNECT_TIMEOUT="1"))
    try:
        key = fleet.key("ingest,auditor")
        base = fleet.serve("--workers", "1")
        serve_pid = fleet.processes["serve"].pid
        answers: list[Answer] = []
        lock = threading.Lock()
        done = threading.Event()

        def load(worker: int) -> None:
            with client(base, key, timeout=30) as http:
                for n in range(1_000_000):
                    if done.is_set():
                        return
                    address = f"+1415{worker:03d}{n:04d}"
                    started = time.monotonic()
                    response = http.post("/v1/events", json=batch(address))
                    error = response.json().get("error") if response.status_code != 200 else None
                    with lock:
                        answers.append(
                            Answer(
                                address,
                                response.status_code,
                                time.monotonic() - started,
                                response.headers.get("Retry-After"),
                                error["code"] if error else None,
                            )
                        )

        threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(answers) >= 8, timeout=60, message="load before the outage")
        # When PostgreSQL stops in the middle of the load
        server.stop()
        down = len(answers)
        wait_until(
            lambda: sum(a.status == 503 for a in answers[down:]) >= 12,
            timeout=60,
            message="503s during the outage",
        )
        # ... and comes back, with the same serve still running
        server.start()
        back = len(answers)
        wait_until(
            lambda: sum(a.status == 200 for a in answers[back:]) >= 8,
            timeout=90,
            message="writes succeeding again",
        )
        done.set()
        for thread in threads:
            thread.join(timeout=60)
        assert fleet.processes["serve"].poll() is None
        assert fleet.processes["serve"].pid == serve_pid

        # Then every answer was 200 or a quick 503 unavailable with Retry-After
        assert {a.status for a in answers} == {200, 503}
        refused = [a for a in answers if a.status == 503]
        assert all(a.code == "unavailable" and a.retry_after for a in refused)
        slowest = max(a.seconds for a in refused)
        assert slowest < ANSWER_BOUND, f"a 503 took {slowest:.2f} s"
        # ... and no batch was stored in part: an accepted one whole, a refused one whole
        # or not at all (a commit can succeed as its connection breaks)
        api = client(base, key)
        reads_refused: list[int] = []
        for answer in answers:
            path = f"/v1/subjects/whatsapp/{answer.address}/history"
            history = read_after_recovery(api, path, reads_refused)
            events = history.json()["events"] if history.status_code == 200 else []
            assert history.status_code in (200, 404), history.text
            expected = {PER_BATCH} if answer.status == 200 else {0, PER_BATCH}
            assert len(events) in expected, (answer, len(events))
        # ... and every 503 the clients got is counted as the database being away, the
        # writes' and the reads' alike (and an API key checked during the outage)
        away = metric(base, "consent_ledger_database_away_answers_total")
        assert away == len(refused) + len(reads_refused)
    finally:
        fleet.stop_all()


def read_after_recovery(api: httpx.Client, path: str, refused: list[int]) -> httpx.Response:
    """A read as a client makes it: while the library's pool is still reconnecting the
    answer is a 503 with Retry-After (never a 500), and the read is made again."""
    deadline = time.monotonic() + 30
    while True:
        response = api.get(path)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        refused.append(response.status_code)
        assert response.json()["error"]["code"] == "unavailable"
        assert response.headers.get("Retry-After")
        time.sleep(float(response.headers["Retry-After"]) / 4)
