"""``kill -9`` of ``serve`` during a 10,000-event batch: all of it is stored, or none.

Killed twice: while the batch is being read and decided, and while its rows are being
inserted (seen in ``pg_stat_activity``). Then the client's retry of the same batch
completes it, each event exactly once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.schemas import MAX_BATCH
from tests.support.event_batches import opt_in_batch
from tests.support.fleet import Fleet, client
from tests.support.kafka import wait_until
from tests.support.processes import clean_env

BATCH = 10_000


@pytest.fixture
def fleet(tmp_path: Path, pg_url: str) -> Iterator[Fleet]:
    running = Fleet(tmp_path, clean_env(DATABASE_URL=pg_url))
    yield running
    running.stop_all()


def batch(run: str) -> dict[str, Any]:
    return opt_in_batch(run, BATCH)


def stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM consentledger_events").fetchone()
    return int(row[0]) if row else 0


def inserting(url: str) -> bool:
    """A statement inserting into the events table is running now."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' "
            "AND query ILIKE '%INSERT INTO%consentledger_events%'"
        ).fetchone()
    return bool(row and row[0])


def post_in_background(base: str, key: str, body: dict[str, Any]) -> list[Any]:
    outcome: list[Any] = []

    def post() -> None:
        try:
            outcome.append(client(base, key, timeout=120).post("/v1/events", json=body))
        except httpx.HTTPError as error:
            outcome.append(error)

    threading.Thread(target=post, daemon=True).start()
    return outcome


def test_kill_9_during_a_10000_event_batch_stores_all_of_it_or_none(
    fleet: Fleet, pg_url: str
) -> None:
    assert MAX_BATCH == BATCH  # the batch limit stays 10,000
    key = fleet.key("ingest")
    killed_in_flight = 0
    sent: list[str] = []  # every batch sent, killed or not: the retries below resend them
    for moment in ("deciding", "inserting"):
        # The insert is one short round trip: a poll may miss it and the batch finish
        # first, which tests nothing. Such a round is run again with a new batch.
        for _attempt in range(5):
            base = fleet.serve("--workers", "1")
            before = stored(pg_url)
            name = f"r{len(sent)}"
            sent.append(name)
            outcome = post_in_background(base, key, batch(name))
            if moment == "deciding":
                time.sleep(0.3)
            else:
                wait_until(
                    lambda outcome=outcome: inserting(pg_url) or bool(outcome),
                    timeout=120,
                    message="insert",
                )
            fleet.processes["serve"].kill()
            fleet.processes["serve"].wait(timeout=10)
            wait_until(lambda outcome=outcome: bool(outcome), timeout=30, message="the answer")
            # All of the batch, or none of it
            assert stored(pg_url) - before in (0, BATCH), moment
            if isinstance(outcome[0], httpx.HTTPError):
                killed_in_flight += 1
                break
    assert killed_in_flight == 2, "no batch was killed in flight in one of the rounds"

    # The client retries every batch on a restarted server: each event exactly once
    base = fleet.serve("--workers", "1")
    api = client(base, key, timeout=300)
    for name in sent:
        answer = api.post("/v1/events", json=batch(name))
        assert answer.status_code == 200, answer.text
    assert stored(pg_url) == len(sent) * BATCH
